"""Two inter-patient CNN seeds averaged before fusion, chosen by cross-validation over DS1 records.

One CNN's probabilities carry its seed's noise: on DS2 a seed moves SVEB Se by points. The
issue lists ensembles over seeds as a fusion lever. This probe averages the stored
out-of-fold CNN tables of two seeds (the arithmetic mean of their probabilities, as an
ensemble of networks is usually combined), fuses the average with the out-of-fold configured
expert (``model.expert``, ``expert_weights`` of ``inter_patient`` in config/config.yaml;
:func:`ds1_fusion.oof_pairs`) by the workflow's rule (:func:`ecg2d.expert.fuse`) at every CNN
weight of ``ds1_fusion.WEIGHTS``, applies the configured ``model.class_factors`` and scores
the pooled DS1 predictions as ``bench/ds1_fusion.py`` does (EC57, pooled and record-mean
figures). The single CNNs are scored the same way, one seed at a time. DS2 is never read.

The rule, fixed before the run: the single CNN (mean over seeds 42, 43 and 44) and the
two-seed ensemble (mean over the three pairs of those seeds), each at its best CNN weight by
the mean ``--criterion``; the single CNN stays unless the ensemble's criterion is higher by
more than the larger standard deviation of the two. An ensemble would cost ``make run`` a
second inter-patient training (133 s on the CPU without AVX-512).

    .venv/bin/python bench/ds1_ensemble_probe.py \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/window_cpb1_cnn/fixed_cpb1_cnn --criterion record
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402

RULE = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]


def members(pairs: dict, size: int) -> dict:
    """``{name: (table, CNN probabilities averaged over the members, expert probabilities)}``
    for every combination of ``size`` seeds of ``pairs`` (:func:`ds1_fusion.oof_pairs`); the
    seeds' tables must hold the same beats in the same order."""
    seeds = list(pairs)
    first = pairs[seeds[0]][0][["record", "sample"]]
    for seed in seeds[1:]:
        if not pairs[seed][0][["record", "sample"]].equals(first):
            raise SystemExit(f"seed {seed}'s out-of-fold table holds other beats than {seeds[0]}'s")
    out = {}
    for combo in itertools.combinations(seeds, size):
        table, _, p_expert = pairs[combo[0]]
        p_cnn = np.mean([pairs[s][1] for s in combo], axis=0)
        out["+".join(map(str, combo))] = (table, p_cnn, p_expert)
    return out


def main(argv=None) -> None:
    from ecg2d.expert import fuse

    parser = ds1_fusion.probe_parser(__doc__.split("\n")[0], rule=False)
    parser.add_argument("--criterion", choices=sorted(ds1_fusion.CRITERIA), default="record")
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_ensemble_probe.json"))
    args = parser.parse_args(argv)
    ds1_fusion.weight_probe(
        args,
        argv,
        "ds1_ensemble_probe",
        RULE,
        "DS1 seed ensemble: two CNN seeds averaged, then fused with `{kind}`",
        f"the seeds {args.seeds} (single) or over their pairs (ensemble of two)",
        lambda pairs: {
            "single": (fuse, members(pairs, 1)),
            "ensemble of two": (fuse, members(pairs, 2)),
        },
    )


if __name__ == "__main__":
    main()
