"""DS1 probe, not built into the workflow: a rhythm expert that reads only what is judged against
the rhythm premature beats interrupt, and the beat's shape.

Round 15 (``bench/ds1_long_cycle_probe.py``) judged the gated scores against the longer of two
interval groups where a window's intervals have two: in the stress test's second form
(``bench/ds1_runs_stress.py``: runs of premature cycles broken by a normal beat after a pause)
the S beats' ``zl_pre_upper`` fell to -2.5 to -19.6 (medians; N beats -0.7 to 1.8), yet the
trees found 6.9 % of those S beats (1.4 % before), none of 220's, whose median was -5.3. The
trees also read eight features that assume a record's usual beat is a sinus beat: the beat's
intervals against the record's mean, the upper quartile and the previous interval, and the
irregularity of the rhythm around it. Learnt from DS1, where S beats are few in every record,
they veto whatever the scores say once premature beats set the rhythm.

The candidate ``gbm_robust`` reads only the three scores of round 15 (``zl_pre_upper``,
``zl_pre_prev``, ``zl_qrs_corr``), the P wave judged against the sinus beats (``z_p_sinus``)
and the QRS shape in both leads (``ecg2d.shape.SHAPE_COLUMNS``, ``SHAPE2_COLUMNS``: each against
the record's median QRS), ten of ``gbm_gated``'s nineteen features with round 15's scores in
place of its gated ones; the same trees, weights and class factors. DS1 only; DS2 is never
read.

The rule, fixed before the run: round 15's rule, the configured expert (``gbm_gated``, record
weights, alone as configured) then ``gbm_robust``. The candidate replaces the configured expert
only if all three hold: its DS1 record criterion (every DS1 beat out of fold, the expert
alone, the configured class factors) is not lower by more than 0.5 points; on the held-out
records of the stress test's second form (runs) its pooled SVEB Se is higher by more than 10
points at a pooled SVEB +P of at least 50 %; and on those of the first form (bigeminy) its
pooled SVEB Se is not lower by more than 1 point. Deterministic experts, no seed, no stressed
copy trained on. If it is adopted, it is built into the workflow and DS2 scored once by
``make run`` and three seeds.

    .venv/bin/python bench/ds1_robust_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_robust_probe.json`` (the runs form, with the rule's verdict) and
``ds1_robust_probe_bigeminy.json`` (the first form), each with its table (``.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_long_cycle_probe  # noqa: E402

ITEMS = ("gbm_gated~record", "gbm_robust~record")
#: The features ``gbm_robust`` keeps of ``gbm_psinus_zl``'s.
KEPT = (
    "qrs_corr",
    "qrs_amp",
    "qrs_width",
    "qrs_corr_2",
    "qrs_amp_2",
    "qrs_width_2",
    *ds1_long_cycle_probe.COLUMNS,
    "z_p_sinus",
)


def register_subset(kind: str, base: str, kept) -> None:
    """Register, for this process only, tree kind ``kind``: ``base``'s columns, of whose
    features only ``kept`` are given to the trees (``ecg2d.expert.expert_features`` wrapped for
    this kind)."""
    import ds1_fusion

    import ecg2d.expert as expert

    ds1_fusion.register_probe_kind(kind, (), base)
    names = expert.KIND_FEATURES[base]
    missing = set(kept) - set(names)
    if missing:
        raise SystemExit(f"{kind}: features {sorted(missing)} not in {base}")
    keep = [names.index(f) for f in kept]
    expert.KIND_FEATURES[kind] = tuple(kept)
    full = expert.expert_features

    def features(rr, kind_="rr"):
        if kind_ == kind:
            return full(rr, base)[:, keep]
        return full(rr, kind_)

    expert.expert_features = features


def register() -> None:
    """Register, for this process only, round 15's kind and columns and kind ``gbm_robust``:
    ``gbm_psinus_zl``'s columns, of whose features only :data:`KEPT` are given to the trees
    (:func:`register_subset`)."""
    ds1_long_cycle_probe.register()
    register_subset("gbm_robust", "gbm_psinus_zl", KEPT)


def main(argv=None) -> None:
    ds1_long_cycle_probe.main(
        argv, items=ITEMS, register=register, doc=__doc__, script="ds1_robust_probe"
    )


if __name__ == "__main__":
    main()
