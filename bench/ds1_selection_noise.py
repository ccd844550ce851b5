"""How far DS1's record criterion can tell two rhythm experts apart: a paired bootstrap over
DS1's patients. A description; it chooses nothing and reads no DS2 beat.

Every round of issue 10 since the thirteenth session has compared experts by DS1's record
criterion (``bench/ds1_cv.record_headline``: each class's EC57 Se averaged over the DS1 records
holding at least 10 of its beats, harmonised with its gross +P, the SVEB and VEB F1 averaged),
out of fold over DS1's five record folds, and has allowed or required differences of half a
point to a point. The experts are deterministic, so the only spread those rules named was the
CNN's seeds. The spread that matters for a patient the model has not seen is another: which
22 patients DS1 happens to hold. This script measures it.

For each ``--expert`` item (``KIND~WEIGHTING``, as ``bench/ds1_stress.py`` takes them) the
expert is fitted per fold exactly as ``make run`` fits it (:func:`ecg2d.train.fit_rhythm_expert`)
on the other folds' beats, alone (fusion weight 0), with the configured class factors, and
calls every original DS1 beat of its fold. From each record's EC57 counts (TP, FN, FP of SVEB
and VEB) the criterion is recomputed on ``--boot`` resamples of DS1's records (drawn with
replacement, the same resamples for every expert, so differences are paired; a record drawn
twice counts twice in the record average and in the gross +P). Reported: each expert's
criterion with its 95 % interval; the difference between each expert and the one before it in
the list, and between each and the last (``--reference``, by default the last item), with its
95 % interval, the share of resamples in which it is above 0, and the largest change that
leaving out one record makes to it (and which record). Last, the walk: the experts taken in
order by a rule with a patient margin, each replacing the choice then only if their paired
difference is above 0 in at least ``--margin`` of the resamples (a description of what such a
rule would do, not this project's rule).

    .venv/bin/python bench/ds1_selection_noise.py \\
        --manifest <run>/results/inter_patient/manifest.csv

``--folds records`` judges each DS1 record by experts fitted on the other 21 (22 fits an
expert instead of 5), as the shipped expert, fitted on all of DS1, meets a new patient; the
five folds of ``cv_folds`` take two of the 8 records with 10 S beats or more out of training
at once in three folds (201 and 220, 207 and 118, 223 and 114).

``--stress RESULT.json ...`` reads ``bench/ds1_stress.py`` results instead and gives their
stress parts under resampling of the stressed records (``ds1_stress.stressed_resampled``).

``--counts RESULT.json`` reads the records' counts a run of this script kept instead of fitting
the experts again (seconds, not minutes), e.g. to compare them with another ``--reference``.

Results: ``--out`` (JSON) and its table (``.md``) beside it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402
from ds1_cv import RECORD_MIN_BEATS, fold_manifest, machine  # noqa: E402

LOG = logging.getLogger("ds1_selection_noise")
#: The experts in the order issue 10 adopted them (each alone, record weights, as configured
#: today): the logistic regression on RR and QRS shape, then the trees' kinds.
LADDER = (
    "rr_shape~record",
    "gbm~record",
    "gbm_af~record",
    "gbm_2lead~record",
    "gbm_premature~record",
    "gbm_unusual~record",
    "gbm_pwave~record",
    "gbm_psinus~record",
    "gbm_gated~record",
    "gbm_regime~record",
)
GROUPS = ("SVEB", "VEB")
#: ``--folds``: the experiment's ``cv_folds``, or one DS1 record a fold.
FOLD_MODES = ("config", "records")
#: The walk's margin (:func:`walk`): the share of resamples a step must be above 0 in.
WALK_MARGIN = 0.95


def folds_of(experiment: dict, mode: str) -> list[list[str]]:
    """DS1's folds: the experiment's ``cv_folds`` (``mode`` ``config``) or one record a fold
    (``records``: each patient judged by an expert fitted on all the others, as the shipped
    expert, fitted on all of DS1, meets a new patient)."""
    if mode == "config":
        return [[str(r) for r in fold] for fold in experiment["cv_folds"]]
    if mode == "records":
        return [[str(r)] for r in experiment["train_records"]]
    raise ValueError(f"folds: unknown {mode!r}; one of {FOLD_MODES}")


def oof_calls(manifest: pd.DataFrame, item: str, experiment: dict, folds=None) -> pd.DataFrame:
    """Out-of-fold calls of expert ``item`` on every original DS1 beat: ``record``, ``sample``,
    ``true``, ``predicted`` (the configured class factors applied); ``folds``: by default the
    experiment's ``cv_folds``."""
    from ecg2d.config import experiment_classes
    from ecg2d.expert import KIND_COLUMNS
    from ecg2d.train import fit_rhythm_expert

    classes = experiment_classes(experiment)
    factors = dict(experiment["model"].get("class_factors") or {})
    train = [str(r) for r in experiment["train_records"]]
    model = ds1_fusion.expert_spec(item)
    out = []
    for fold in folds or folds_of(experiment, "config"):
        rows = fold_manifest(manifest, train, [str(r) for r in fold])
        expert = fit_rhythm_expert(rows, model, classes, 0)
        test = rows[(rows["split"] == "test") & (rows["augmented"] == 0)]
        out.append(calls_table(expert, test, KIND_COLUMNS[model.expert], classes, factors))
    return pd.concat(out, ignore_index=True)


