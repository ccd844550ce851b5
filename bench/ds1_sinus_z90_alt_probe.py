"""DS1 probe, not built into the workflow: round 7's z-scores with how regularly the rhythm
alternates.

``bench/ds1_sinus_z90_probe.py`` judged the three z-scores of ``gbm_unusual`` against the
beats at least 90 % of the dominant cycle (``zn_pre_upper``, ``zn_pre_prev``,
``zn_qrs_corr``): they carry over to records whose premature beats are as many as their sinus
beats (the stress test's S beats found 0.1 → 14.5 %, no stressed copy in training), and cost
DS1 0.9 points, all but 10 of the new false SVEBs in record 203's atrial fibrillation, where
the beats at or above 90 % of the cycle are a truncated part of an irregular rhythm. What
tells fibrillation from frequent premature beats is order: ``rr_alternation``
(``bench/ds1_alternation_probe.py``: over the 61 beats around a beat, the log of the median
difference between RR intervals two apart over that between successive ones; about −2 in
bigeminy, about 0 in fibrillation, above 0 in sinus rhythm), which alone was 0.7 points above
the configured expert on DS1 (its round's rule was another; it was not adopted). The candidate
``gbm_psinus_zn_alt``: ``gbm_psinus_zn`` also reading ``rr_alternation``. Both columns derived
per record from the manifest's beats in time order (``ds1_stress.DERIVED``). DS1 only; DS2 is
never read.

The rule, fixed before the run: the configured expert (``gbm_psinus``, record weights, alone
as configured), then ``gbm_psinus_zn_alt``; the candidate replaces the configured expert only
if both: its DS1 record criterion (every DS1 beat out of fold, the expert alone, the configured
class factors) is not lower by more than 0.5 points, and on the held-out stressed records its
pooled SVEB Se is higher by more than 10 points with a pooled SVEB +P of at least 50 %
(``bench/ds1_stress_probe.py``'s rule). Deterministic experts, no seed. No stressed copy is
trained on. If it is adopted, it is built into the workflow and DS2 scored once by ``make
run`` and three seeds.

    .venv/bin/python bench/ds1_sinus_z90_alt_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_sinus_z90_alt_probe.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_alternation_probe  # noqa: E402
import ds1_fusion  # noqa: E402
import ds1_sinus_z90_probe  # noqa: E402
import ds1_stress  # noqa: E402

ITEMS = ("gbm_psinus~record", "gbm_psinus_zn_alt~record")


def register() -> None:
    """Register, for this process only, kind ``gbm_psinus_zn_alt`` and its derived columns."""
    ds1_alternation_probe.register()
    ds1_sinus_z90_probe.register()
    ds1_fusion.register_probe_kind("gbm_psinus_zn_alt", ("rr_alternation",), "gbm_psinus_zn")


def main(argv=None) -> None:
    register()
    ds1_stress.ruled_probe(__doc__, "ds1_sinus_z90_alt_probe", ITEMS, argv)


if __name__ == "__main__":
    main()
