"""DS1 probe, not built into the workflow: how unusual a beat is, judged against its record's beats
that are not premature by the usual measure, at least 90 % of the dominant cycle.

``bench/ds1_sinus_z_probe.py`` judged the three z-scores of ``gbm_unusual`` against the
record's sinus beats as ``z_p_sinus`` is judged (``ecg2d.rr.sinus_reference``: ``pre_rr`` at
least the dominant cycle ``upper_rr``, the upper quartile of RR around the beat). The scores
then carried over to records whose premature beats are as many as their sinus beats (the
stress test's S beats found 0.1 → 11.5 %, with no stressed copy in training), but DS1 lost 2.5
points: those reference beats are the longest quarter of the intervals, so their median sits
above the sinus rhythm's (N beats' ``zs_pre_upper`` median −1.64) and their spread is the
narrow top of it, and every beat's score is shifted and noisier. A premature beat is usually
called so when its interval is under 90 % of the rhythm's cycle; the beats at or above 90 %
of ``upper_rr`` are the whole sinus rhythm in a sinus record (median and spread as over all
beats there) and exclude the premature half of a bigeminal one. The candidate columns
``zn_pre_upper``, ``zn_pre_prev``, ``zn_qrs_corr``: ``ecg2d.rr.unusual_columns``' values, each a
robust z-score (``ecg2d.rr.robust_z``, the same floors) with median and spread over the beats
whose ``pre_rr`` is at least 0.9 ``upper_rr`` (all beats where fewer than 8 are). A look at
their values before this rule was written (the stress test's six records, medians over beats):
``zn_pre_upper`` N −0.09 / S −9.35 as recorded, N 0.01 / S −4.14 stressed; ``zn_pre_prev``
−0.05 / −3.12 and 0.35 / −1.51. Ratios, correlations and their z-scores mean the same at any
sampling rate. Computed per record from the manifest's beats in time order
(``ds1_stress.DERIVED``). DS1 only; DS2 is never read.

The rule, fixed before the run: the configured expert (``gbm_psinus``, record weights, alone
as configured), then ``gbm_psinus_zn`` (the three z-scores against the beats at least 90 % of
the dominant cycle in place of those against all beats); the candidate replaces the configured
expert only if both: its DS1 record criterion (every DS1 beat out of fold, the expert alone,
the configured class factors) is not lower by more than 0.5 points, and on the held-out
stressed records its pooled SVEB Se is higher by more than 10 points with a pooled SVEB +P of
at least 50 % (``bench/ds1_stress_probe.py``'s rule). Deterministic experts, no seed. No
stressed copy is trained on. If it is adopted, it is built into the workflow and DS2 scored
once by ``make run`` and three seeds.

    .venv/bin/python bench/ds1_sinus_z90_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_sinus_z90_probe.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_sinus_z_probe  # noqa: E402
import ds1_stress  # noqa: E402

ITEMS = ("gbm_psinus~record", "gbm_psinus_zn~record")
#: The candidate columns, in the order of the ones they stand for (``ecg2d.rr.UNUSUAL_COLUMNS``).
COLUMNS = ("zn_pre_upper", "zn_pre_prev", "zn_qrs_corr")


def reference_z(pre_rr, upper_rr, prev_rr, qrs_corr) -> dict[str, np.ndarray]:
    """:data:`COLUMNS` of one record's beats (in time order): ``ds1_sinus_z_probe.z_against``
    the ``ecg2d.rr.not_premature`` beats (at least 0.9 of the dominant cycle, the share this
    probe chose and the workflow took)."""
    from ecg2d.rr import not_premature

    reference = not_premature(pre_rr, upper_rr)
    return ds1_sinus_z_probe.z_against(pre_rr, upper_rr, prev_rr, qrs_corr, reference, COLUMNS)


def register() -> None:
    """Register, for this process only, kind ``gbm_psinus_zn`` (:data:`COLUMNS` in place of
    ``ecg2d.rr.UNUSUAL_COLUMNS``) and the columns as ones ``bench/ds1_stress.py`` derives from
    each record's beats."""
    ds1_sinus_z_probe.register_swapped("gbm_psinus_zn", COLUMNS, reference_z)


def main(argv=None) -> None:
    register()
    ds1_stress.ruled_probe(__doc__, "ds1_sinus_z90_probe", ITEMS, argv)


if __name__ == "__main__":
    main()
