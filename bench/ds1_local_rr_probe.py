"""DS1 probe, not built into the workflow: a beat's RR interval against the local average, and the
interval after it against the one before.

The expert reads each interval against the record's mean RR (``log_pre_over_record``,
``log_post_over_record``, ``log_local_over_record``), against the dominant cycle and against
the previous interval. The two ratios the inter-patient literature most often reads are not
among its features: the interval before the beat over the mean of the ten before it (Mar et
al. 2011, Llamedo and Martínez 2011, Mondéjar-Guerra et al. 2019), and the interval after the
beat over the one before it (the coupling and its pause in one number). The trees see their
parts, but a ratio of two of their features takes them many splits to approximate. The
candidate columns, computed from manifest columns the expert already reads: ``log_pre_over_local``
= ``log(pre_rr / local_rr)`` and ``log_post_over_pre`` = ``log(post_rr / pre_rr)``
(intervals floored at ``ecg2d.rr.MIN_RR`` as the expert's own features are). Ratios of
seconds, the same at any sampling rate. DS1 only; DS2 is never read.

The rule, fixed before the run: the configured expert (``gbm_psinus``, record weights, alone as
configured), then ``gbm_psinus_local`` (also the two ratios), each fused with the stored
out-of-fold CNN tables of ``--cnn`` at every CNN weight 0, 0.1, ..., 1 with the configured
``model.class_factors`` applied, each at its best weight by the mean ``--criterion`` over the
seeds; the candidate replaces the configured expert only if its mean is higher by more than
the larger of 0.5 points and the larger seed sd of the two (``bench/ds1_shape_z_probe.py``'s
margin). Whatever the rule says, ``bench/ds1_stress.py`` is then run on both (a description,
not part of the rule).

    .venv/bin/python bench/ds1_local_rr_probe.py \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/recipe_cnn/recipe_cnn --criterion record

Results: ``--out`` (JSON) and its table (``.md``) beside it. The stress test of both:

    .venv/bin/python bench/ds1_local_rr_probe.py stress --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

(``bench/results/ds1_local_rr_stress.json`` and ``.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402
import ds1_stress  # noqa: E402
from ds1_shape_z_probe import MARGIN  # noqa: E402

RULE = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]
#: The candidate's columns, in order.
COLUMNS = ("log_pre_over_local", "log_post_over_pre")


def local_ratios(rows: pd.DataFrame) -> pd.DataFrame:
    """:data:`COLUMNS` of beats with ``pre_rr``, ``post_rr`` and ``local_rr`` (seconds), each
    interval floored at ``MIN_RR``."""
    from ecg2d.rr import MIN_RR

    pre, post, local = (
        np.maximum(rows[c].to_numpy(np.float64), MIN_RR) for c in ("pre_rr", "post_rr", "local_rr")
    )
    return pd.DataFrame(
        {COLUMNS[0]: np.log(pre / local), COLUMNS[1]: np.log(post / pre)}, index=rows.index
    )


def register() -> None:
    """Register, for this process only, kind ``gbm_psinus_local`` and its columns as ones
    ``bench/ds1_stress.py`` derives from each beats table."""
    ds1_fusion.register_probe_kind("gbm_psinus_local", COLUMNS, "gbm_psinus")
    for column in COLUMNS:
        ds1_stress.DERIVED[column] = lambda rows, c=column: local_ratios(rows)[c].to_numpy()


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["stress"]:
        register()
        out = str(REPO / "bench/results/ds1_local_rr_stress.json")
        items = ["gbm_psinus~record", "gbm_psinus_local~record"]
        ds1_stress.main([*argv[1:], "--out", out, "--expert", *items])
        return
    args, experiment, kind, suffix = ds1_fusion.extension_probe_args(
        __doc__, "ds1_local_rr_probe", "gbm_psinus", argv
    )
    register()
    rows = ds1_fusion.ds1_originals(args.manifest)
    rows[list(COLUMNS)] = local_ratios(rows)
    ds1_fusion.column_probe(
        args,
        argv,
        "ds1_local_rr_probe",
        RULE,
        "DS1: RR against the local average, and the interval after against the one before, "
        "in `{kind}`",
        experiment,
        kind,
        rows,
        ["gbm_psinus_local" + suffix],
        minimum=MARGIN,
        margin=MARGIN,
    )


if __name__ == "__main__":
    main()
