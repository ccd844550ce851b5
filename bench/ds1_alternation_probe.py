"""DS1 probe, not built into the workflow: how regularly the rhythm alternates.

``bench/ds1_stress_probe.py`` showed why the expert finds almost no S beat in a record whose
ectopic beats are as many as its sinus beats: atrial bigeminy alternates short and long RR
intervals, which the rhythm columns (the local irregularity and its median, how scattered the
successive RR differences are) read as an irregular rhythm, and the trees have learnt from
atrial fibrillation that a short RR means nothing there. Trained on bigeminal copies as well,
the trees found them but called S all over DS1's fibrillating records. What tells the two apart
is order: bigeminy and trigeminy repeat, fibrillation does not. The candidate column
``rr_alternation``: over the 61 beats centred on a beat, log of the median absolute difference
between RR intervals two apart over that between successive ones (each plus 5 ms): about −2 in
bigeminy (every other interval alike), about 0 in fibrillation (intervals independent), around
0 to +0.5 in sinus rhythm. Label-free, counted in beats and made of a ratio of seconds, so the
same at any sampling rate. Computed from each record's beats in time order
(``ds1_stress.DERIVED``). DS1 only; DS2 is never read.

The rule, fixed before the run: the configured expert (``gbm_psinus``, record weights, alone
as configured), then the same also reading ``rr_alternation`` (``gbm_psinus_alt``), then that
also trained on the stressed copies of its training records (``gbm_psinus_alt~record+stressed``);
in that order, a later one replaces the one chosen so far only if both: its DS1 record
criterion (every DS1 beat out of fold, the expert alone, the configured class factors) is not
lower by more than 0.5 points, and on the held-out stressed records its pooled SVEB Se is
higher by more than 10 points with a pooled SVEB +P of at least 50 %
(``bench/ds1_stress_probe.py``'s rule). Deterministic experts, no seed.

    .venv/bin/python bench/ds1_alternation_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_alternation_probe.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402
import ds1_stress  # noqa: E402

ITEMS = ("gbm_psinus~record", "gbm_psinus_alt~record", "gbm_psinus_alt~record+stressed")
#: Beats the medians are taken over, and what each median is floored by (s).
BEATS, FLOOR_S = 61, 0.005


def rr_alternation(pre_rr) -> np.ndarray:
    """Per beat, ``log((m2 + FLOOR_S) / (m1 + FLOOR_S))``: ``m2`` and ``m1`` the medians, over the
    :data:`BEATS` beats centred on it, of ``|RR[i] - RR[i-2]|`` and ``|RR[i] - RR[i-1]|``."""
    from ecg2d.segment import centred_windows

    pre = np.asarray(pre_rr, dtype=np.float64)
    lag1 = np.abs(np.r_[np.nan, np.diff(pre)])
    lag2 = np.abs(np.r_[np.nan, np.nan, pre[2:] - pre[:-2]])[: len(pre)]
    m1 = np.nanmedian(centred_windows(lag1, BEATS), axis=1) if len(pre) > 2 else np.zeros(len(pre))
    m2 = np.nanmedian(centred_windows(lag2, BEATS), axis=1) if len(pre) > 2 else np.zeros(len(pre))
    return np.log((np.nan_to_num(m2) + FLOOR_S) / (np.nan_to_num(m1) + FLOOR_S))


def register() -> None:
    """Register, for this process only, expert kind ``gbm_psinus_alt`` (``gbm_psinus`` also
    reading ``rr_alternation``) and the column as one ``bench/ds1_stress.py`` derives."""
    ds1_fusion.register_probe_kind("gbm_psinus_alt", ("rr_alternation",), "gbm_psinus")
    ds1_stress.DERIVED["rr_alternation"] = lambda rows: rr_alternation(rows["pre_rr"])


def main(argv=None) -> None:
    register()
    ds1_stress.ruled_probe(__doc__, "ds1_alternation_probe", ITEMS, argv)


if __name__ == "__main__":
    main()
