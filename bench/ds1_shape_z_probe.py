"""DS1 probe, not built into the workflow: how unusual a beat's QRS is for its record, in every
shape number.

The adopted expert (``gbm_unusual``) scores how unusual a beat is for its own record in three
numbers: its two prematurities and its QRS correlation. The QRS shape has five more numbers the
trees read as they are (amplitude and width over the record's median in the lead read;
correlation, amplitude and width in the second lead), each already a ratio to the record's
usual beat but not scaled by how much the record's own beats vary. The candidate adds their
robust z-scores within the record (:func:`ecg2d.rr.robust_z`: the median and 1.4826 * MAD of
the record's beats; floors 0.02 for the log ratios, 0.01 for the correlation), over the beats
that have the number (a one-lead record's second-lead numbers stay missing). DS1 only; DS2 is
never read.

The rule, fixed before the run: the configured expert (``gbm_unusual``, record weights), then
the same with the five z-scores, each fused with the stored out-of-fold CNN tables of ``--cnn``
at every CNN weight 0, 0.1, ..., 1 with the configured ``model.class_factors`` applied, each at
its best weight by the mean ``--criterion`` over the seeds; the candidate replaces the
configured expert only if its mean is higher by more than the larger of 0.5 and the larger seed
sd of the two (an expert alone has no seed, so its sd is 0.0; 0.5 is the seed sd of the fused
configuration it replaced).

    .venv/bin/python bench/ds1_shape_z_probe.py \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/recipe_cnn/recipe_cnn --criterion record

Results: ``--out`` (JSON) and its table (``.md``) beside it.
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
#: The smallest margin the candidate must clear (see the rule): 0.5 points, in the criteria's
#: own units (fractions). Until the twenty-third session it read 0.5, fifty points, which no
#: candidate could clear: the P-wave round's JSON says ``chosen`` the incumbent where the rule as
#: written (0.5 points) adopts the candidate, as that session did by the table (BENCHMARKS.md).
MARGIN = 0.005
#: Shape columns scored, and each z-score's floor.
FLOORS = {
    "qrs_amp": 0.02,
    "qrs_width": 0.02,
    "qrs_corr_2": 0.01,
    "qrs_amp_2": 0.02,
    "qrs_width_2": 0.02,
}
COLUMNS = tuple(f"z_{c}" for c in FLOORS)


def shape_z_columns(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (original beats with the shape columns of :data:`FLOORS`) with
    :data:`COLUMNS`: each a robust z-score within the beat's record over the beats that have
    the number; missing where the number is."""
    from ecg2d.rr import robust_z

    rows = rows.copy()
    for column, floor in FLOORS.items():
        out = np.full(len(rows), np.nan)
        values = rows[column].to_numpy(np.float64)
        record = rows["record"].astype(str).to_numpy()
        for r in np.unique(record):
            at = (record == r) & np.isfinite(values)
            if at.any():
                out[at] = robust_z(values[at], floor)
        rows[f"z_{column}"] = out
    return rows


def main(argv=None) -> None:
    args, experiment, kind, suffix = ds1_fusion.extension_probe_args(
        __doc__, "ds1_shape_z_probe", "gbm_unusual", argv
    )
    ds1_fusion.register_probe_kind("gbm_shape_z", COLUMNS, "gbm_unusual", may_be_missing=True)
    candidate = "gbm_shape_z" + suffix
    rows = shape_z_columns(ds1_fusion.ds1_originals(args.manifest))

    ds1_fusion.column_probe(
        args,
        argv,
        "ds1_shape_z_probe",
        RULE,
        "DS1: how unusual a beat's QRS is for its record, in the `{kind}` expert",
        experiment,
        kind,
        rows,
        [candidate],
        minimum=MARGIN,
        margin=MARGIN,
    )


if __name__ == "__main__":
    main()
