"""Per-fold table of a finished ``snakemake cv`` run: epochs, kept epoch, validation and test.

For each fold K of ``results/{experiment}/cv/foldK`` under ``--root``: the epochs run and the
kept epoch (``model.json``), the validation accuracy and macro F1 at the kept epoch
(``history.csv``), the fold's test accuracy and macro Se (``metrics.json``), the train job's
seconds (its benchmark file) and the early-stopping patience it trained with. The workflow's
own ``summary.json`` holds the mean ± sd; this table shows each fold, to read the spread. A run
still going is tabled as far as it got: folds without ``metrics.json`` are listed in
``not_scored_yet``.

    .venv/bin/python bench/cv_folds_table.py --root /tmp/s22/run16 --experiment jun2018 \\
        --note "..." --out bench/results/cv_jun2018_folds_patience0.json
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path


def fold_row(root: Path, experiment: str, k: int) -> dict:
    folder = root / "results" / experiment / "cv" / f"fold{k}"
    info = json.loads((folder / "model.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    with open(folder / "history.csv", newline="") as handle:
        history = {int(row["epoch"]): row for row in csv.DictReader(handle)}
    kept = history[int(info["best_epoch"])]
    bench = root / "results" / "benchmarks" / experiment / "cv" / f"fold{k}" / "train.tsv"
    with open(bench, newline="") as handle:
        seconds = float(next(csv.DictReader(handle, delimiter="\t"))["s"])
    return {
        "fold": k,
        "patience": info["train"]["patience"],
        "epochs_run": info["epochs_run"],
        "best_epoch": info["best_epoch"],
        "val_accuracy_kept": round(100 * float(kept["val_accuracy"]), 2),
        "val_macro_f1_kept": round(100 * float(kept["val_macro_f1"]), 2),
        "test_accuracy": round(100 * metrics["accuracy"], 2),
        "test_macro_se": round(100 * metrics["macro"]["sensitivity"], 2),
        "train_job_seconds": seconds,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True, help="working directory of the cv run")
    parser.add_argument("--experiment", default="jun2018")
    parser.add_argument("--note", default="", help="where and how the folds were trained")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    root = Path(args.root)
    folds = sorted(
        int(p.name[4:]) for p in (root / "results" / args.experiment / "cv").glob("fold*")
    )
    if not folds:
        raise SystemExit(f"no folds under {root}/results/{args.experiment}/cv")
    cv = root / "results" / args.experiment / "cv"
    done = [k for k in folds if (cv / f"fold{k}" / "metrics.json").exists()]
    table = {"note": args.note, "folds": [fold_row(root, args.experiment, k) for k in done]}
    table["not_scored_yet"] = [k for k in folds if k not in done]
    Path(args.out).write_text(json.dumps(table, indent=1) + "\n")
    for row in table["folds"]:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
