"""How the inter-patient CNN and expert are fused, chosen by cross-validation over DS1 records.

The workflow fuses the CNN's and the expert's probabilities by a weighted geometric mean
(:func:`ecg2d.expert.fuse`, the product rule): one model's near-zero probability vetoes a
class whatever the other says. The weighted arithmetic mean (the sum rule) lets either model
keep a class alive; Kittler et al. (1998, "On combining classifiers") found the sum rule the
more robust of the two where a model's probabilities are badly estimated, as a model's are on
patients unlike its training ones. This probe fuses, per seed, the stored out-of-fold CNN
table with the out-of-fold configured expert (``model.expert``, ``expert_weights`` of
``inter_patient`` in config/config.yaml; :func:`ds1_fusion.oof_pairs`) by each rule at every
CNN weight of ``ds1_fusion.WEIGHTS``, applies the configured ``model.class_factors`` to both,
and scores the pooled DS1 predictions as ``bench/ds1_fusion.py`` does (EC57, pooled and
record-mean figures). DS2 is never read.

The rule, fixed before the run: each fusion rule at its best CNN weight by the mean
``--criterion`` over the seeds; the geometric mean (the current) stays unless the arithmetic
mean's criterion is higher by more than the larger seed-to-seed standard deviation of the two.

    .venv/bin/python bench/ds1_fusion_rule_probe.py \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/window_cpb1_cnn/fixed_cpb1_cnn --criterion record
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402

RULE = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]


def arithmetic(p_cnn, p_expert, weight: float) -> np.ndarray:
    """Weighted arithmetic mean ``weight · p_cnn + (1 − weight) · p_expert`` (rows sum to 1)."""
    return (weight * np.asarray(p_cnn, np.float64) + (1.0 - weight) * np.asarray(p_expert)).astype(
        np.float32
    )


def main(argv=None) -> None:
    from ecg2d.expert import fuse

    parser = ds1_fusion.probe_parser(__doc__.split("\n")[0], rule=False)
    parser.add_argument("--criterion", choices=sorted(ds1_fusion.CRITERIA), default="record")
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_fusion_rule_probe.json"))
    args = parser.parse_args(argv)
    ds1_fusion.weight_probe(
        args,
        argv,
        "ds1_fusion_rule_probe",
        RULE,
        "DS1 fusion rule: `{kind}` and the CNN, geometric against arithmetic mean",
        f"seeds {args.seeds}",
        lambda pairs: {"geometric": (fuse, pairs), "arithmetic": (arithmetic, pairs)},
    )


if __name__ == "__main__":
    main()
