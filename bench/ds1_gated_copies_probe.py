"""DS1 probe, not built into the workflow: the gated expert also trained on the stressed copies.

Rounds 1–4 (``bench/ds1_stress_probe.py``, ``ds1_alternation_probe.py``,
``ds1_stress_pooled_probe.py``, ``ds1_organised_probe.py``) trained each fold's expert on the
stressed copies of its training records as well (``bench/ds1_stress.py``: DS1 records with the
sinus stretches between their S beats cut out, atrial bigeminy made of each patient's own
intervals). The trees found 25–34 % of the held-out stressed S beats, but then called S in
DS1's fibrillating records (203, 201): the experts of those rounds judged how unusual a beat is
against all its record's beats, and a premature beat in bigeminy scored like a short interval
in fibrillation, so the copies taught the trees that a short interval in an irregular rhythm
can be S. Since round 10 the expert (``gbm_gated``) judges it against the beats that are not
premature, except where a fixed criterion (``ecg2d.fibrillation.fibrillation_between``) calls
fibrillation: a premature beat of the copies now scores far below its record's sinus beats,
a short interval in fibrillation does not, so the copies need no longer teach the trees
anything about fibrillation. Candidates: ``gbm_gated`` also trained on the copies pooled into
one record (together they weigh as one patient, round 3's way), then on the copies each a
record of its own (round 1's way). DS1 only; DS2 is never read.

The rule, fixed before the run: the configured expert (``gbm_gated``, record weights, alone as
configured), then ``gbm_gated~record+stressed_pooled``, then ``gbm_gated~record+stressed``; in
that order, a later one replaces the one chosen so far only if both: its DS1 record criterion
(every DS1 beat out of fold, the expert alone, the configured class factors) is not lower by
more than 0.5 points, and on the held-out stressed records its pooled SVEB Se is higher by
more than 10 points with a pooled SVEB +P of at least 50 % (``bench/ds1_stress_probe.py``'s
rule). Deterministic experts, no seed. If one is adopted, the workflow's expert is trained on
such copies of its training records and DS2 scored once by ``make run`` and three seeds.

    .venv/bin/python bench/ds1_gated_copies_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_gated_copies_probe.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_stress  # noqa: E402

ITEMS = (
    "gbm_gated~record",
    "gbm_gated~record+stressed_pooled",
    "gbm_gated~record+stressed",
)


def main(argv=None) -> None:
    ds1_stress.ruled_probe(__doc__, "ds1_gated_copies_probe", ITEMS, argv)


if __name__ == "__main__":
    main()