def calls_table(expert: dict, test: pd.DataFrame, columns, classes, factors: dict) -> pd.DataFrame:
    """The calls of fitted ``expert`` on manifest rows ``test`` (its ``columns``), class
    ``factors`` applied: ``record``, ``sample``, ``true`` (the rows' labels), ``predicted``."""
    from ecg2d.classifier import apply_class_factors
    from ecg2d.expert import expert_proba

    proba = expert_proba(expert, test[list(columns)].to_numpy())
    proba = apply_class_factors(proba, classes, factors)
    return pd.DataFrame(
        {
            "record": test["record"].astype(str).to_numpy(),
            "sample": test["sample"].astype(int).to_numpy(),
            "true": test["label"].to_numpy(),
            "predicted": np.asarray(classes, dtype=object)[proba.argmax(axis=1)],
        }
    )


def record_counts(scored: pd.DataFrame, classes, records: list[str]) -> dict:
    """Per group (SVEB, VEB), an array ``(records, 3)`` of EC57 TP, FN, FP in ``records``' order,
    from :func:`ecg2d.evaluate.metrics_report`'s ``per_record``, and the report's own record
    criterion (``ds1_cv.record_headline``) to check the recomputation against."""
    from ds1_cv import record_headline

    from ecg2d.evaluate import metrics_report

    report = metrics_report(scored, classes, "selection_noise", "inter_patient")
    per = report["per_record"]
    missing = sorted(set(records) - set(per))
    if missing:
        raise SystemExit(f"records without a scored beat: {missing}")
    counts = {
        g: np.array([[per[r]["counts"][g][k] for k in ("TP", "FN", "FP")] for r in records], float)
        for g in GROUPS
    }
    return {"counts": counts, "criterion_record": record_headline(report)["criterion_record"]}


def criterion(counts: dict, weights: np.ndarray, min_beats: int = RECORD_MIN_BEATS) -> np.ndarray:
    """The record criterion of ``ds1_cv.record_headline`` for each row of ``weights``
    (``(resamples, records)``: how many times each record is drawn) from per-record ``counts``
    (:func:`record_counts`). A record counts in a class's record-averaged Se if it holds at least
    ``min_beats`` of the class's beats; drawn ``k`` times, it counts ``k`` times there and in the
    gross +P. A resample without such a record has Se 0, as ``record_headline`` has."""
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    f1 = []
    for g in GROUPS:
        tp, fn, fp = counts[g].T
        beats = tp + fn
        held = beats >= min_beats
        se = np.divide(tp, beats, out=np.zeros_like(tp), where=beats > 0)
        w_held = weights * held
        n_held = w_held.sum(axis=1)
        se_rec = np.divide(w_held @ se, n_held, out=np.zeros(len(weights)), where=n_held > 0)
        called = weights @ (tp + fp)
        ppv = np.divide(weights @ tp, called, out=np.zeros(len(weights)), where=called > 0)
        total = se_rec + ppv
        f1.append(np.divide(2 * se_rec * ppv, total, out=np.zeros(len(weights)), where=total > 0))
    return (f1[0] + f1[1]) / 2


