"""DS1 probe, not built into the workflow: how unusual a beat is, judged against its record's
sinus beats.

``bench/ds1_sinus_rhythm_probe.py`` refuted the stress test's first explanation: with the three
irregularity features gone, the trees still find 2 % of the stressed records' S beats. The
expert's features on those records say what does it (``bench/ds1_stress_features.py``): the
S beats keep their prematurity as ratios (``log(pre_rr / upper_rr)`` median −0.31 stressed
against −0.35 as recorded; ``log(pre_rr / prev_rr)`` −0.23 against −0.18) and their P-wave
score (``z_p_sinus`` −4.25 against −4.73), but the robust z-scores of the prematurity lose it:
``z_pre_upper`` −0.54 against −6.09, ``z_pre_prev`` −0.44 against −2.37. Median and spread of
those z-scores are taken over all the record's beats (``ecg2d.rr.unusual_columns``), and where
premature beats are half the beats the spread is the gap between the two halves: a premature
beat is no longer unusual. ``z_p_sinus`` met the same case by taking them over the record's
sinus beats (``ecg2d.rr.sinus_reference``: ``pre_rr`` at least the dominant cycle
``upper_rr``). The candidate columns do so for the three: ``zs_pre_upper``, ``zs_pre_prev``,
``zs_qrs_corr``, the same values as ``z_pre_upper``, ``z_pre_prev``, ``z_qrs_corr`` with median
and spread over the record's sinus beats (``ecg2d.rr.robust_z``'s ``reference``; all beats
where fewer than 8 are), the same floors. Computed per record from the manifest's beats in
time order (``ds1_stress.DERIVED``). Ratios, correlations and their z-scores mean the same at
any sampling rate. DS1 only; DS2 is never read.

The rule, fixed before the run: the configured expert (``gbm_psinus``, record weights, alone
as configured), then ``gbm_psinus_zs`` (the three z-scores against the sinus beats in place of
those against all beats), then ``gbm_psinus_zs_both`` (both sets); in that order, a later one
replaces the one chosen so far only if both: its DS1 record criterion (every DS1 beat out of
fold, the expert alone, the configured class factors) is not lower by more than 0.5 points,
and on the held-out stressed records its pooled SVEB Se is higher by more than 10 points with
a pooled SVEB +P of at least 50 % (``bench/ds1_stress_probe.py``'s rule). Deterministic
experts, no seed. No stressed copy is trained on. A look at the candidate columns' values
before this rule was written (the stressed records, medians over beats): ``zs_pre_upper`` N
−1.64 / S −14.24 as recorded, N −0.68 / S −5.08 stressed; ``zs_pre_prev`` −0.62 / −2.64 and
−0.04 / −4.64.

    .venv/bin/python bench/ds1_sinus_z_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_sinus_z_probe.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402
import ds1_stress  # noqa: E402

ITEMS = ("gbm_psinus~record", "gbm_psinus_zs~record", "gbm_psinus_zs_both~record")
#: The candidate columns, in the order of the ones they stand for (``ecg2d.rr.UNUSUAL_COLUMNS``).
SINUS_Z = ("zs_pre_upper", "zs_pre_prev", "zs_qrs_corr")


def z_against(pre_rr, upper_rr, prev_rr, qrs_corr, reference, names) -> dict[str, np.ndarray]:
    """``ecg2d.rr.unusual_columns``' values of one record's beats (in time order) as columns
    ``names`` (in their order), each a robust z-score with median and spread over the beats of
    the boolean mask ``reference`` (``ecg2d.rr.robust_z``), the same floors."""
    from ecg2d.rr import MIN_RR, UNUSUAL_COLUMNS, UNUSUAL_FLOORS, robust_z

    pre = np.maximum(np.asarray(pre_rr, dtype=np.float64), MIN_RR)
    upper = np.maximum(np.asarray(upper_rr, dtype=np.float64), MIN_RR)
    raw = (
        np.log(pre / upper),
        np.log(pre / np.maximum(np.asarray(prev_rr, dtype=np.float64), MIN_RR)),
        np.asarray(qrs_corr, dtype=np.float64),
    )
    return {
        name: robust_z(values, UNUSUAL_FLOORS[usual], reference=reference).astype(np.float64)
        for name, usual, values in zip(names, UNUSUAL_COLUMNS, raw)
    }


def sinus_z(pre_rr, upper_rr, prev_rr, qrs_corr) -> dict[str, np.ndarray]:
    """:data:`SINUS_Z` of one record's beats (in time order): :func:`z_against` the beats that
    are not premature (``ecg2d.rr.sinus_reference``)."""
    from ecg2d.rr import sinus_reference

    reference = sinus_reference(pre_rr, upper_rr)
    return z_against(pre_rr, upper_rr, prev_rr, qrs_corr, reference, SINUS_Z)


def register_swapped(kind: str, columns, z_of) -> None:
    """Register, for this process only, kind ``kind``: ``gbm_psinus`` with ``columns`` in place
    of ``ecg2d.rr.UNUSUAL_COLUMNS``, each derived per record (``bench/ds1_stress.py``'s
    ``DERIVED``) by ``z_of(pre_rr, upper_rr, prev_rr, qrs_corr)``, a dict of them."""
    import ecg2d.expert as expert
    from ecg2d.rr import UNUSUAL_COLUMNS

    ds1_fusion.register_probe_kind(kind, (), "gbm_psinus")
    swap = dict(zip(UNUSUAL_COLUMNS, columns))
    for table in (expert.KIND_COLUMNS, expert.KIND_FEATURES):
        table[kind] = tuple(swap.get(c, c) for c in table["gbm_psinus"])
    for column in columns:
        ds1_stress.DERIVED[column] = lambda rows, c=column: z_of(
            rows["pre_rr"], rows["upper_rr"], rows["prev_rr"], rows["qrs_corr"]
        )[c]


def register() -> None:
    """Register, for this process only, kinds ``gbm_psinus_zs`` (the sinus z-scores in place of
    ``ecg2d.rr.UNUSUAL_COLUMNS``) and ``gbm_psinus_zs_both`` (both), and the columns as ones
    ``bench/ds1_stress.py`` derives from each record's beats."""
    ds1_fusion.register_probe_kind("gbm_psinus_zs_both", SINUS_Z, "gbm_psinus")
    register_swapped("gbm_psinus_zs", SINUS_Z, sinus_z)


def main(argv=None) -> None:
    register()
    ds1_stress.ruled_probe(__doc__, "ds1_sinus_z_probe", ITEMS, argv)


if __name__ == "__main__":
    main()
