"""DS1 probe, not built into the workflow: each beat classified by the expert whose features hold
in its rhythm, the full one where the sinus rhythm sets the cycle, the robust one where
premature beats do.

Round 16 (``bench/ds1_robust_probe.py``): trees reading only what is judged against the rhythm
premature beats interrupt (round 15's scores, the P wave against the sinus beats, the QRS
shape) found 23.3 % of the S beats of the stress test's second form (runs of premature cycles
broken by a normal beat after a pause; 1.4 % for the configured expert) and 33.1 % of its
first form's (bigeminy; 15.9 %), but only 48.6 % of DS1's own S beats (76.7 %): the features it
gave up, the intervals against the record's mean and the upper quartile and the rhythm's
irregularity, are what finds S beats where the sinus rhythm sets the cycle, which is almost
everywhere in DS1. Those features mislead only where the premature beats set the cycle, and
round 15 already says where that is: where a window's intervals fall into two groups whose
longer one's median is above the upper quartile (``ds1_long_cycle_probe.cycle`` longer than
``upper_rr``). A look before this rule was written (no model fitted): that holds for no beat of
13 of DS1's 22 records, 1–19 % of the beats of eight (208: 70 %), 27–90 % of the bigeminy
copies' and 28–100 % of the runs copies'.

The candidate ``gbm_switch``: per fold both experts are fitted on the same training beats
(``gbm_psinus_zl``, round 15's, and ``gbm_robust``, round 16's); a beat is classified by
``gbm_robust`` where its cycle is the longer group's (the regime column ``long_regime``, 1 there,
derived per record from the manifest's beats in time order) and by ``gbm_psinus_zl`` elsewhere,
where its scores are ``gbm_gated``'s. The same trees, weights and class factors. DS1 only; DS2
is never read.

The rule, fixed before the run: round 15's rule, the configured expert (``gbm_gated``, record
weights, alone as configured) then ``gbm_switch``. The candidate replaces the configured expert
only if all three hold: its DS1 record criterion (every DS1 beat out of fold, the expert
alone, the configured class factors) is not lower by more than 0.5 points; on the held-out
records of the stress test's second form (runs) its pooled SVEB Se is higher by more than 10
points at a pooled SVEB +P of at least 50 %; and on those of the first form (bigeminy) its
pooled SVEB Se is not lower by more than 1 point. Deterministic experts, no seed, no stressed
copy trained on. If it is adopted, it is built into the workflow and DS2 scored once by
``make run`` and three seeds.

    .venv/bin/python bench/ds1_regime_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_regime_probe.json`` (the runs form, with the rule's verdict) and
``ds1_regime_probe_bigeminy.json`` (the first form), each with its table (``.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_long_cycle_probe  # noqa: E402
import ds1_robust_probe  # noqa: E402
import ds1_stress  # noqa: E402

ITEMS = ("gbm_gated~record", "gbm_switch~record")
#: The regime column: 1 where the beat's cycle is the longer interval group's.
REGIME = "long_regime"
#: The two experts: where the regime column is 0, and where it is 1.
SUB_KINDS = ("gbm_psinus_zl", "gbm_robust")


def long_regime(pre_rr, upper_rr) -> np.ndarray:
    """1.0 where round 15's cycle (``ds1_long_cycle_probe.cycle``) is longer than ``upper_rr``,
    0.0 elsewhere (one record's beats, in time order)."""
    upper = np.asarray(upper_rr, dtype=np.float64)
    return (ds1_long_cycle_probe.cycle(pre_rr, upper) > upper).astype(np.float64)


def register_pair(kind: str, sub_kinds, extra, choose) -> None:
    """Register, for this process only, kind ``kind``: the columns of ``sub_kinds[0]`` and the
    ``extra`` columns after them, fitted as both ``sub_kinds`` on the columns before the extra
    ones, and applied as ``choose(p_first, p_second, extra_values, s_index)`` of the two
    experts' probabilities, the beats' ``extra`` values (N x len(extra)) and the index of class
    S (``ecg2d.expert.fit_expert`` and ``expert_proba`` wrapped for it)."""
    import ds1_fusion

    import ecg2d.expert as expert

    extra = tuple(extra)
    ds1_fusion.register_probe_kind(kind, extra, sub_kinds[0])
    fit, proba = expert.fit_expert, expert.expert_proba

    def fit_expert(rr, labels, classes, seed=0, kind_="rr", *args, **kwargs):
        if kind_ != kind:
            return fit(rr, labels, classes, seed, kind_, *args, **kwargs)
        rr = np.asarray(rr, dtype=np.float64)[:, : -len(extra)]
        return {
            "kind": kind,
            "classes": [str(c) for c in classes],
            **{k: fit(rr, labels, classes, seed, k, *args, **kwargs) for k in sub_kinds},
        }

    def expert_proba(model, rr):
        if model.get("kind") != kind:
            return proba(model, rr)
        rr = np.asarray(rr, dtype=np.float64)
        first, second = (proba(model[k], rr[:, : -len(extra)]) for k in sub_kinds)
        return choose(first, second, rr[:, -len(extra) :], model["classes"].index("S"))

    expert.fit_expert, expert.expert_proba = fit_expert, expert_proba


def switch(usual, robust, extra, s_index) -> np.ndarray:
    """Per beat, ``robust``'s probabilities where the regime column (``extra``'s first) is 1,
    ``usual``'s elsewhere."""
    return np.where((extra[:, 0] > 0.5)[:, None], robust, usual)


def register() -> None:
    """Register, for this process only, rounds 15 and 16's kinds and kind ``gbm_switch``:
    ``gbm_psinus_zl``'s columns and :data:`REGIME`, fitted as both :data:`SUB_KINDS` and applied
    per beat by the regime (:func:`register_pair`, :func:`switch`)."""
    ds1_robust_probe.register()
    ds1_stress.DERIVED[REGIME] = lambda rows: long_regime(rows["pre_rr"], rows["upper_rr"])
    register_pair("gbm_switch", SUB_KINDS, (REGIME,), switch)


def main(argv=None) -> None:
    ds1_long_cycle_probe.main(
        argv, items=ITEMS, register=register, doc=__doc__, script="ds1_regime_probe"
    )


if __name__ == "__main__":
    main()