def resamples(n_records: int, boot: int, seed: int) -> np.ndarray:
    """``(boot, n_records)``: how many times each record is drawn in each resample (records
    drawn with replacement, ``n_records`` at a time)."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_records, size=(boot, n_records))
    return np.stack([np.bincount(d, minlength=n_records) for d in draws]).astype(float)


def difference(a: dict, b: dict, weights: np.ndarray, records: list[str]) -> dict:
    """Expert ``a``'s criterion minus ``b``'s, in points: on DS1 as it is, its 95 % interval over
    the resamples ``weights``, the share of them in which it is above 0, and the largest change
    that leaving out one record makes (with that record)."""
    n = len(records)
    point = float(criterion(a, np.ones(n))[0] - criterion(b, np.ones(n))[0])
    boot = criterion(a, weights) - criterion(b, weights)
    leave_one = np.ones((n, n)) - np.eye(n)
    loo = criterion(a, leave_one) - criterion(b, leave_one)
    k = int(np.argmax(np.abs(loo - point)))
    return {
        "difference": 100 * point,
        "ci95": [100 * float(q) for q in np.percentile(boot, [2.5, 97.5])],
        "sd": 100 * float(boot.std(ddof=1)),
        "share_above_0": float((boot > 0).mean()),
        "leave_one_out_largest_change": 100 * float(loo[k] - point),
        "leave_one_out_record": records[k],
    }


def fitted_counts(
    manifest_path: str, items, experiment: dict, records: list[str], folds=None
) -> dict:
    """Per expert item, its DS1 records' counts (:func:`record_counts`) from out-of-fold calls
    (:func:`oof_calls`, over ``folds``) on the DS1 rows of the manifest at ``manifest_path``."""
    from ecg2d.config import experiment_classes
    from ecg2d.split import read_table

    classes = experiment_classes(experiment)
    manifest = read_table(manifest_path)
    manifest = manifest[manifest["record"].astype(str).isin(records)]
    counts = {}
    for item in items:
        calls = oof_calls(manifest, item, experiment, folds)
        counts[item] = record_counts(calls, classes, records)
        LOG.info("%s: criterion %.4f", item, counts[item]["criterion_record"])
    return counts


def stored_counts(path: str, records: list[str]) -> tuple[dict, list[str]]:
    """The records' counts of every expert of a result of this script at ``path`` (as
    :func:`record_counts` gives them, the criterion recomputed from them) and its items, in
    order; the result's records must be ``records``."""
    result = json.loads(Path(path).read_text())
    if result.get("records") != records:
        raise SystemExit(f"{path}: its records are not DS1's {records}")
    counts = {}
    for item in result["items"]:
        c = {g: np.asarray(result["experts"][item]["record_counts"][g], float) for g in GROUPS}
        counts[item] = {
            "counts": c,
            "criterion_record": float(criterion(c, np.ones(len(records)))[0]),
        }
    return counts, list(result["items"])


def walk(counts: dict, items, weights: np.ndarray, records: list[str], margin: float) -> list:
    """The experts ``items`` taken in order by a rule with a patient margin: each replaces the
    current choice (at first the first item) only if its paired difference (:func:`difference`)
    is above 0 in at least ``margin`` of the resamples ``weights``. One step per later item:
    ``item``, ``against`` (the choice then), ``share_above_0`` and ``adopted``."""
    steps, current = [], items[0]
    for item in items[1:]:
        share = difference(counts[item], counts[current], weights, records)["share_above_0"]
        adopted = share >= margin
        steps.append(
            {"item": item, "against": current, "share_above_0": share, "adopted": bool(adopted)}
        )
        current = item if adopted else current
    return steps


