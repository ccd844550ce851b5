"""The class prior of jun2018's sampling, undone at prediction: judged on validation beats only.

``balance: sqrt`` draws each class in proportion to the square root of its number of training
images, so the network learns the class prior of that draw, not the beats' own. Bayes' rule
undoes it (Saerens et al. 2002): multiply each class probability by the class's share of the
training beats over its share of the draw, and renormalise. Nothing is tuned: both shares come
from the fold's training rows.

For each trained model folder (a cv fold's ``results/jun2018/cv/foldK``), the fold's
validation beats are rebuilt exactly as training held them out
(:func:`ecg2d.train.prepare_rows` with the workflow's seed) and classified from their original
images, with and without the correction. Validation accuracy, balanced accuracy (macro Se) and
macro F1 (the training callback's definitions), per fold and as paired differences. The test
beats are never read.

    .venv/bin/python bench/jun2018_prior.py --root /tmp/s22/run16 \\
        --fold results/jun2018/cv/fold1 --fold results/jun2018/cv/fold2
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

FIGURES = ("accuracy", "balanced_accuracy", "macro_f1")


def scores(y: np.ndarray, proba: np.ndarray, n_classes: int) -> dict:
    """Accuracy, balanced accuracy and macro F1 (%), as the training callback computes them
    (:func:`ecg2d.callbacks.validation_scores`)."""
    from ecg2d.callbacks import validation_scores

    val = validation_scores(y, proba, n_classes)
    return {
        key: round(100 * val[f"val_{key}"], 3)
        for key in ("accuracy", "balanced_accuracy", "macro_f1")
    }


def paired(rows: list[dict], variants, baseline: str, figures=FIGURES) -> dict:
    """Per variant (a key of each row's ``scores``) and figure: the mean over models, and the
    mean, SE and minimum of the per-model difference against ``baseline``'s."""
    out = {}
    for v in variants:
        out[v] = {}
        for key in figures:
            values = np.array([r["scores"][v][key] for r in rows])
            diffs = values - np.array([r["scores"][baseline][key] for r in rows])
            se = float(diffs.std(ddof=1) / np.sqrt(len(diffs))) if len(diffs) > 1 else None
            out[v][key] = {
                "mean": round(float(values.mean()), 3),
                "mean_difference": round(float(diffs.mean()), 3),
                "se": None if se is None else round(se, 3),
                "min_difference": round(float(diffs.min()), 3),
            }
    return out


def prior_ratio(fit_rows, classes: list[str], power: float) -> np.ndarray:
    """Per class: its share of the training beats (originals) over its share of the draw
    (images, crops included, to the sampling ``power``), as :class:`ecg2d.feed.BeatBatches`
    draws them (:func:`ecg2d.feed.draw_shares`)."""
    from ecg2d.feed import draw_shares

    images = fit_rows["label"].value_counts().reindex(classes, fill_value=0).to_numpy(float)
    beats = (
        fit_rows[fit_rows["augmented"] == 0]["label"]
        .value_counts()
        .reindex(classes, fill_value=0)
        .to_numpy(float)
    )
    drawn = draw_shares(images, power)
    return (beats / beats.sum()) / np.where(drawn > 0, drawn, np.inf)


def correct(proba: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """Probabilities times the prior ratio, renormalised."""
    out = proba * ratio
    return out / out.sum(axis=1, keepdims=True)


def validation_proba(folder: Path, manifest_path, experiment: dict, seed: int, root):
    """A trained model (``folder/model.h5``) on its own validation beats, rebuilt from
    ``manifest_path`` exactly as training held them out (:func:`ecg2d.train.prepare_rows` with
    its training ``seed``): ``(classifier, training rows, validation rows, probabilities,
    true class indices)``."""
    from ecg2d.classifier import Classifier
    from ecg2d.evaluate import predict_rows
    from ecg2d.settings import resolve_settings
    from ecg2d.split import read_table
    from ecg2d.train import prepare_rows

    classifier = Classifier.load(Path(folder) / "model.h5")
    manifest = read_table(manifest_path)
    fit, val = prepare_rows(manifest, experiment, resolve_settings(experiment), seed)
    proba = predict_rows(classifier, val, root=root)
    y = np.array([classifier.classes.index(label) for label in val["label"]])
    return classifier, fit, val, proba, y


def main() -> None:
    from ds1_cv import machine

    from ecg2d.model import limit_threads

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True, help="working directory of the run")
    parser.add_argument("--fold", action="append", required=True, help="model folder under --root")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(REPO / "bench/results/jun2018_prior.json"))
    args = parser.parse_args()
    limit_threads(args.threads)

    from ecg2d.settings import resolve_settings
    from ecg2d.train import SAMPLING_POWER

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    experiment = config["experiments"]["jun2018"]
    settings = resolve_settings(experiment)
    root = Path(args.root)
    rows = []
    for fold in args.fold:
        folder = root / fold
        classifier, fit, val, proba, y = validation_proba(
            folder, folder / "manifest.csv", experiment, config["seed"], root
        )
        ratio = prior_ratio(fit, classifier.classes, SAMPLING_POWER[settings.train.balance])
        n = len(classifier.classes)
        row = {
            "fold": fold,
            "best_epoch": classifier.info.get("best_epoch"),
            "validation_beats": len(val),
            "prior_ratio": dict(zip(classifier.classes, np.round(ratio, 4).tolist())),
            "plain": scores(y, proba, n),
            "corrected": scores(y, correct(proba, ratio), n),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary = {}
    for key in ("accuracy", "balanced_accuracy", "macro_f1"):
        diffs = [r["corrected"][key] - r["plain"][key] for r in rows]
        summary[key] = {
            "plain": round(float(np.mean([r["plain"][key] for r in rows])), 3),
            "corrected": round(float(np.mean([r["corrected"][key] for r in rows])), 3),
            "mean_difference": round(float(np.mean(diffs)), 3),
            "se": round(float(np.std(diffs, ddof=1) / np.sqrt(len(diffs))), 3)
            if len(diffs) > 1
            else None,
        }
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": "bench/jun2018_prior.py " + " ".join(sys.argv[1:]),
        "folds": rows,
        "summary": summary,
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
