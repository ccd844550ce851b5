"""A jun2018 training variant against the shipped configuration, paired by cv fold, judged on
the folds' validation beats only.

The shipped side is each fold's own model of ``snakemake cv`` (``--root``'s
``results/jun2018/cv/foldK``: ``model.json``'s kept epoch and ``history.csv``); the variant
side is ``bench/jun2018_validation.py`` trained on the same fold's manifest with the same seed
(``--manifest results/jun2018/cv/foldK/manifest.csv``), one JSON per fold (``--variant
K=path``). Both are read at the epoch training keeps (best validation macro F1), on the fold's
validation beats; no test beat is read.

The rule for ``train.epochs=20``, committed before its runs: adopted if, over the folds, the
mean paired validation accuracy difference is above 0 and above its SE, the mean paired
balanced accuracy (macro Se) difference is not below 0, and ``make run`` on the slower CPU
(AMD EPYC without AVX-512), estimated as its measured 1,300 s plus the extra epochs' share of
that run's 681 s of ``jun2018`` training, stays within 27 minutes.

    .venv/bin/python bench/jun2018_fold_variant.py --root /tmp/s30/run \\
        --variant 1=/tmp/s30/epochs20_fold1.json ... --out bench/results/jun2018_epochs20_folds.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from datetime import date
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

FIGURES = ("val_accuracy", "val_balanced_accuracy", "val_macro_f1")
#: make run on the AMD EPYC without AVX-512 at 16 epochs, and jun2018's training in it (s)
MAKE_RUN_SLOW_S, JUN2018_TRAIN_SLOW_S, SHIPPED_EPOCHS = 1300, 681, 16


def shipped_row(folder: Path) -> dict:
    """A fold model's figures (%) at its kept epoch."""
    from cv_folds_table import kept_epoch

    info, kept = kept_epoch(folder)
    row = {key: round(100 * float(kept[key]), 2) for key in FIGURES}
    return {"best_epoch": info["best_epoch"], "training_seconds": info["training_seconds"], **row}


def variant_row(path: Path) -> dict:
    """A jun2018_validation.py run's figures (%) at its kept epoch."""
    run = json.loads(Path(path).read_text())
    (row,) = run["variants"]
    i = int(row["best_epoch"]) - 1
    out = {key: row[key][i] for key in FIGURES}
    out.update(best_epoch=row["best_epoch"], training_seconds=row["training_seconds"])
    out.update(variant=row["variant"], manifest=run["manifest"], seed=run["seed"])
    return out


def decide(pairs: list[dict], epochs: int) -> dict:
    """The committed rule (module docstring)."""
    out = {}
    for key in FIGURES:
        diffs = [p["variant"][key] - p["shipped"][key] for p in pairs]
        se = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else 0.0
        out[key] = {"mean_difference": round(statistics.fmean(diffs), 3), "se": round(se, 3)}
    extra = JUN2018_TRAIN_SLOW_S * (epochs - SHIPPED_EPOCHS) / SHIPPED_EPOCHS
    minutes = (MAKE_RUN_SLOW_S + extra) / 60
    acc, bal = out["val_accuracy"], out["val_balanced_accuracy"]
    passes = {
        "accuracy": acc["mean_difference"] > max(0.0, acc["se"]),
        "balanced_accuracy": bal["mean_difference"] >= 0,
        "time": minutes <= 27,
    }
    return {
        "paired": out,
        "make_run_slow_cpu_minutes_estimate": round(minutes, 1),
        "passes": passes,
        "adopted": all(passes.values()),
    }


def main(argv=None) -> None:
    from ds1_cv import machine

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True, help="working directory of the cv folds")
    parser.add_argument("--variant", action="append", required=True, metavar="K=JSON")
    parser.add_argument("--epochs", type=int, default=20, help="the variant's train.epochs")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    seed = yaml.safe_load((REPO / "config/config.yaml").read_text())["seed"]
    pairs = []
    for item in args.variant:
        k, path = item.split("=", 1)
        variant = variant_row(Path(path))
        expected = f"results/jun2018/cv/fold{k}/manifest.csv"
        if variant["manifest"] != expected or variant["seed"] != seed:
            raise SystemExit(
                f"{path}: trained on {variant['manifest']} with seed {variant['seed']}, "
                f"not {expected} with the workflow's seed {seed}"
            )
        shipped = shipped_row(Path(args.root) / f"results/jun2018/cv/fold{k}")
        pairs.append({"fold": int(k), "shipped": shipped, "variant": variant})
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": "bench/jun2018_fold_variant.py " + " ".join(sys.argv[1:]),
        "pairs": pairs,
        "decision": decide(pairs, args.epochs),
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
