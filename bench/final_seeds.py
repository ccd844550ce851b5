"""The seed-to-seed spread of a final configuration on its test split (scored, never chosen on).

For each seed, the experiment of ``config/config.yaml`` is trained on its manifest exactly as
``make run`` trains it (``ecg2d.train.fit_model``; the split, made with the workflow's ``seed``,
is the same for every seed here: only training's randomness changes) and its test originals are
scored with :func:`ecg2d.evaluate.metrics_report`. Nothing here chooses a setting: it measures
how far one seed's figures can be trusted. Per seed, the metrics go to
``results/final_seeds/{experiment}/seed{N}.json`` (skipped where present); the summary
(mean ± sd over seeds) to ``bench/results/final_seeds_{experiment}.json`` and ``.md``
(``final_seeds_{experiment}_{tag}`` with ``--tag``, e.g. the CPU's kind).

    .venv/bin/python bench/final_seeds.py --experiment inter_patient --seeds 42 43 44
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
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from ds1_cv import fmt, machine  # noqa: E402


def headline(metrics: dict) -> dict:
    """Accuracy, macro Se/+P and, for AAMI experiments, SVEB/VEB Se/+P in both conventions."""
    out = {
        "accuracy": metrics["accuracy"],
        "macro_Se": metrics["macro"]["sensitivity"],
        "macro_+P": metrics["macro"]["ppv"],
    }
    for convention in ("aami_ec57", "aami_one_vs_rest"):
        for name, row in (metrics.get(convention) or {}).items():
            for figure in ("Se", "+P"):
                out[f"{convention}.{name}_{figure}"] = row[figure]
    return out


def run_seed(experiment_name: str, experiment: dict, seed: int, path: Path, threads: int) -> dict:
    from ecg2d.model import limit_threads

    limit_threads(threads)  # before anything imports TensorFlow

    from ecg2d.classifier import Classifier
    from ecg2d.evaluate import evaluation_rows, metrics_report, predict_rows, predictions_table
    from ecg2d.split import read_table
    from ecg2d.train import fit_model

    manifest = read_table(f"results/{experiment_name}/manifest.csv")
    start = time.perf_counter()
    model, _, info = fit_model(
        manifest, experiment, seed=seed, name=experiment_name, workers=threads
    )
    seconds = time.perf_counter() - start
    test = evaluation_rows(manifest)
    proba = predict_rows(Classifier(model, info), test)
    table = predictions_table(test, proba, info["classes"])
    metrics = metrics_report(table, info["classes"], experiment_name, experiment["protocol"], info)
    metrics["train_seconds"] = round(seconds, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics, indent=1) + "\n")
    return metrics


def summarise(runs: dict[int, dict]) -> dict:
    heads = {seed: headline(m) for seed, m in runs.items()}
    keys = next(iter(heads.values())).keys()
    summary = {}
    for key in keys:
        values = [h[key] for h in heads.values() if h[key] is not None]
        summary[key] = {
            "mean": float(np.mean(values)) if values else None,
            "sd": float(np.std(values, ddof=1)) if len(values) > 1 else None,
            "values": [h[key] for h in heads.values()],
        }
    return summary


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--config", default=str(REPO / "config/config.yaml"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--tag", default="", help="suffix of the summary's name: final_seeds_{experiment}_{tag}"
    )
    args = parser.parse_args(argv)
    config = yaml.safe_load(Path(args.config).read_text())
    experiment = config["experiments"][args.experiment]
    runs = {}
    for seed in args.seeds:
        path = Path(f"results/final_seeds/{args.experiment}/seed{seed}.json")
        if path.exists():
            runs[seed] = json.loads(path.read_text())
        else:
            print(f"[{time.strftime('%H:%M:%S')}] {args.experiment} seed {seed}", flush=True)
            runs[seed] = run_seed(args.experiment, experiment, seed, path, args.threads)
    summary = summarise(runs)
    result = {
        "experiment": args.experiment,
        "seeds": args.seeds,
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": "bench/final_seeds.py " + " ".join(sys.argv[1:]),
        "summary": summary,
        "train_seconds": [runs[s]["train_seconds"] for s in args.seeds],
    }
    tag = f"_{args.tag}" if args.tag else ""
    out = REPO / "bench" / "results" / f"final_seeds_{args.experiment}{tag}"
    Path(f"{out}.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        f"# Seed spread of the final `{args.experiment}` configuration on its test split",
        "",
        f"`.venv/bin/python {result['command']}` — {result['date']}, {result['machine']}.",
        "Scored once per seed; nothing was chosen on these figures.",
        "",
        "| figure | " + " | ".join(f"seed {s}" for s in args.seeds) + " | mean ± sd |",
        "|---|" + "---|" * (len(args.seeds) + 1),
    ]
    for key, row in summary.items():
        cells = [fmt(v) for v in row["values"]]
        lines.append(
            f"| {key} | " + " | ".join(cells) + f" | {fmt(row['mean'])} ± {fmt(row['sd'])} |"
        )
    Path(f"{out}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
