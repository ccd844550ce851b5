"""DS1 probe, not built into the workflow: round 20's pair of experts inside the coherent regime
only, the configured expert everywhere else.

Round 20 (``bench/ds1_coherent_regime_probe.py``): where round 15's cycle is the longer of two
interval groups and the beats ending that group share a P wave (``p_coherence`` at least 0.5),
each beat takes the probabilities of whichever of ``gbm_robust_p`` and ``gbm_psinus_zlp`` gives
S more; elsewhere ``gbm_psinus_zlp``'s. It found 27.0 % of the S beats of the stress test's
second form (runs; 1.4 % configured) and 30.0 % of its first form's (bigeminy; 15.9 %), and
DS1's record criterion fell 0.8 points (84.1 against 84.9), 0.3 more than the rule allows.
Where its DS1 false S sit (``bench/regime_false_s.py --candidate gbm_either_pc``): 32 in
coherent regime beats (201: 14, 106: 9) and 25 outside the regime (203, 220), where the
candidate differs from the configured expert only in that its trees read round 15's scores
(the intervals judged against the longer group, and the fibrillation criterion with it)
instead of ``gbm_gated``'s: outside the regime the two cycles are the same, but the trees were
fitted on every training beat with the other scores and split otherwise.

The candidate ``gbm_either_pcg``: per fold three experts fitted on the same training beats,
round 20's two (``gbm_either_pc``) and the configured ``gbm_gated``; a beat in the coherent
regime (``long_regime`` 1 and ``p_coherence`` at least 0.5, as in round 20) takes round 20's
probabilities, every other beat ``gbm_gated``'s, so that outside the coherent regime the
candidate is the configured expert exactly. The same trees, weights and class factors. No look
at any figure of this candidate was taken before this rule. DS1 only; DS2 is never read.

The rule, fixed before the run: round 15's rule, the configured expert (``gbm_gated``, record
weights, alone as configured) then ``gbm_either_pcg``. The candidate replaces the configured
expert only if all three hold: its DS1 record criterion (every DS1 beat out of fold, the expert
alone, the configured class factors) is not lower by more than 0.5 points; on the held-out
records of the stress test's second form (runs) its pooled SVEB Se is higher by more than 10
points at a pooled SVEB +P of at least 50 %; and on those of the first form (bigeminy) its
pooled SVEB Se is not lower by more than 1 point. Deterministic experts, no seed, no stressed
copy trained on. If it is adopted, it is built into the workflow and DS2 scored once by
``make run`` and three seeds.

    .venv/bin/python bench/ds1_coherent_gated_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_coherent_gated_probe.json`` (the runs form, with the rule's
verdict) and ``ds1_coherent_gated_probe_bigeminy.json`` (the first form), each with its table
(``.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_coherent_regime_probe  # noqa: E402
import ds1_long_cycle_probe  # noqa: E402
import ds1_regime_probe  # noqa: E402

ITEMS = ("gbm_gated~record", "gbm_either_pcg~record")
#: The candidate, the pair it takes in the coherent regime, and the expert it takes elsewhere.
KIND, INSIDE, OUTSIDE = "gbm_either_pcg", "gbm_either_pc", "gbm_gated"


def coherent(values: np.ndarray, columns) -> np.ndarray:
    """Where the beats (rows of ``values``, in ``columns``' order) are in round 20's coherent
    regime."""
    from ecg2d.regime import coherent_regime

    return coherent_regime(
        values[:, columns.index(ds1_regime_probe.REGIME)],
        values[:, columns.index(ds1_coherent_regime_probe.COLUMN)],
    )


def register() -> None:
    """Register, for this process only, round 20's kinds and kind :data:`KIND`: the columns of
    :data:`INSIDE` and those of :data:`OUTSIDE` it lacks, fitted as both, applied per beat by
    :func:`coherent` (``ecg2d.expert.fit_expert`` and ``expert_proba`` wrapped for it)."""
    import ds1_fusion

    import ecg2d.expert as expert

    ds1_coherent_regime_probe.register()
    inside = expert.KIND_COLUMNS[INSIDE]
    missing = tuple(c for c in expert.KIND_COLUMNS[OUTSIDE] if c not in inside)
    ds1_fusion.register_probe_kind(KIND, missing, INSIDE)
    columns = expert.KIND_COLUMNS[KIND]
    outside = [columns.index(c) for c in expert.KIND_COLUMNS[OUTSIDE]]
    fit, proba = expert.fit_expert, expert.expert_proba

    def fit_expert(rr, labels, classes, seed=0, kind_="rr", *args, **kwargs):
        if kind_ != KIND:
            return fit(rr, labels, classes, seed, kind_, *args, **kwargs)
        rr = np.asarray(rr, dtype=np.float64)
        return {
            "kind": KIND,
            "classes": [str(c) for c in classes],
            INSIDE: fit(rr[:, : len(inside)], labels, classes, seed, INSIDE, *args, **kwargs),
            OUTSIDE: fit(rr[:, outside], labels, classes, seed, OUTSIDE, *args, **kwargs),
        }

    def expert_proba(model, rr):
        if model.get("kind") != KIND:
            return proba(model, rr)
        rr = np.asarray(rr, dtype=np.float64)
        p_inside = proba(model[INSIDE], rr[:, : len(inside)])
        p_outside = proba(model[OUTSIDE], rr[:, outside])
        return np.where(coherent(rr, columns)[:, None], p_inside, p_outside)

    expert.fit_expert, expert.expert_proba = fit_expert, expert_proba


def main(argv=None) -> None:
    ds1_long_cycle_probe.main(
        argv, items=ITEMS, register=register, doc=__doc__, script="ds1_coherent_gated_probe"
    )


if __name__ == "__main__":
    main()
