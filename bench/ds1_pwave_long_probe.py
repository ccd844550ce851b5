"""DS1 probe, not built into the workflow: the P wave judged against the beats that end the
longer interval group, inside round 18's pair of experts.

Round 18 (``bench/ds1_regime_either_probe.py``): where round 15's cycle is the longer of two
interval groups (premature beats set the rhythm), each beat takes the probabilities of
whichever of two experts gives S more, ``gbm_robust`` (round 16: only scores judged against the
rhythm premature beats interrupt, the P wave and the QRS shape) or ``gbm_psinus_zl`` (round
15); elsewhere the latter's. It found 23.5 % of the S beats of the stress test's second form
(runs; 1.4 % configured) and 31.1 % of its first form's (bigeminy; 15.9 %), but DS1's record
criterion fell 1.4 points (false S in 201, 207, 220 and 223) and in three of the six runs
copies (207, 209, 223) it found 0–5 %. Both experts read the P wave as ``z_p_sinus`` judges
it: against the beats at least as long as the upper quartile of the intervals, which in the
runs copies are premature beats, so that an ectopic P wave is the usual one there, and in a
stretch where premature beats set the cycle a sinus P wave may look unusual. An atrial
premature beat differs from a sinus beat first by its P wave; the beats that end the longer
interval group are the sinus ones.

The candidate column ``z_p_long``: ``z_p_sinus`` with template, median and spread over the
beats whose interval is at least round 15's cycle (``ds1_long_cycle_probe.cycle``: the longer
of the upper quartile and the longer group's median) instead of the upper quartile; where the
cycle is the upper quartile throughout, it is ``z_p_sinus``. Computed from each record, as
recorded and stressed, over all its annotated beats as the beats stage computes ``z_p_sinus``
(``ds1_stress.SIGNAL_DERIVED``). The candidate ``gbm_either_p``: round 18's ``gbm_either``
with ``z_p_long`` in place of ``z_p_sinus`` in both experts. No look at the column's values
was taken before this rule. DS1 only; DS2 is never read.

The rule, fixed before the run: round 15's rule, the configured expert (``gbm_gated``, record
weights, alone as configured) then ``gbm_either_p``. The candidate replaces the configured
expert only if all three hold: its DS1 record criterion (every DS1 beat out of fold, the
expert alone, the configured class factors) is not lower by more than 0.5 points; on the
held-out records of the stress test's second form (runs) its pooled SVEB Se is higher by more
than 10 points at a pooled SVEB +P of at least 50 %; and on those of the first form (bigeminy)
its pooled SVEB Se is not lower by more than 1 point. Deterministic experts, no seed, no
stressed copy trained on. If it is adopted, it is built into the workflow and DS2 scored once
by ``make run`` and three seeds. The last round on issue 10 this session.

    .venv/bin/python bench/ds1_pwave_long_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_pwave_long_probe.json`` (the runs form, with the rule's verdict)
and ``ds1_pwave_long_probe_bigeminy.json`` (the first form), each with its table (``.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_long_cycle_probe  # noqa: E402
import ds1_regime_either_probe  # noqa: E402
import ds1_regime_probe  # noqa: E402
import ds1_robust_probe  # noqa: E402
import ds1_stress  # noqa: E402

ITEMS = ("gbm_gated~record", "gbm_either_p~record")
#: The candidate column.
COLUMN = "z_p_long"
#: The two experts, with :data:`COLUMN` in place of ``z_p_sinus``: where the regime column is
#: 0, and where it is 1.
SUB_KINDS = ("gbm_psinus_zlp", "gbm_robust_p")


def z_p_long(record) -> pd.Series:
    """Per annotated beat of ``record`` (an :class:`ecg2d.io.Record`), indexed by sample: the
    robust z-score of its P-wave likeness, with template, median and spread over the beats whose
    ``pre_rr`` is at least round 15's cycle, computed as the beats stage computes
    ``z_p_sinus``."""
    from ecg2d.rr import PWAVE_FLOOR, not_premature, robust_z
    from ecg2d.shape import p_wave_stretches, stretch_likeness

    r, points, rr, cycle = ds1_long_cycle_probe.record_rhythm(record)
    sinus = not_premature(rr["pre_rr"], cycle, share=1.0)
    likeness = stretch_likeness(p_wave_stretches(record.signal, record.fs, points), sinus)
    return pd.Series(robust_z(likeness, PWAVE_FLOOR, reference=sinus).astype(np.float64), index=r)


def register() -> None:
    """Register, for this process only, round 18's kinds, their twins with :data:`COLUMN` in
    place of ``z_p_sinus`` (:data:`SUB_KINDS`), kind ``gbm_either_p`` (fitted as both, applied
    by ``ds1_regime_either_probe.in_regime``) and the column as one ``bench/ds1_stress.py``
    computes from each record."""
    import ds1_fusion

    import ecg2d.expert as expert

    ds1_regime_either_probe.register()
    ds1_stress.SIGNAL_DERIVED[COLUMN] = z_p_long
    usual, robust = SUB_KINDS
    ds1_fusion.register_probe_kind(usual, (), "gbm_psinus_zl")
    for table in (expert.KIND_COLUMNS, expert.KIND_FEATURES):
        table[usual] = tuple(COLUMN if c == "z_p_sinus" else c for c in table["gbm_psinus_zl"])
    kept = tuple(COLUMN if f == "z_p_sinus" else f for f in ds1_robust_probe.KEPT)
    ds1_robust_probe.register_subset(robust, usual, kept)
    ds1_regime_probe.register_pair(
        "gbm_either_p", SUB_KINDS, (ds1_regime_probe.REGIME,), ds1_regime_either_probe.in_regime
    )


def main(argv=None) -> None:
    ds1_long_cycle_probe.main(
        argv, items=ITEMS, register=register, doc=__doc__, script="ds1_pwave_long_probe"
    )


if __name__ == "__main__":
    main()
