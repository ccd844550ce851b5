"""DS1 probe, not built into the workflow: do RR intervals in seconds help the tree expert?

Every RR feature of the expert is a ratio: to the record's mean RR, to the previous interval, to
the dominant cycle. De Chazal et al. (2004) and most inter-patient methods after them also give
their classifiers the intervals themselves, in seconds: an interval of 0.45 s is early at
almost any resting heart rate, whatever the record's own rhythm, and a ratio cannot say that
when premature beats are the record's usual beat. This adds the four intervals of the RR
context in seconds (``pre_rr``, ``post_rr``, ``local_rr``, ``record_rr``; seconds mean the same
at any sampling rate) to the ``gbm_premature`` expert's features, as an extra kind
``gbm_seconds`` registered here only, and runs ``bench/ds1_fusion.py``'s DS1 comparison with its
rule. DS1 only; DS2 is never read.

    .venv/bin/python bench/ds1_seconds_probe.py \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/window_cpb1_cnn/fixed_cpb1_cnn

Results: ``bench/results/ds1_fusion_seconds_probe.json`` and ``.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import ds1_fusion  # noqa: E402

from ecg2d.rr import RR_COLUMNS  # noqa: E402

#: The probe's extra columns: the RR context's intervals, in seconds, under their own names.
SECONDS_COLUMNS = tuple(f"{c}_s" for c in RR_COLUMNS)


def add_seconds(rows) -> None:
    """Copy manifest rows' RR intervals (seconds) into :data:`SECONDS_COLUMNS`, unchanged."""
    for column, name in zip(RR_COLUMNS, SECONDS_COLUMNS):
        rows[name] = rows[column].to_numpy(float)


def main(argv=None) -> None:
    args = ds1_fusion.probe_args(__doc__.split("\n")[0], argv)
    rows = ds1_fusion.ds1_originals(args.manifest)
    add_seconds(rows)
    ds1_fusion.probe_extra_column(rows, SECONDS_COLUMNS, "gbm_seconds", "seconds_probe", args)


if __name__ == "__main__":
    main()
