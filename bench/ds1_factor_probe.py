"""The operating point of the inter-patient fusion, chosen by cross-validation over DS1 records.

``model.class_factors`` multiplies a class's final probability before the argmax
(:func:`ecg2d.classifier.apply_class_factors`). This probe fuses, per seed, the stored
out-of-fold CNN table with the out-of-fold expert exactly as the configuration does
(``model.expert``, ``expert_weights`` and ``fusion_weight`` of ``inter_patient`` in
config/config.yaml; :func:`ds1_fusion.fused_oof`), applies each factor of ``--factors`` to
class ``--label`` and scores the pooled DS1 predictions as ``bench/ds1_fusion.py`` does (EC57,
pooled and record-mean figures). DS2 is never read.

The rule, fixed before the run: factors are taken in the order given, the first being the
current one; a later factor replaces the current choice only if its mean ``--criterion`` over
the seeds is higher by more than the larger seed-to-seed standard deviation of the two.

    .venv/bin/python bench/ds1_factor_probe.py \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/window_cpb1_cnn/fixed_cpb1_cnn --criterion record \\
        --label S --factors 1 1.25 1.5 2 3 4 0.75 0.5
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402

RULE = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]


def decide(scores: dict, key: str) -> str:
    """The rule: ``scores`` ``{factor: {key: {"mean", "sd"}}}`` in the order given; the first is
    the current choice, a later one replaces it only beyond the larger seed sd of the two."""
    factors = list(scores)
    chosen = factors[0]
    for factor in factors[1:]:
        a, b = scores[chosen][key], scores[factor][key]
        if b["mean"] - a["mean"] > ds1_fusion.seed_margin(a, b):
            chosen = factor
    return chosen


def main(argv=None) -> None:
    from ecg2d.classifier import apply_class_factors
    from ecg2d.config import experiment_classes

    parser = ds1_fusion.probe_parser(__doc__.split("\n")[0])
    parser.add_argument("--label", default="S", help="the class whose factor is chosen")
    parser.add_argument("--factors", type=float, nargs="+", default=[1, 1.25, 1.5, 2, 3, 4])
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_factor_probe.json"))
    args = parser.parse_args(argv)
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    experiment = config["experiments"]["inter_patient"]
    classes = experiment_classes(experiment)
    kind, weight = ds1_fusion.configured_expert(experiment)
    fused = ds1_fusion.fused_oof(args.manifest, args.cnn, args.seeds, kind, weight, experiment)
    key = ds1_fusion.CRITERIA[args.criterion]
    scores, runs = {}, {}
    for factor in args.factors:
        runs[factor] = []
        for seed, (table, proba) in fused.items():
            proba = apply_class_factors(proba, classes, {args.label: factor})
            runs[factor].append(
                ds1_fusion.seed_figures(table, proba, classes, seed, "factor_probe")
            )
        scores[factor] = ds1_fusion.seed_summary(runs[factor])
    chosen = decide(scores, key)
    result = ds1_fusion.probe_result(
        "ds1_factor_probe",
        argv,
        kind,
        key,
        fusion_weight=weight,
        label=args.label,
        scores={str(f): v for f, v in scores.items()},
        runs={str(f): v for f, v in runs.items()},
        chosen=chosen,
        rule=" ".join(RULE.split()),
    )
    lines = ds1_fusion.probe_intro(
        result,
        f"DS1 operating point: factor on {args.label}, `{kind}` fused at CNN weight {weight}",
        f"seeds {args.seeds}; DS1 only",
    )
    marked = ((f"{f:g}" + (" **(chosen)**" if f == chosen else ""), s) for f, s in scores.items())
    lines += ds1_fusion.probe_table("factor", marked)
    lines += ["", f"Rule: {result['rule']}", ""]
    ds1_fusion.write_result(args.out, result, lines)


if __name__ == "__main__":
    main()