def markdown(result: dict) -> list[str]:
    items = result["items"]
    lines = [
        "# How far DS1's record criterion tells experts apart",
        "",
        f"`{result['command']}` — {result['date']}, {result['machine']}. DS1 only, each expert",
        f"alone, out of fold, configured class factors {result['class_factors']}; "
        f"{result['boot']} resamples of the {len(result['records'])} DS1 records (seed "
        f"{result['seed']}); folds: {result.get('folds', 'config')}. A description: nothing is "
        "chosen here, DS2 is not read.",
        "",
        "| expert | criterion | 95 % interval | minus the one before | 95 % interval | "
        "share > 0 | leave one record out: largest change (record) | minus the reference | "
        "95 % interval | share > 0 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for item in items:
        row = result["experts"][item]
        prev = row.get("minus_previous")
        ref = row.get("minus_reference")

        def cells(d, loo=False):
            if d is None:
                return ["—", "—", "—"] + (["—"] if loo else [])
            out = [
                f"{d['difference']:+.2f}",
                f"[{d['ci95'][0]:+.2f}, {d['ci95'][1]:+.2f}]",
                f"{100 * d['share_above_0']:.0f} %",
            ]
            if loo:
                change, record = d["leave_one_out_largest_change"], d["leave_one_out_record"]
                out.append(f"{change:+.2f} ({record})")
            return out

        lines.append(
            "| "
            + " | ".join(
                [
                    f"`{item}`",
                    f"{row['criterion']:.2f}",
                    f"[{row['ci95'][0]:.2f}, {row['ci95'][1]:.2f}]",
                    *cells(prev, loo=True),
                    *cells(ref),
                ]
            )
            + " |"
        )
    lines += [
        "",
        f"Reference: `{result['reference']}`. Differences in points of the criterion (×100).",
        "",
        f"The experts taken in this order by a rule with a patient margin (a step is adopted if "
        f"its paired difference with the choice then is above 0 in at least "
        f"{100 * result['walk_margin']:.0f} % of the resamples; a description, not this "
        "project's rule):",
        "",
    ]
    chosen = result["items"][0]
    for step in result["walk"]:
        verdict = "adopted" if step["adopted"] else "not adopted"
        lines.append(
            f"- `{step['item']}` against `{step['against']}`: above 0 in "
            f"{100 * step['share_above_0']:.1f} % — {verdict}"
        )
        chosen = step["item"] if step["adopted"] else chosen
    lines += ["", f"Where it ends: `{chosen}`."]
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--manifest", help="the inter-patient manifest of a make run")
    source.add_argument(
        "--counts", help="a result of this script: its records' counts, instead of fitting anew"
    )
    source.add_argument(
        "--stress",
        nargs="+",
        help="results of bench/ds1_stress.py: their stress parts under resampling of the copies",
    )
    parser.add_argument("--expert", nargs="+", help="expert items, in order (default: the ladder)")
    parser.add_argument(
        "--folds",
        choices=FOLD_MODES,
        default="config",
        help="DS1's folds: the experiment's cv_folds, or one record a fold",
    )
    parser.add_argument(
        "--margin",
        type=float,
        default=WALK_MARGIN,
        help="the walk's share of resamples a step must be above 0 in",
    )
    parser.add_argument("--reference", help="the item the others are compared with (default: last)")
    parser.add_argument("--boot", type=int, default=2000, help="resamples of DS1's records")
    parser.add_argument("--seed", type=int, default=0, help="the resamples' seed")
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_selection_noise.json"))
    args = parser.parse_args(argv)
    if args.boot < 100:
        parser.error(f"--boot must be at least 100, got {args.boot}")
    if not 0.5 <= args.margin < 1:
        parser.error(f"--margin must be in [0.5, 1), got {args.margin}")
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    if args.stress:
        write(args.out, stress_result(args.stress, args.boot, args.seed, argv), stress_markdown)
        return
    experiment = ds1_fusion.shipped_experiment()
    records = sorted(str(r) for r in experiment["train_records"])
    if args.counts:
        counts, stored = stored_counts(args.counts, records)
        items = args.expert or stored
        unknown = [item for item in items if item not in counts]
        if unknown:
            parser.error(f"--expert {unknown}: not in {args.counts} (it holds {stored})")
    else:
        items = args.expert or list(LADDER)
        counts = fitted_counts(
            args.manifest, items, experiment, records, folds_of(experiment, args.folds)
        )
    reference = args.reference or items[-1]
    if reference not in items:
        parser.error(f"--reference {reference!r} is not among the experts {items}")
    weights = resamples(len(records), args.boot, args.seed)
    experts = {}
    for i, item in enumerate(items):
        c = counts[item]["counts"]
        here = float(criterion(c, np.ones(len(records)))[0])
        if abs(here - counts[item]["criterion_record"]) > 1e-9:
            raise SystemExit(f"{item}: recomputed criterion {here} != the report's")
        boot = criterion(c, weights)
        experts[item] = {
            "criterion": 100 * here,
            "ci95": [100 * float(q) for q in np.percentile(boot, [2.5, 97.5])],
            "minus_previous": (
                difference(c, counts[items[i - 1]]["counts"], weights, records) if i else None
            ),
            "minus_reference": (
                difference(c, counts[reference]["counts"], weights, records)
                if item != reference
                else None
            ),
            "record_counts": {g: c[g].astype(int).tolist() for g in GROUPS},
        }
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": command(argv),
        "records": records,
        "folds": (
            json.loads(Path(args.counts).read_text()).get("folds", "config")
            if args.counts
            else args.folds
        ),
        "class_factors": dict(experiment["model"].get("class_factors") or {}),
        "boot": args.boot,
        "seed": args.seed,
        "items": list(items),
        "reference": reference,
        "experts": experts,
        "walk_margin": args.margin,
        "walk": walk({i: counts[i]["counts"] for i in items}, items, weights, records, args.margin),
    }
    write(args.out, result, markdown)


