"""DS1 probe, not built into the workflow: how unusual the atrial activity before a beat is for
its record.

An atrial premature beat starts from an ectopic focus, so its P wave differs from the record's
sinus P wave (or falls into the T wave before it); a junctional beat has none before its QRS.
The P-wave likeness of ``bench/ds1_expert_study.py`` (``p_corr``: the band-passed lead from 250
to 70 ms before the R peak, correlated with the record's median of that stretch) measures this,
but as it is it failed twice (alone, and as a local median): in atrial fibrillation every beat
has a poor likeness. The adopted expert's answer to the same problem in RR intervals was to
score a beat against its own record's spread (``gbm_unusual``). The candidate does that for the
likeness: ``z_p_corr``, its robust z-score within the record (:func:`ecg2d.rr.robust_z`, floor
0.01), low where a beat's atrial activity is unusual *for that record*, near 0 throughout a
fibrillating one. DS1 only; DS2 is never read.

The rule, fixed before the run: the configured expert (``gbm_unusual``, record weights), then
the same with ``z_p_corr``, each fused with the stored out-of-fold CNN tables of ``--cnn`` at
every CNN weight 0, 0.1, ..., 1 with the configured ``model.class_factors`` applied, each at its
best weight by the mean ``--criterion`` over the seeds; the candidate replaces the configured
expert only if its mean is higher by more than the larger of 0.5 and the larger seed sd of the
two (``bench/ds1_shape_z_probe.py``'s margin).

    .venv/bin/python bench/ds1_pwave_z_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/recipe_cnn/recipe_cnn --criterion record

Results: ``--out`` (JSON) and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402
from ds1_shape_z_probe import MARGIN  # noqa: E402

RULE = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]
#: The smallest robust spread of the likeness the z-score divides by.
FLOOR = 0.01


def pwave_z_column(rows: pd.DataFrame, data_dir: str) -> pd.DataFrame:
    """``rows`` (original beats) sorted by record and sample, with ``p_corr`` and its robust
    z-score within the record, ``z_p_corr``."""
    from ds1_expert_study import with_p_wave

    from ecg2d.rr import robust_z

    return with_p_wave(rows, data_dir, z_p_corr=lambda p: robust_z(p, FLOOR))


def main(argv=None) -> None:
    def data_dir(parser):
        parser.add_argument("--data-dir", required=True, help="the MIT-BIH records")

    args, experiment, kind, suffix = ds1_fusion.extension_probe_args(
        __doc__, "ds1_pwave_z_probe", "gbm_unusual", argv, data_dir
    )
    ds1_fusion.register_probe_kind("gbm_pwave_z", ("z_p_corr",), "gbm_unusual")
    rows = pwave_z_column(ds1_fusion.ds1_originals(args.manifest), args.data_dir)
    ds1_fusion.column_probe(
        args,
        argv,
        "ds1_pwave_z_probe",
        RULE,
        "DS1: how unusual the atrial activity before a beat is for its record, in `{kind}`",
        experiment,
        kind,
        rows,
        ["gbm_pwave_z" + suffix],
        minimum=MARGIN,
        margin=MARGIN,
    )


if __name__ == "__main__":
    main()
