"""An operating point for jun2018, N's probability scaled at prediction: validation beats only.

``model.class_factors`` multiplies a class's probability before the argmax
(:func:`ecg2d.classifier.apply_class_factors`). Undoing the sampling's prior pushed beats
towards N and lost accuracy, because the beats it moved were more often A, V or ! than N
(BENCHMARKS, *undoing the sampling's class prior*). This probe asks the opposite question: does
a factor below 1 on N raise balanced accuracy (macro Se) without costing accuracy?

Two groups of models, each scored on its own validation beats (rebuilt as training held them
out: :func:`ecg2d.train.prepare_rows` with the model's training seed), never on a test split:

- ``--seeds``: the shipped ``jun2018`` configuration on the seeded split of ``--root`` (a
  finished ``make run``), one model per seed under ``--models`` (``seed{S}/model.h5``, trained
  there as ``make run`` trains it where missing); each seed holds out its own validation beats;
- ``--fold``: the ten cv folds of an earlier configuration (``--fold-root``), trained with the
  workflow's seed, a confirmation on 96,808 other validation beats.

Every factor of :data:`FACTORS` is applied to the same probabilities, so the comparison is
paired. The decision follows the rule committed in BENCHMARKS.md before the run
(:func:`decide`).

    .venv/bin/python bench/jun2018_factor.py --root /tmp/s28/run --models /tmp/s29/models \\
        --seeds 42 43 44 --fold-root /tmp/s22/run16 --fold results/jun2018/cv/fold1 ...
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

FACTORS = (1.0, 0.7, 0.5, 0.35, 0.25)


def factor_scores(y: np.ndarray, proba: np.ndarray, classes: list[str], label: str) -> dict:
    """Validation figures (%) per factor on ``label`` (keys: the factors as strings)."""
    from jun2018_prior import scores

    from ecg2d.classifier import apply_class_factors

    return {
        str(f): scores(y, apply_class_factors(proba, classes, {label: f}), len(classes))
        for f in FACTORS
    }


def paired(rows: list[dict]) -> dict:
    """Per variant and figure: the mean over models, and the mean, SE and minimum of the
    per-model difference against factor 1 (as shipped) (:func:`jun2018_prior.paired`)."""
    from jun2018_prior import paired as paired_scores

    return paired_scores(rows, map(str, FACTORS), "1.0")


def decide(seeds: dict, folds: dict) -> dict:
    """The committed rule. Chosen on the shipped configuration's seeds: among the factors
    below 1 whose mean validation accuracy is not below the shipped one's and whose worst seed
    loses at most 0.08 points of it, the one with the highest mean balanced accuracy, if that
    is above the shipped one's. Confirmed on the folds: mean paired accuracy difference not
    below 0 and mean paired balanced accuracy difference above twice its SE."""
    eligible = [
        f
        for f in map(str, FACTORS[1:])
        if seeds[f]["accuracy"]["mean_difference"] >= 0
        and seeds[f]["accuracy"]["min_difference"] >= -0.08
        and seeds[f]["balanced_accuracy"]["mean_difference"] > 0
    ]
    if not eligible:
        return {"chosen": None, "adopted": False, "why": "no factor passes on the seeds"}
    chosen = max(eligible, key=lambda f: seeds[f]["balanced_accuracy"]["mean"])
    acc, bal = folds[chosen]["accuracy"], folds[chosen]["balanced_accuracy"]
    confirmed = acc["mean_difference"] >= 0 and bal["mean_difference"] > 2 * (bal["se"] or 0)
    return {
        "chosen": float(chosen),
        "adopted": bool(confirmed),
        "why": "confirmed on the folds" if confirmed else "not confirmed on the folds",
    }


def score_model(
    folder: Path, root: Path, manifest_path: Path, experiment: dict, seed: int, label: str
) -> dict:
    from jun2018_prior import validation_proba

    classifier, _, val, proba, y = validation_proba(folder, manifest_path, experiment, seed, root)
    if classifier.class_factors:
        raise SystemExit(f"{folder}: model.json already has class_factors")
    counts = val["label"].value_counts()
    return {
        "model": str(folder),
        "seed": seed,
        "best_epoch": classifier.info.get("best_epoch"),
        "validation_beats": len(val),
        "validation_per_class": {c: int(counts.get(c, 0)) for c in classifier.classes},
        "scores": factor_scores(y, proba, classifier.classes, label),
    }


def train_seed(root: Path, folder: Path, experiment: dict, seed: int, threads: int) -> float:
    from ecg2d.split import read_table
    from ecg2d.train import fit_model, save_model

    manifest = read_table(root / "results/jun2018/manifest.csv")
    start = time.perf_counter()
    model, _, info = fit_model(
        manifest, experiment, seed, root=root, name="jun2018", workers=threads
    )
    save_model(model, info, folder / "model.h5")
    return round(time.perf_counter() - start, 1)


def main() -> None:
    from ds1_cv import machine

    from ecg2d.model import limit_threads

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True, help="a finished make run (the seeded split)")
    parser.add_argument("--models", required=True, help="folder of seed{S}/model.h5")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--fold-root", required=True, help="working directory of the cv folds")
    parser.add_argument("--fold", action="append", required=True, help="fold folder under it")
    parser.add_argument("--label", default="N")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(REPO / "bench/results/jun2018_factor.json"))
    args = parser.parse_args()
    limit_threads(args.threads)

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    experiment = config["experiments"]["jun2018"]
    root, fold_root = Path(args.root), Path(args.fold_root)
    trained, seed_rows, fold_rows = {}, [], []
    for seed in args.seeds:
        folder = Path(args.models) / f"seed{seed}"
        if not (folder / "model.h5").exists():
            print(f"[{time.strftime('%H:%M:%S')}] training seed {seed}", flush=True)
            trained[seed] = train_seed(root, folder, experiment, seed, args.threads)
        manifest = root / "results/jun2018/manifest.csv"
        row = score_model(folder, root, manifest, experiment, seed, args.label)
        seed_rows.append(row)
        print(json.dumps(row), flush=True)
    for fold in args.fold:
        folder = fold_root / fold
        manifest = folder / "manifest.csv"
        row = score_model(folder, fold_root, manifest, experiment, config["seed"], args.label)
        fold_rows.append(row)
        print(json.dumps(row), flush=True)
    seeds, folds = paired(seed_rows), paired(fold_rows)
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": "bench/jun2018_factor.py " + " ".join(sys.argv[1:]),
        "label": args.label,
        "factors": list(FACTORS),
        "training_seconds": trained,
        "seeds": seed_rows,
        "folds": fold_rows,
        "summary": {"seeds": seeds, "folds": folds},
        "decision": decide(seeds, folds),
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["decision"], indent=1))


if __name__ == "__main__":
    main()
