"""Test-time crops for jun2018: each beat classified from its image and its nine crops,
judged on validation beats only.

Training sees every beat of the ``augment`` classes as its image and its nine crops
(:func:`ecg2d.augment.nine_crops`), so the network has learnt each such beat from ten views.
At prediction it sees one. This probe asks whether averaging the class probabilities over the
same ten views of a beat (the image and its own nine crops; nothing from another beat)
classifies better. It is not leakage: a beat's crops are made from that beat alone and give
one prediction for it; no crop becomes a test item. It may also hurt: N is not among the
experiment's ``augment`` classes, so the network never saw a zoomed N beat, and a zoomed view
may look less like N.

For each trained model folder (a cv fold's ``results/jun2018/cv/foldK``, today's settings),
the fold's validation beats are rebuilt exactly as training held them out
(:func:`ecg2d.train.prepare_rows` with the workflow's seed); the test beats are never read.
Variants, on the same beats (paired):

- ``image``: the image alone, as shipped;
- ``image+crops``: the mean of the ten probability vectors (image and nine crops);
- ``crops``: the mean of the nine crops' vectors.

The rule, committed before the run (:func:`decide`): a variant is eligible if its mean paired
validation accuracy difference against ``image`` is above 0, no fold loses more than 0.08
points of accuracy, and its mean paired balanced accuracy (macro Se) difference is above 0.
Among the eligible, the one with the highest mean accuracy is adopted. Its cost is the
prediction time per beat, measured here.

    .venv/bin/python bench/jun2018_tta.py --root /tmp/s30/run \\
        --fold results/jun2018/cv/fold1 --fold results/jun2018/cv/fold3 ...
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

VARIANTS = ("image", "image+crops", "crops")


def crop_proba(classifier, rows, root, crop: dict, batch_beats: int = 64) -> np.ndarray:
    """Per beat, the class probabilities of its crops (:func:`ecg2d.augment.nine_crops` with
    ``crop``'s size and offsets, made from the beat's image as the crops stage makes them):
    N x crops x C."""
    from ecg2d.augment import nine_crops
    from ecg2d.images import ImageReader

    reader = ImageReader(root)
    paths = rows["path"].to_numpy(dtype=object)
    n_views = len(crop["offsets"]) ** 2
    out = np.zeros((len(rows), n_views, len(classifier.classes)), dtype=np.float32)
    for start in range(0, len(rows), batch_beats):
        stop = min(start + batch_beats, len(rows))
        views = np.stack(
            [
                c
                for p in paths[start:stop]
                for c in nine_crops(reader.read(p), crop["size"], tuple(crop["offsets"]))
            ]
        )
        proba = classifier.predict_proba(views, None, batch_size=256)
        out[start:stop] = proba.reshape(stop - start, n_views, -1)
    return out


def combine(image: np.ndarray, crops: np.ndarray) -> dict[str, np.ndarray]:
    """Each variant's N x C probabilities from the image's (N x C) and the crops' (N x K x C)."""
    return {
        "image": image,
        "image+crops": (image + crops.sum(axis=1)) / (1 + crops.shape[1]),
        "crops": crops.mean(axis=1),
    }


def per_class_se(y: np.ndarray, proba: np.ndarray, classes: list[str]) -> dict:
    """Each class's sensitivity (%) and, for N, where its missed beats went."""
    predicted = proba.argmax(axis=1)
    out = {
        c: round(100 * float((predicted[y == k] == k).mean()), 2) if (y == k).any() else None
        for k, c in enumerate(classes)
    }
    n = classes.index("N")
    missed = predicted[(y == n) & (predicted != n)]
    out["N_called"] = {classes[k]: int((missed == k).sum()) for k in np.unique(missed)}
    return out


def paired(rows: list[dict]) -> dict:
    """Per variant and figure: the mean over models, and the mean, SE and minimum of the
    per-model difference against ``image`` (as shipped) (:func:`jun2018_prior.paired`)."""
    from jun2018_prior import paired as paired_scores

    return paired_scores(rows, VARIANTS, "image")


def decide(summary: dict) -> dict:
    """The committed rule (module docstring)."""
    eligible = [
        v
        for v in VARIANTS[1:]
        if summary[v]["accuracy"]["mean_difference"] > 0
        and summary[v]["accuracy"]["min_difference"] >= -0.08
        and summary[v]["balanced_accuracy"]["mean_difference"] > 0
    ]
    if not eligible:
        return {"chosen": None, "adopted": False, "why": "no variant passes"}
    chosen = max(eligible, key=lambda v: summary[v]["accuracy"]["mean"])
    return {"chosen": chosen, "adopted": True, "why": "passes the rule"}


def score_model(folder: Path, root: Path, experiment: dict, crop: dict, seed: int) -> dict:
    from jun2018_prior import scores, validation_proba

    start = time.perf_counter()
    classifier, _, val, image, y = validation_proba(
        folder, folder / "manifest.csv", experiment, seed, root
    )
    image_seconds = time.perf_counter() - start
    if (val["augmented"] != 0).any():
        raise SystemExit(f"{folder}: validation rows hold crops")
    start = time.perf_counter()
    crops = crop_proba(classifier, val, root, crop)
    crop_seconds = time.perf_counter() - start
    counts = val["label"].value_counts()
    n_classes = len(classifier.classes)
    views = combine(image, crops)
    return {
        "model": str(folder),
        "best_epoch": classifier.info.get("best_epoch"),
        "validation_beats": len(val),
        "validation_per_class": {c: int(counts.get(c, 0)) for c in classifier.classes},
        "ms_per_beat": {
            "image": round(1000 * image_seconds / len(val), 3),
            "nine_crops": round(1000 * crop_seconds / len(val), 3),
        },
        "scores": {v: scores(y, p, n_classes) for v, p in views.items()},
        "sensitivity": {v: per_class_se(y, p, classifier.classes) for v, p in views.items()},
    }


def main() -> None:
    from ds1_cv import machine

    from ecg2d.model import limit_threads

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True, help="working directory of the cv folds")
    parser.add_argument("--fold", action="append", required=True, help="fold folder under it")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(REPO / "bench/results/jun2018_tta.json"))
    args = parser.parse_args()
    limit_threads(args.threads)

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    experiment = config["experiments"]["jun2018"]
    root = Path(args.root)
    rows = []
    for fold in args.fold:
        row = score_model(root / fold, root, experiment, config["crop"], config["seed"])
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary = paired(rows)
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": "bench/jun2018_tta.py " + " ".join(sys.argv[1:]),
        "variants": list(VARIANTS),
        "folds": rows,
        "summary": summary,
        "decision": decide(summary),
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["decision"], indent=1))


if __name__ == "__main__":
    main()
