"""DS1 probe, not built into the workflow: round 7's z-scores with organised atrial activity.

``bench/ds1_sinus_z90_probe.py`` (round 7) judged the three z-scores of ``gbm_unusual``
against the beats at least 90 % of the dominant cycle: they carry over to records whose
premature beats are as many as their sinus beats (the stress test's S beats found 0.1 → 14.5
%, no stressed copy in training) at a DS1 cost of 0.9 points, nearly all of it false SVEBs in
record 203's atrial fibrillation: against the beats at or above 90 % of the cycle, a
fibrillating rhythm's short intervals look as premature as ectopic beats do. Round 8 added the
rhythm's alternation and did not win 203 back (84.4). The reason to expect this round to: an
atrial premature beat has a P wave and so does the sinus rhythm around it, and fibrillation has
none, which no RR feature can see. ``p_organised`` (``bench/ds1_organised_probe.py``: per beat,
the upper quartile over the 61 beats around it of the P-wave likeness against the record's
sinus beats; medians 0.53 in 203, 0.76 over 201, 0.72–0.98 in DS1's other records and 0.82–0.95
in the stressed copies) was tried in round 4 only with stressed copies in training, where
copies, not the column, decided. DS1's fibrillating records 201 and 203 are in training here as
they are: beats with short intervals, labelled N, where ``p_organised`` is low. The candidate
``gbm_psinus_zn_org``: ``gbm_psinus_zn`` also reading ``p_organised`` (computed from each
record, original and stressed, as the beats stage would: ``ds1_stress.SIGNAL_DERIVED``). DS1
only; DS2 is never read.

The rule, fixed before the run: the configured expert (``gbm_psinus``, record weights, alone
as configured), then ``gbm_psinus_zn_org``; the candidate replaces the configured expert only
if both: its DS1 record criterion (every DS1 beat out of fold, the expert alone, the configured
class factors) is not lower by more than 0.5 points, and on the held-out stressed records its
pooled SVEB Se is higher by more than 10 points with a pooled SVEB +P of at least 50 %
(``bench/ds1_stress_probe.py``'s rule). Deterministic experts, no seed. No stressed copy is
trained on. If it is adopted, it is built into the workflow and DS2 scored once by ``make
run`` and three seeds. This is the last round on this test this session, whatever it says.

    .venv/bin/python bench/ds1_sinus_z90_org_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_sinus_z90_org_probe.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402
import ds1_organised_probe  # noqa: E402
import ds1_sinus_z90_probe  # noqa: E402
import ds1_stress  # noqa: E402

ITEMS = ("gbm_psinus~record", "gbm_psinus_zn_org~record")


def register() -> None:
    """Register, for this process only, kind ``gbm_psinus_zn_org`` and its columns."""
    ds1_sinus_z90_probe.register()
    ds1_stress.SIGNAL_DERIVED["p_organised"] = ds1_organised_probe.p_organised
    ds1_fusion.register_probe_kind("gbm_psinus_zn_org", ("p_organised",), "gbm_psinus_zn")


def main(argv=None) -> None:
    register()
    ds1_stress.ruled_probe(__doc__, "ds1_sinus_z90_org_probe", ITEMS, argv)


if __name__ == "__main__":
    main()
