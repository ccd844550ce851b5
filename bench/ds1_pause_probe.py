"""DS1 probe, not built into the workflow: does the compensatory pause help the tree expert?

A PVC is followed by a full compensatory pause (the RR intervals before and after it add up to
two cycles); an atrial or junctional premature beat usually resets the sinus node, so the two
add up to less. The DS1 folds call 201's aberrated APCs V and miss 124's junctional beats
(``bench/ds1_records.py``). This adds ``(pre_rr + post_rr) / (2 upper_rr)``, the two intervals
against two dominant cycles (``upper_rr``, :data:`ecg2d.rr.PREMATURITY_COLUMNS`), to the
``gbm_premature`` expert's features, as an extra kind ``gbm_pause`` registered here only, and
runs ``bench/ds1_fusion.py``'s DS1 comparison with its rule. DS1 only; DS2 is never read.

    .venv/bin/python bench/ds1_pause_probe.py --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/window_cpb1_cnn/fixed_cpb1_cnn

Results: ``bench/results/ds1_fusion_pause_probe.json`` and ``.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import ds1_fusion  # noqa: E402

from ecg2d.rr import MIN_RR  # noqa: E402


def pause_ratio(rows) -> np.ndarray:
    """``(pre_rr + post_rr) / (2 upper_rr)`` of manifest rows, intervals floored at MIN_RR as
    the expert's own features are."""
    pre, post, upper = (
        np.maximum(rows[c].to_numpy(float), MIN_RR) for c in ("pre_rr", "post_rr", "upper_rr")
    )
    return (pre + post) / (2 * upper)


def main(argv=None) -> None:
    args = ds1_fusion.probe_args(__doc__.split("\n")[0], argv)
    rows = ds1_fusion.ds1_originals(args.manifest)
    rows["pause_ratio"] = pause_ratio(rows)
    ds1_fusion.probe_extra_column(rows, "pause_ratio", "gbm_pause", "pause_probe", args)


if __name__ == "__main__":
    main()