def write(path: str, result: dict, table) -> None:
    """``result`` as JSON at ``path`` and its ``table`` (a function of it giving lines) beside
    it (``.md``), printed too."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    lines = "\n".join(table(result)) + "\n"
    out.with_suffix(".md").write_text(lines)
    print(lines, end="")


def command(argv) -> str:
    return " ".join(["bench/ds1_selection_noise.py", *(argv if argv is not None else sys.argv[1:])])


def stress_result(paths, boot: int, seed: int, argv) -> dict:
    """The stress parts of ``bench/ds1_stress.py`` results at ``paths`` under resampling of
    their stressed records (``ds1_stress.stressed_resampled``)."""
    import ds1_stress

    results = {}
    for path in paths:
        stressed = json.loads(Path(path).read_text())
        results[path] = {
            "stressed_records": stressed["stressed_records"],
            "command": stressed["command"],
            "experts": ds1_stress.stressed_resampled(stressed, boot, seed),
        }
    return {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": command(argv),
        "boot": boot,
        "seed": seed,
        "min_gain": ds1_stress.MIN_GAIN,
        "min_ppv": ds1_stress.MIN_PPV,
        "max_bigeminy_fall": ds1_stress.MAX_BIGEMINY_FALL,
        "results": results,
    }


def stress_markdown(result: dict) -> list[str]:
    lines = [
        "# The stress test's part of a rule under resampling of the stressed records",
        "",
        f"`{result['command']}` — {result['date']}, {result['machine']}. Pooled SVEB Se on the "
        f"stressed copies, each expert minus the first (the configured one), on "
        f"{result['boot']} resamples of the stressed records (seed {result['seed']}); the runs "
        f"part: above {100 * result['min_gain']:.0f} points with +P at least "
        f"{100 * result['min_ppv']:.0f} %; the bigeminy part: not below "
        f"-{100 * result['max_bigeminy_fall']:.0f} point (a round applies the first to the "
        "runs form, the second to the bigeminy form). A description: nothing is chosen.",
        "",
        "| result | stressed records | expert | difference | 95 % interval | runs part holds | "
        "bigeminy part holds |",
        "|---|---|---|---|---|---|---|",
    ]
    for path, res in result["results"].items():
        for item, d in res["experts"].items():
            lines.append(
                f"| `{Path(path).name}` | {', '.join(res['stressed_records'])} | `{item}` | "
                f"{d['difference']:+.1f} | [{d['ci95'][0]:+.1f}, {d['ci95'][1]:+.1f}] | "
                f"{100 * d['share_runs_part']:.1f} % | {100 * d['share_bigeminy_part']:.1f} % |"
            )
    return lines


if __name__ == "__main__":
    main()
