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

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402

RULE = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]


def decide(scores: dict, key: str, minimum: float = 0.0) -> str:
    """The rule: ``scores`` ``{factor: {key: {"mean", "sd"}}}`` in the order given; the first is
    the current choice, a later one replaces it only beyond the larger seed sd of the two (and
    beyond ``minimum``, in the figure's own units, for choices between models without a seed,
    whose sd is 0)."""
    factors = list(scores)
    chosen = factors[0]
    for factor in factors[1:]:
        a, b = scores[chosen][key], scores[factor][key]
        if b["mean"] - a["mean"] > max(ds1_fusion.seed_margin(a, b), minimum):
            chosen = factor
    return chosen


def sweep(args, argv, script: str, rule: str, values, probas, classes, **fields) -> None:
    """Score one setting of the fused configuration at each of ``values``, the first being the
    current one, choose by the rule (:func:`decide` on ``args.criterion``) and write
    ``args.out``. ``probas(value)`` gives ``(seed, table, proba)`` per seed: the DS1 beats and
    their final probabilities (columns in ``classes`` order) at that value. ``fields``: the
    probe's own JSON fields, with ``expert`` (the ``--expert`` item), ``title`` and ``scope`` of
    the Markdown head and ``column`` (the table's first heading), which are not written into
    the JSON."""
    title, scope, column = fields.pop("title"), fields.pop("scope"), fields.pop("column")
    kind = fields.pop("expert")
    key = ds1_fusion.CRITERIA[args.criterion]
    scores, runs = {}, {}
    for value in values:
        runs[value] = [
            ds1_fusion.seed_figures(table, proba, classes, seed, script.removeprefix("ds1_"))
            for seed, table, proba in probas(value)
        ]
        scores[value] = ds1_fusion.seed_summary(runs[value])
    chosen = decide(scores, key)
    result = ds1_fusion.probe_result(
        script,
        argv,
        kind,
        key,
        **fields,
        scores={str(v): s for v, s in scores.items()},
        runs={str(v): r for v, r in runs.items()},
        chosen=chosen,
        rule=" ".join(rule.split()),
    )
    lines = ds1_fusion.probe_intro(result, title, scope)
    marked = ((f"{v:g}" + (" **(chosen)**" if v == chosen else ""), s) for v, s in scores.items())
    lines += ds1_fusion.probe_table(column, marked)
    lines += ["", f"Rule: {result['rule']}", ""]
    ds1_fusion.write_result(args.out, result, lines)


def main(argv=None) -> None:
    from ecg2d.classifier import apply_class_factors
    from ecg2d.config import experiment_classes

    parser = ds1_fusion.probe_parser(__doc__.split("\n")[0])
    parser.add_argument("--label", default="S", help="the class whose factor is chosen")
    parser.add_argument("--factors", type=float, nargs="+", default=[1, 1.25, 1.5, 2, 3, 4])
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_factor_probe.json"))
    args = parser.parse_args(argv)
    experiment = ds1_fusion.shipped_experiment()
    classes = experiment_classes(experiment)
    kind, weight = ds1_fusion.configured_expert(experiment)
    fused = ds1_fusion.fused_oof(args.manifest, args.cnn, args.seeds, kind, weight, experiment)

    def probas(factor):
        for seed, (table, proba) in fused.items():
            yield seed, table, apply_class_factors(proba, classes, {args.label: factor})

    sweep(
        args,
        argv,
        "ds1_factor_probe",
        RULE,
        args.factors,
        probas,
        classes,
        expert=kind,
        fusion_weight=weight,
        label=args.label,
        title=f"DS1 operating point: factor on {args.label}, `{kind}` fused at CNN weight {weight}",
        scope=f"seeds {args.seeds}; DS1 only",
        column="factor",
    )


if __name__ == "__main__":
    main()
