"""Per DS1 record, out of fold: how many of its S and V beats the shipped fusion finds.

DS1 folds only (DS2 is never read). The pooled DS1 figures of ``bench/ds1_fusion.py`` are
dominated by the records with the most ectopic beats (209 holds 383 of DS1's S beats); this
table shows each record, to see which ones the configuration fails as a whole. For every seed
of the stored out-of-fold CNN table, the CNN's probabilities are fused with the out-of-fold
expert's at the configured weight, with the configured operating point (``model.expert``,
``expert_weights``, ``fusion_weight`` and ``class_factors`` of ``inter_patient`` in
config/config.yaml, unless given), and per record the S and V beats, those
called S or V, and the beats of other classes called S or V are counted. What each missed S
beat was called is counted too.

    .venv/bin/python bench/ds1_per_record.py --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/window_cpb1_cnn/fixed_cpb1_cnn
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402
from ds1_cv import machine  # noqa: E402


def record_counts(records, true, predicted) -> dict:
    """Per record: S and V beats, found, and false calls; what missed S beats were called."""
    out = {}
    for record in sorted(set(records)):
        mask = records == record
        t, p = true[mask], predicted[mask]
        row = {}
        for label in ("S", "V"):
            row[f"{label}_beats"] = int((t == label).sum())
            row[f"{label}_found"] = int(((t == label) & (p == label)).sum())
            row[f"{label}_false"] = int(((t != label) & (p == label)).sum())
        row["S_missed_as"] = dict(Counter(p[(t == "S") & (p != "S")].tolist()))
        out[str(record)] = row
    return out


def main(argv=None) -> None:
    from ecg2d.classifier import apply_class_factors
    from ecg2d.config import experiment_classes

    parser = ds1_fusion.probe_parser(__doc__.split("\n")[0], rule=False)
    parser.add_argument(
        "--expert", default=None, help="KIND[~WEIGHTING] (default: the config's expert)"
    )
    parser.add_argument("--weight", type=float, default=None, help="CNN weight (the config's)")
    parser.add_argument(
        "--factors",
        type=yaml.safe_load,
        default=None,
        help="model.class_factors as YAML, e.g. '{S: 0.5}' or '{}' (default: the config's)",
    )
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_per_record.json"))
    args = parser.parse_args(argv)
    experiment = ds1_fusion.shipped_experiment()
    kind, weight = ds1_fusion.configured_expert(experiment)
    kind = args.expert or kind
    weight = args.weight if args.weight is not None else weight
    factors = experiment["model"].get("class_factors") or {}
    factors = factors if args.factors is None else args.factors
    classes = experiment_classes(experiment)
    per_seed = {}
    fused = ds1_fusion.fused_oof(args.manifest, args.cnn, args.seeds, kind, weight, experiment)
    for seed, (table, proba) in fused.items():
        per_seed[seed] = record_counts(
            table["record"].astype(str).to_numpy(),
            table["true"].to_numpy(),
            np.asarray(classes, dtype=object)[
                apply_class_factors(proba, classes, factors).argmax(1)
            ],
        )
    records = sorted(per_seed[args.seeds[0]])
    lines = [
        f"# DS1 per record, out of fold: `{kind}` fused at CNN weight {weight}, "
        f"class factors {factors or 'none'}",
        "",
        f"`.venv/bin/python bench/ds1_per_record.py {' '.join(sys.argv[1:])}` — "
        f"{date.today().isoformat()}, {machine()}. Mean over seeds {args.seeds}; DS1 only.",
        "",
        "| record | S beats | S found | false S | V beats | V found | false V | missed S called |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for record in records:
        rows = [per_seed[s][record] for s in args.seeds]

        def mean(key, rows=rows):
            return f"{np.mean([r[key] for r in rows]):.1f}"

        missed = Counter()
        for r in rows:
            missed.update(r["S_missed_as"])
        called = ", ".join(
            f"{k} {v / len(rows):.1f}" for k, v in sorted(missed.items(), key=lambda kv: -kv[1])
        )
        lines.append(
            f"| {record} | {rows[0]['S_beats']} | {mean('S_found')} | {mean('S_false')} | "
            f"{rows[0]['V_beats']} | {mean('V_found')} | {mean('V_false')} | {called} |"
        )
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": "bench/ds1_per_record.py " + " ".join(sys.argv[1:]),
        "expert": kind,
        "fusion_weight": weight,
        "class_factors": factors,
        "per_seed": {str(s): v for s, v in per_seed.items()},
    }
    ds1_fusion.write_result(args.out, result, lines)


if __name__ == "__main__":
    main()
