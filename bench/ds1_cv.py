"""Choose an inter-patient setting by cross-validation over DS1 records; DS2 is never read.

The inter-patient experiment's training records (DS1) are split into the fixed, committed folds
``experiments.<experiment>.cv_folds`` of ``config/config.yaml``. For every variant (a set of
``model.*`` / ``train.*`` overrides of the experiment), every seed and every fold, the model is
trained exactly as ``make run`` trains it, on the DS1 records outside the fold (the experiment's
``validation_records`` that fall outside the fold choose the epoch), and predicts the original
beats of the fold's records. Rows of test records (DS2) are dropped before anything else, so no
figure here can depend on them.

Two phases, both resumable:

``train``  writes one out-of-fold prediction table per (variant, seed, fold) under ``--work``
           (skipped where it exists), with the training time;
``score``  pools each (variant, seed)'s out-of-fold predictions over all DS1 records and scores
           them with :func:`ecg2d.evaluate.metrics_report` (EC57 and one-vs-rest), plus the
           per-fold figures; writes ``--out``.json (every figure) and ``--out``.md (the table).

    .venv/bin/python bench/ds1_cv.py --name irregularity \\
        --variant none model.rr_irregularity=false \\
        --variant median model.rr_irregularity=true --seeds 42 43 44 train score

The decision rule, fixed before any run: the criterion is the pooled EC57 F1 of SVEB and VEB,
averaged, then averaged over seeds; variants are listed simplest first, and a later one replaces
the current choice only if its criterion is higher by more than the larger seed-to-seed standard
deviation of the two.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def parse_variant(items: list[str]) -> tuple[str, dict]:
    """``NAME key=value ...`` -> (name, {"model": {...}, "train": {...}}); values are YAML."""
    name, overrides = items[0], {"model": {}, "train": {}}
    for item in items[1:]:
        key, sep, value = item.partition("=")
        section, dot, field = key.partition(".")
        if not sep or not dot or section not in overrides:
            raise SystemExit(
                f"--variant {name}: {item!r} is not model.KEY=VALUE or train.KEY=VALUE"
            )
        overrides[section][field] = yaml.safe_load(value)
    return name, overrides


def variant_experiment(experiment: dict, overrides: dict, fold: list[str]) -> dict:
    """The experiment with a variant's overrides, validated on DS1 records outside ``fold``."""
    out = copy.deepcopy(experiment)
    for section in ("model", "train"):
        out[section] = {**(out.get(section) or {}), **overrides[section]}
    validation = (out["train"].get("validation_records")) or []
    out["train"]["validation_records"] = [r for r in validation if r not in fold]
    return out


def fold_manifest(manifest: pd.DataFrame, train_records: list[str], fold: list[str]):
    """DS1 rows only: the fold's original beats become the test split, their crops are dropped."""
    record = manifest["record"].astype(str)
    ds1 = manifest[record.isin(train_records)].copy()
    in_fold = ds1["record"].astype(str).isin(fold)
    ds1 = ds1[~(in_fold & (ds1["augmented"] == 1))]
    ds1.loc[ds1["record"].astype(str).isin(fold), "split"] = "test"
    return ds1


def check_folds(folds: list[list[str]], train_records: list[str]) -> None:
    flat = [r for fold in folds for r in fold]
    if sorted(flat) != sorted(train_records) or len(set(flat)) != len(flat):
        raise SystemExit("cv_folds must partition the experiment's train_records exactly")


def train_phase(args, experiment: dict, folds, variants) -> None:
    from ecg2d.model import limit_threads

    limit_threads(args.threads)  # before anything imports TensorFlow

    from ecg2d.classifier import Classifier
    from ecg2d.evaluate import evaluation_rows, predict_rows, predictions_table
    from ecg2d.split import read_table
    from ecg2d.train import fit_model

    manifest = read_table(args.manifest)
    train_records = [str(r) for r in experiment["train_records"]]
    for name, overrides in variants:
        for seed in args.seeds:
            for k, fold in enumerate(folds):
                path = Path(args.work) / name / f"seed{seed}_fold{k}.csv"
                if path.exists():
                    continue
                print(
                    f"[{time.strftime('%H:%M:%S')}] {name} seed {seed} fold {k}: {fold}", flush=True
                )
                exp = variant_experiment(experiment, overrides, fold)
                rows = fold_manifest(manifest, train_records, fold)
                start = time.perf_counter()
                model, _, info = fit_model(
                    rows, exp, seed=seed, name=f"{name}-f{k}", workers=args.threads
                )
                seconds = time.perf_counter() - start
                test = evaluation_rows(rows)
                proba = predict_rows(Classifier(model, info), test)
                table = predictions_table(test, proba, info["classes"])
                table.insert(0, "fold", k)
                table["train_seconds"] = round(seconds, 1)
                table["best_epoch"] = info["best_epoch"]
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                table.to_csv(tmp, index=False, lineterminator="\n")
                tmp.replace(path)
                print(f"    {seconds:.0f} s, best epoch {info['best_epoch']}", flush=True)


