"""DS1 stress test, second form: records whose S beats are the usual rhythm, the premature
cycle repeated and broken now and then by a normal beat after a pause, made of DS1's own beats.

``bench/ds1_stress.py`` makes atrial bigeminy of each DS1 record with at least 50 S beats (every
S beat kept with the beat before and after it): S beats are about two thirds of the beats, but
the normal beats after their pauses still set the dominant cycle (the upper quartile of the
intervals), so every S beat stays premature against it. In a recording whose atrial ectopic
beats are most of its beats, runs of them set the cycle, and a beat is atrial and premature
against a sinus rhythm that shows only now and then (after the pauses of a sick sinus node, for
instance); the MIT-BIH directory describes such a record in DS2 (232: sinus bradycardia with
long pauses, 1,382 atrial premature beats, most of its beats). This form keeps every S beat with
the beat before it and, for every fourth S beat, the beat after it (``bench/ds1_stress.py
--after-every 4``): joined at R peaks, each merged beat carries its first half's P wave and the
premature interval before it, so the record is a run of premature cycles (each one the patient
had) broken by a normal beat after the compensatory pause every four S beats, S beats 75–91 % of
the beats. A merged beat is named after its first half (an atrial premature beat's QRS from the
peak on is normal); one whose first half is not S or second half not normal is not scored.

Everything else is ``bench/ds1_stress.py``'s (the workflow's own beats code cuts the records; one
expert per DS1 fold; EC57). A description: nothing is chosen by it. DS1 only; DS2 is never read.

    .venv/bin/python bench/ds1_runs_stress.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv --expert gbm_gated~record

Results: ``bench/results/ds1_runs_stress.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_stress  # noqa: E402

#: Every how many S beats one keeps the normal beat after it.
AFTER_EVERY = 4


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--out" not in argv:
        argv += ["--out", str(REPO / "bench/results/ds1_runs_stress.json")]
    ds1_stress.main([*argv, "--after-every", str(AFTER_EVERY)])


if __name__ == "__main__":
    main()
