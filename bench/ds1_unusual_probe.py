"""DS1 probe, not built into the workflow: how unusual a beat is *for its record*.

The expert's prematurity features are ratios (the beat's RR against the previous one and
against the dominant cycle), and the trees must learn from the rhythm columns how much such a
ratio means in each rhythm: 0.85 is striking in a steady sinus rhythm and nothing in atrial
fibrillation. A record's own spread says it directly. Per record, label-free, each of three
features is made a robust z-score against all the record's beats (its median and scaled median
absolute deviation, 1.4826 * MAD, at least a floor): ``z_pre_upper`` of ``log(pre_rr /
upper_rr)``, ``z_pre_prev`` of ``log(pre_rr / prev_rr)`` and ``z_qrs_corr`` of the QRS
correlation with the record's median QRS. Ratios and correlations mean the same at any rate,
and so do their z-scores. The candidate is registered as an extra expert kind for this process
only. DS1 only; DS2 is never read.

The rule, fixed before the run: the shipped expert (``model.expert`` and ``expert_weights`` of
``inter_patient``), then the same with the three z-scores, each fused with the stored
out-of-fold CNN tables of ``--cnn`` at every CNN weight 0, 0.1, ..., 1 with the configured
``model.class_factors`` applied, each at its best weight by the mean ``--criterion`` over the
seeds; the second replaces the first only if its mean is higher by more than the larger seed
sd of the two.

    .venv/bin/python bench/ds1_unusual_probe.py \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/recipe_cnn/recipe_cnn --criterion record

Results: ``--out`` (JSON) and its table (``.md``) beside it. The rule adopted the candidate
(``bench/results/ds1_unusual_probe.md``, run at commit ``16b50d2``), so the configured expert is
now ``gbm_unusual`` and the probe, whose candidate extends ``gbm_premature``, stops with that
said; its helpers call the library's (:func:`ecg2d.rr.unusual_columns`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402

RULE = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]
#: The candidate's extra columns, in order (built into the workflow since, as
#: :data:`ecg2d.rr.UNUSUAL_COLUMNS`).
COLUMNS = ("z_pre_upper", "z_pre_prev", "z_qrs_corr")


def robust_z(values, floor: float) -> np.ndarray:
    """``(values - median) / max(1.4826 * MAD, floor)`` over all ``values`` (one record):
    :func:`ecg2d.rr.robust_z`."""
    from ecg2d.rr import robust_z

    return robust_z(values, floor).astype(np.float64)


def unusual_columns(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (original beats with ``pre_rr``, ``upper_rr``, ``prev_rr``, ``qrs_corr``) with
    :data:`COLUMNS`, each a robust z-score within the beat's record
    (:func:`ecg2d.rr.unusual_columns`)."""
    from ecg2d.rr import unusual_columns

    rows = rows.copy()
    for name in COLUMNS:
        rows[name] = np.nan
    for _, group in rows.groupby(rows["record"].astype(str)):
        columns = unusual_columns(
            *(group[c] for c in ("pre_rr", "upper_rr", "prev_rr", "qrs_corr"))
        )
        for name in COLUMNS:
            rows.loc[group.index, name] = columns[name]
    return rows


def main(argv=None) -> None:
    args, experiment, kind, suffix = ds1_fusion.extension_probe_args(
        __doc__, "ds1_unusual_probe", "gbm_premature", argv
    )
    rows = unusual_columns(ds1_fusion.ds1_originals(args.manifest))
    name = "gbm_unusual" + suffix
    ds1_fusion.register_probe_kind("gbm_unusual", COLUMNS)

    ds1_fusion.column_probe(
        args,
        argv,
        "ds1_unusual_probe",
        RULE,
        "DS1: how unusual a beat is for its record, in the `{kind}` expert",
        experiment,
        kind,
        rows,
        [name],
    )


if __name__ == "__main__":
    main()
