"""DS1 probe, not built into the workflow: the stressed copies together weighing as one patient.

``bench/ds1_stress_probe.py`` and ``bench/ds1_alternation_probe.py`` trained each fold's expert
on the stressed copies of its training records as well (``bench/ds1_stress.py``: DS1 records
with the sinus stretches between their S beats cut out), each copy a record of its own. With
per-record weights each copy then weighs as much as a patient in the S class, five copies
against about fifteen patients, and the trees called S throughout DS1's fibrillating records
(DS1 criterion 85.0 → 72.9, and 79.5 with ``rr_alternation``). The candidates train on the
same copies pooled into one record, so that together they weigh as one patient
(``+stressed_pooled``), with and without ``rr_alternation`` (the alternation probe's column).
DS1 only; DS2 is never read.

The rule, fixed before the run: the configured expert (``gbm_psinus``, record weights, alone
as configured), then ``gbm_psinus~record+stressed_pooled``, then
``gbm_psinus_alt~record+stressed_pooled``; in that order, a later one replaces the one chosen
so far only if both: its DS1 record criterion (every DS1 beat out of fold, the expert alone,
the configured class factors) is not lower by more than 0.5 points, and on the held-out
stressed records its pooled SVEB Se is higher by more than 10 points with a pooled SVEB +P of
at least 50 % (``bench/ds1_stress_probe.py``'s rule). Deterministic experts, no seed.

    .venv/bin/python bench/ds1_stress_pooled_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_stress_pooled_probe.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_alternation_probe  # noqa: E402
import ds1_stress  # noqa: E402

ITEMS = (
    "gbm_psinus~record",
    "gbm_psinus~record+stressed_pooled",
    "gbm_psinus_alt~record+stressed_pooled",
)


def main(argv=None) -> None:
    ds1_alternation_probe.register()
    ds1_stress.ruled_probe(__doc__, "ds1_stress_pooled_probe", ITEMS, argv)


if __name__ == "__main__":
    main()
