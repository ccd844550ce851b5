"""Per-fold table of a finished ``snakemake cv`` run: epochs, kept epoch, validation and test.

For each fold K of ``results/{experiment}/cv/foldK`` under ``--root``: the epochs run and the
kept epoch (``model.json``), the validation accuracy and macro F1 at the kept epoch
(``history.csv``), the fold's test accuracy and macro Se (``metrics.json``), the train job's
seconds (its benchmark file) and the early-stopping patience it trained with. The workflow's
own ``summary.json`` holds the mean ± sd; this table shows each fold, to read the spread. A run
still going is tabled as far as it got: folds without ``metrics.json`` are listed in
``not_scored_yet``.

A run split over sessions (each machine starts bare) is joined with ``--earlier``: an earlier
table of the same configuration gives the folds not scored under ``--root``; each row names
its ``source``, and ``summary`` holds the mean and sd of test accuracy and macro Se over all of
them. A fold scored in both is taken from ``--root``.

    .venv/bin/python bench/cv_folds_table.py --root /tmp/s22/run16 --experiment jun2018 \\
        --note "..." --out bench/results/cv_jun2018_folds_patience0.json
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from pathlib import Path

from stage_seconds import benchmark_seconds


def kept_epoch(folder: Path) -> tuple[dict, dict]:
    """A trained model folder's ``model.json`` and the ``history.csv`` row (strings) of the
    epoch it kept."""
    info = json.loads((folder / "model.json").read_text())
    with open(folder / "history.csv", newline="") as handle:
        history = {int(row["epoch"]): row for row in csv.DictReader(handle)}
    return info, history[int(info["best_epoch"])]


def fold_row(root: Path, experiment: str, k: int) -> dict:
    folder = root / "results" / experiment / "cv" / f"fold{k}"
    info, kept = kept_epoch(folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    bench = root / "results" / "benchmarks" / experiment / "cv" / f"fold{k}" / "train.tsv"
    seconds = benchmark_seconds(bench)
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


def summary(rows: list[dict]) -> dict:
    """Mean and sample sd of the folds' test accuracy and macro Se (%)."""
    out = {"folds": len(rows)}
    for key in ("test_accuracy", "test_macro_se"):
        values = [row[key] for row in rows]
        sd = statistics.stdev(values) if len(values) > 1 else None
        out[key] = {
            "mean": round(statistics.fmean(values), 2) if values else None,
            "sd": None if sd is None else round(sd, 2),
        }
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True, help="working directory of the cv run")
    parser.add_argument("--experiment", default="jun2018")
    parser.add_argument("--note", default="", help="where and how the folds were trained")
    parser.add_argument("--earlier", help="an earlier table of the same configuration")
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
    rows = [{**fold_row(root, args.experiment, k), "source": str(root)} for k in done]
    if args.earlier:
        earlier = json.loads(Path(args.earlier).read_text())
        rows += [
            {**row, "source": args.earlier} for row in earlier["folds"] if row["fold"] not in done
        ]
        rows.sort(key=lambda row: row["fold"])
        odd = [row["fold"] for row in rows if row["patience"] != rows[0]["patience"]]
        if odd:
            raise SystemExit(f"{args.earlier}: folds {odd} trained with another patience")
    table = {"note": args.note, "folds": rows}
    scored = {row["fold"] for row in rows}
    table["not_scored_yet"] = [k for k in folds if k not in scored]
    table["summary"] = summary(rows)
    Path(args.out).write_text(json.dumps(table, indent=1) + "\n")
    for row in table["folds"]:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
