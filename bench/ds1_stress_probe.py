"""DS1 probe, not built into the workflow: the tree expert also trained on records whose
ectopic beats are as many as their sinus beats.

``bench/ds1_stress.py`` makes such records of DS1's own (its S beats kept with the beat before
and after, the sinus stretches between cut out) and shows the configured expert failing on
them as it fails on DS2's record 232: it finds almost none of their S beats. Joined this way,
isolated atrial premature beats become atrial bigeminy, whose alternating RR the rhythm
columns read as an irregular rhythm, in which the trees have learnt that a short RR means
nothing. The candidate trains each fold's expert on the stressed copies of its training
records too (each copy a record of its own, so the per-record weights give it its own share;
never a copy of a held-out record). DS1 only; DS2 is never read.

The rule, fixed before the run: the configured expert (``gbm_psinus``, record weights, alone
as configured), against the same also trained on the stressed copies (``+stressed``), both
deterministic (no seed). The candidate is adopted, to be built into the workflow, only if both:
its DS1 record criterion (every DS1 beat out of fold, the expert alone, the configured class
factors) is not lower than the incumbent's by more than 0.5 points, and on the held-out
stressed records its pooled SVEB Se is higher by more than 10 points with a pooled SVEB +P of
at least 50 %. Otherwise nothing is built.

    .venv/bin/python bench/ds1_stress_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_stress_probe.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_stress  # noqa: E402

INCUMBENT, CANDIDATE = "gbm_psinus~record", "gbm_psinus~record+stressed"


def decide(result: dict) -> str:
    """The rule on a ``bench/ds1_stress.py`` result of :data:`INCUMBENT` and :data:`CANDIDATE`
    (:func:`ds1_stress.decide`): the item chosen."""
    return ds1_stress.decide(result, (INCUMBENT, CANDIDATE))


def main(argv=None) -> None:
    ds1_stress.ruled_probe(__doc__, "ds1_stress_probe", (INCUMBENT, CANDIDATE), argv)


if __name__ == "__main__":
    main()
