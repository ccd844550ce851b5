"""DS1 probe, not built into the workflow: where premature beats set the cycle, each beat
classified by whichever of the two experts finds it likelier to be S.

Round 17 (``bench/ds1_regime_probe.py``) classified each beat by ``gbm_robust`` (round 16's
trees, reading only what holds where premature beats set the rhythm) where round 15's cycle is
the longer interval group's, and by ``gbm_psinus_zl`` (the configured expert's features)
elsewhere: 23.3 % of the S beats of the stress test's second form (runs) found and 30.4 % of
its first form's (bigeminy), against 1.4 and 15.9 %; but DS1's record criterion fell 2.7
points, most of it record 209, whose S beats were found 93.0 % and then 65.8 %: its runs of
supraventricular tachycardia also make two interval groups, and there the full expert, which
reads the intervals against the record's mean, had found them. The two experts fail in
different places. The candidate ``gbm_either``: the same two experts and regime, but in the
regime a beat takes the probabilities of whichever expert gives S the higher probability;
elsewhere ``gbm_psinus_zl``'s, as in round 17. DS1 only; DS2 is never read.

The rule, fixed before the run: round 15's rule, the configured expert (``gbm_gated``, record
weights, alone as configured) then ``gbm_either``. The candidate replaces the configured expert
only if all three hold: its DS1 record criterion (every DS1 beat out of fold, the expert
alone, the configured class factors) is not lower by more than 0.5 points; on the held-out
records of the stress test's second form (runs) its pooled SVEB Se is higher by more than 10
points at a pooled SVEB +P of at least 50 %; and on those of the first form (bigeminy) its
pooled SVEB Se is not lower by more than 1 point. Deterministic experts, no seed, no stressed
copy trained on. If it is adopted, it is built into the workflow and DS2 scored once by
``make run`` and three seeds. The last round on this question this session.

    .venv/bin/python bench/ds1_regime_either_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_regime_either_probe.json`` (the runs form, with the rule's verdict)
and ``ds1_regime_either_probe_bigeminy.json`` (the first form), each with its table (``.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_long_cycle_probe  # noqa: E402
import ds1_regime_probe  # noqa: E402

ITEMS = ("gbm_gated~record", "gbm_either~record")


def either(usual: np.ndarray, robust: np.ndarray, regime, s_index: int) -> np.ndarray:
    """Per beat, ``robust``'s probabilities where ``regime`` holds and they give class
    ``s_index`` a higher probability than ``usual``'s do, else ``usual``'s."""
    take = np.asarray(regime, dtype=bool) & (robust[:, s_index] > usual[:, s_index])
    return np.where(take[:, None], robust, usual)


def in_regime(usual, robust, extra, s_index) -> np.ndarray:
    """:func:`either` where the regime column (``extra``'s first) is 1."""
    return either(usual, robust, extra[:, 0] > 0.5, s_index)


def register() -> None:
    """Register, for this process only, round 17's kinds and kind ``gbm_either``: round 17's two
    experts, fitted the same way, applied by :func:`in_regime`."""
    ds1_regime_probe.register()
    ds1_regime_probe.register_pair(
        "gbm_either", ds1_regime_probe.SUB_KINDS, (ds1_regime_probe.REGIME,), in_regime
    )


def main(argv=None) -> None:
    ds1_long_cycle_probe.main(
        argv, items=ITEMS, register=register, doc=__doc__, script="ds1_regime_either_probe"
    )


if __name__ == "__main__":
    main()
