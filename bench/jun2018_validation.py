"""jun2018 training variants judged on its validation beats only (the test split chooses nothing).

Trains the ``jun2018`` experiment of config/config.yaml on an existing manifest (a finished
``make run``'s, ``--root`` its working directory) once per ``--variant``: comma-separated
``section.key=value`` overrides of its model/train settings (``default`` for none). Reports,
per variant, the training seconds and images seen, and the validation accuracy, balanced
accuracy and macro F1 after every epoch (the validation beats: ``train.validation_fraction`` of
the training beats, with their crops held out; ecg2d.train.validation_split). ``--manifest``
trains on a cv fold's training beats instead, as ``snakemake cv`` does.

    .venv/bin/python bench/jun2018_validation.py --root /tmp/final3 \\
        --variant default --variant model.convs_per_block=1,train.samples_per_class=3600
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from datetime import date
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]


def main() -> None:
    from ds1_cv import machine

    from ecg2d.model import limit_threads

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True, help="working directory of a finished run")
    parser.add_argument(
        "--manifest",
        default="results/jun2018/manifest.csv",
        help="manifest under --root whose training beats train (a cv fold's: "
        "results/jun2018/cv/foldK/manifest.csv); its test beats are never read",
    )
    parser.add_argument("--variant", action="append", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=str(REPO / "bench/results/jun2018_validation.json"))
    args = parser.parse_args()
    limit_threads(args.threads)
    from ecg2d.split import read_table
    from ecg2d.train import fit_model

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    manifest = read_table(Path(args.root) / args.manifest)
    rows = []
    for variant in args.variant:
        experiment = copy.deepcopy(config["experiments"]["jun2018"])
        for item in filter(None, variant.split(",")):
            if item == "default":
                continue
            key, value = item.split("=", 1)
            section, name = key.split(".")
            experiment.setdefault(section, {})[name] = yaml.safe_load(value)
        _, history, info = fit_model(
            manifest, experiment, args.seed, root=args.root, name="jun2018", workers=args.threads
        )
        row = {
            "variant": variant,
            "best_epoch": info["best_epoch"],
            "training_seconds": info["training_seconds"],
            "images_seen": info["images_seen"],
            "parameters": info["parameters"],
            "val_accuracy": [round(100 * h["val_accuracy"], 2) for h in history],
            "val_balanced_accuracy": [round(100 * h["val_balanced_accuracy"], 2) for h in history],
            "val_macro_f1": [round(100 * h["val_macro_f1"], 2) for h in history],
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    result = {"date": date.today().isoformat(), "machine": machine(), "seed": args.seed}
    result["manifest"] = args.manifest
    result["variants"] = rows
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