def headline(metrics: dict) -> dict:
    """The figures compared: EC57 SVEB/VEB Se, +P, F1 and their mean F1; accuracy; macro F1."""
    out = {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro"]["f1"]}
    for name in ("SVEB", "VEB"):
        row = metrics["aami_ec57"][name]
        se, ppv = row["Se"], row["+P"]
        f1 = 2 * se * ppv / (se + ppv) if se is not None and ppv is not None and se + ppv else 0.0
        out.update({f"{name}_Se": se, f"{name}_+P": ppv, f"{name}_F1": f1})
    out["criterion"] = (out["SVEB_F1"] + out["VEB_F1"]) / 2
    return out


#: Records with fewer reference beats of a class than this are left out of its
#: record-averaged Se (:func:`record_headline`): a record with two S beats would otherwise
#: weigh as much as one with 383, on a Se of 0, 50 or 100 %.
RECORD_MIN_BEATS = 10


def record_headline(metrics: dict, min_beats: int = RECORD_MIN_BEATS) -> dict:
    """Figures that weigh patients, not beats: for SVEB and VEB, the EC57 Se of each record with
    at least ``min_beats`` reference beats of the class, averaged over those records (EC57's
    record-by-record average; ``{name}_Se_rec``, with the records' count ``{name}_records``),
    its F1 with the class's gross +P (``{name}_F1_rec``), and the mean of the two F1
    (``criterion_record``). A record failed as a whole costs this Se its share however few
    beats it holds; a pooled Se hides it behind the records with the most beats."""
    out = {}
    for name in ("SVEB", "VEB"):
        se = []
        for row in metrics["per_record"].values():
            counts = row["counts"][name]
            beats = counts["TP"] + counts["FN"]
            if beats >= min_beats:
                se.append(counts["TP"] / beats)
        se_rec = float(np.mean(se)) if se else 0.0
        ppv = metrics["aami_ec57"][name]["+P"] or 0.0
        f1 = 2 * se_rec * ppv / (se_rec + ppv) if se_rec + ppv else 0.0
        out.update({f"{name}_Se_rec": se_rec, f"{name}_records": len(se), f"{name}_F1_rec": f1})
    out["criterion_record"] = (out["SVEB_F1_rec"] + out["VEB_F1_rec"]) / 2
    return out


def score_phase(args, experiment: dict, folds, variants) -> dict:
    from ecg2d.config import experiment_classes
    from ecg2d.evaluate import metrics_report

    classes = experiment_classes(experiment)
    result = {"variants": {}}
    for name, overrides in variants:
        runs = []
        for seed in args.seeds:
            paths = [Path(args.work) / name / f"seed{seed}_fold{k}.csv" for k in range(len(folds))]
            missing = [str(p) for p in paths if not p.exists()]
            if missing:
                raise SystemExit(f"missing out-of-fold predictions: {missing} (run 'train')")
            tables = [
                pd.read_csv(p, dtype={"record": str, "true": str, "predicted": str}) for p in paths
            ]
            pooled = pd.concat(tables, ignore_index=True)
            report = metrics_report(
                pooled, classes, name, "inter_patient", bootstrap_unit="record", seed=seed
            )
            per_fold = [headline(metrics_report(t, classes, name, "inter_patient")) for t in tables]
            runs.append(
                {
                    "seed": seed,
                    "pooled": headline(report),
                    "pooled_ec57": report["aami_ec57"],
                    "per_fold": per_fold,
                    "train_seconds": float(sum(t["train_seconds"].iloc[0] for t in tables)),
                    "best_epochs": [int(t["best_epoch"].iloc[0]) for t in tables],
                }
            )
        keys = runs[0]["pooled"].keys()
        summary = {
            key: {
                "mean": float(np.mean([r["pooled"][key] or 0.0 for r in runs])),
                "sd": float(np.std([r["pooled"][key] or 0.0 for r in runs], ddof=1))
                if len(runs) > 1
                else math.nan,
            }
            for key in keys
        }
        result["variants"][name] = {"overrides": overrides, "summary": summary, "runs": runs}
    return result


def decide(result: dict, order: list[str]) -> dict:
    """The pre-stated rule: a later (richer) variant replaces the current choice only if its mean
    criterion exceeds it by more than the larger seed sd of the two."""
    chosen = order[0]
    for name in order[1:]:
        a = result["variants"][chosen]["summary"]["criterion"]
        b = result["variants"][name]["summary"]["criterion"]
        margin = max(np.nan_to_num(a["sd"]), np.nan_to_num(b["sd"]))
        if b["mean"] - a["mean"] > margin:
            chosen = name
    rule = " ".join(__doc__.split("The decision rule, ")[1].split())
    return {"chosen": chosen, "rule": rule}


def fmt(value, scale=100.0):
    return (
        "—"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value * scale:.1f}"
    )


