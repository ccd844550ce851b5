"""The CNN's fusion weight of the inter-patient configuration, re-checked over DS1 records.

``model.fusion_weight`` is the CNN's weight in the product-rule fusion with the rhythm expert
(:func:`ecg2d.expert.fuse`). It was chosen for an earlier CNN; when the CNN changes, this probe
fuses, per seed, the stored out-of-fold CNN-only table of ``--cnn`` with the out-of-fold expert
as the configuration does (``model.expert`` and ``expert_weights`` of ``inter_patient`` in
config/config.yaml; :func:`ds1_fusion.oof_pairs`) at each weight of ``--weights``, applies the
configured ``model.class_factors`` and scores the pooled DS1 predictions as
``bench/ds1_fusion.py`` does (EC57, pooled and record-mean figures). DS2 is never read.

The rule, fixed before the run: weights are taken in the order given, the first being the
configured one; a later weight replaces the current choice only if its mean ``--criterion``
over the seeds is higher by more than the larger seed-to-seed standard deviation of the two.

    .venv/bin/python bench/ds1_weight_probe.py \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/recipe_cnn/recipe_cnn --criterion record \\
        --weights 0.3 0.2 0.4 0.1 0.5 0.6
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402
from ds1_factor_probe import sweep  # noqa: E402

RULE = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]


def main(argv=None) -> None:
    from ecg2d.classifier import apply_class_factors
    from ecg2d.expert import fuse

    parser = ds1_fusion.probe_parser(__doc__.split("\n")[0])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.3, 0.2, 0.4])
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_weight_probe.json"))
    args = parser.parse_args(argv)
    _, classes, factors, kind, weight, pairs = ds1_fusion.configured_pairs(args)
    if args.weights[0] != weight:
        raise SystemExit(f"the first weight must be the configured one, {weight}")

    def probas(w):
        for seed, (table, p_cnn, p_expert) in pairs.items():
            yield seed, table, apply_class_factors(fuse(p_cnn, p_expert, w), classes, factors)

    sweep(
        args,
        argv,
        "ds1_weight_probe",
        RULE,
        args.weights,
        probas,
        classes,
        expert=kind,
        configured_fusion_weight=weight,
        class_factors=factors,
        title=f"DS1: the CNN's fusion weight with `{kind}`",
        scope=f"seeds {args.seeds}; DS1 only; class factors {factors or 'none'} after fusion",
        column="CNN weight",
    )


if __name__ == "__main__":
    main()