def markdown(result: dict, args, folds) -> str:
    lines = [
        f"# DS1 cross-validation: {args.name}",
        "",
        f"Command: `.venv/bin/python bench/ds1_cv.py {' '.join(sys.argv[1:])}`  ",
        f"Date: {result['date']}; machine: {result['machine']}; seeds {args.seeds}.",
        "",
        "Folds (DS1 records; DS2 never read): "
        + "; ".join(f"{k}: {' '.join(f)}" for k, f in enumerate(folds)),
        "",
        "Pooled out-of-fold predictions over all 22 DS1 records, EC57 gross statistics (Q "
        "excluded, F called V not a false VEB), e/j counted as N; mean ± sd over seeds (%).",
        "",
        "| variant | SVEB Se | SVEB +P | VEB Se | VEB +P | SVEB F1 | VEB F1 | criterion "
        "| accuracy | train s (all folds, per seed) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, v in result["variants"].items():
        s = v["summary"]
        keys = ("SVEB_Se", "SVEB_+P", "VEB_Se", "VEB_+P", "SVEB_F1", "VEB_F1", "criterion")
        cells = [f"{fmt(s[k]['mean'])} ± {fmt(s[k]['sd'])}" for k in (*keys, "accuracy")]
        seconds = np.mean([r["train_seconds"] for r in v["runs"]])
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {seconds:.0f} |")
    lines += [
        "",
        f"Chosen: **{result['decision']['chosen']}** — rule: {result['decision']['rule']}",
        "",
    ]
    lines += ["Per fold (seed " + str(args.seeds[0]) + "), SVEB Se / +P and VEB Se / +P (%):", ""]
    lines += ["| variant | " + " | ".join(f"fold {k}" for k in range(len(folds))) + " |"]
    lines += ["|---|" + "---|" * len(folds)]
    for name, v in result["variants"].items():
        cells = [
            f"{fmt(f['SVEB_Se'])}/{fmt(f['SVEB_+P'])}, {fmt(f['VEB_Se'])}/{fmt(f['VEB_+P'])}"
            for f in v["runs"][0]["per_fold"]
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def machine() -> str:
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpu.splitlines() if ln.startswith("Model name")), "?"
    )
    avx512 = "AVX-512" if "avx512f" in cpu else "no AVX-512"
    return f"{platform.machine()}, {model} ({avx512}), Python {platform.python_version()}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("phases", nargs="+", choices=["train", "score"])
    parser.add_argument("--name", required=True, help="name of the comparison (output file names)")
    parser.add_argument("--variant", nargs="+", action="append", required=True, metavar="NAME K=V")
    parser.add_argument("--experiment", default="inter_patient")
    parser.add_argument("--config", default=str(REPO / "config/config.yaml"))
    parser.add_argument("--manifest", default="results/inter_patient/manifest.csv")
    parser.add_argument("--work", default=None, help="out-of-fold tables (results/ds1_cv/NAME)")
    parser.add_argument("--out", default=None, help="bench/results/ds1_cv_NAME(.json/.md)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    args.work = args.work or f"results/ds1_cv/{args.name}"
    args.out = args.out or str(REPO / "bench/results" / f"ds1_cv_{args.name}")

    config = yaml.safe_load(Path(args.config).read_text())
    experiment = config["experiments"][args.experiment]
    if experiment.get("protocol") != "inter_patient":
        raise SystemExit(f"experiment {args.experiment} is not inter_patient")
    folds = [[str(r) for r in fold] for fold in experiment.get("cv_folds") or []]
    if not folds:
        raise SystemExit(f"experiments.{args.experiment}.cv_folds is not set in {args.config}")
    check_folds(folds, [str(r) for r in experiment["train_records"]])
    variants = [parse_variant(items) for items in args.variant]

    if "train" in args.phases:
        train_phase(args, experiment, folds, variants)
    if "score" in args.phases:
        result = score_phase(args, experiment, folds, variants)
        result.update(
            {
                "name": args.name,
                "date": date.today().isoformat(),
                "machine": machine(),
                "command": "bench/ds1_cv.py " + " ".join(sys.argv[1:]),
                "folds": folds,
                "seeds": args.seeds,
            }
        )
        result["decision"] = decide(result, [name for name, _ in variants])
        Path(f"{args.out}.json").write_text(json.dumps(result, indent=1, default=float) + "\n")
        Path(f"{args.out}.md").write_text(markdown(result, args, folds))
        print(Path(f"{args.out}.md").read_text())


if __name__ == "__main__":
    main()
