"""DS1 probe, not built into the workflow: how unusual a beat is, judged against the beats that
are not premature, except in atrial fibrillation told from the rhythm between them.

``bench/ds1_sinus_z90_probe.py`` (round 7) judged the three z-scores of ``gbm_unusual`` against
the record's beats at least 90 % of the dominant cycle: 14.5 % of the stress test's S beats
found with no stressed copy in training (0.1 % before), but the DS1 record criterion fell 0.9
points (rejected by 0.4), its false SVEBs mostly in record 203's fibrillation (51 out of fold):
there the beats at least 90 % of the dominant cycle are the narrow top of a wide spread, and
every shorter beat scores as premature. Fibrillation has no cycle to be premature against.
``bench/af_criterion.py`` describes a fibrillation criterion computed over the intervals between
consecutive non-premature beats (Dash et al. 2009's three tests over 128 of them; a premature
beat and its pause make one interval of about two cycles): against the reference rhythm
annotations over all DS1 beats Se 95.7 % / Sp 96.2 % (the criterion as published: 99.8 / 86.5,
calling 93.9 % of record 208's frequent ventricular ectopy fibrillation; this variant 23.6 %);
203 97.6 %, 201 51.1 % (annotated 97.1, 46.4); of the stressed copies only 209's, 50.9 %.
Those shares are the look at values before this rule was written; no model was fitted.

The candidate columns ``zg_pre_upper``, ``zg_pre_prev``, ``zg_qrs_corr``: per beat, round 7's
z-score (``zn_*``, against the beats at least 0.9 of ``upper_rr``) where
``af_criterion.dash_af_between`` does not call the beat fibrillation, and the shipped one
(``z_*``, against all the record's beats, ``ecg2d.rr.unusual_columns``) where it does.
Counted in beats and made of ratios of seconds, the same at any sampling rate. Computed per
record from the manifest's beats in time order (``ds1_stress.DERIVED``). DS1 only; DS2 is never
read.

The rule, fixed before the run: the configured expert (``gbm_psinus``, record weights, alone
as configured), then ``gbm_psinus_zg`` (the gated z-scores in place of those against all
beats); the candidate replaces the configured expert only if both: its DS1 record criterion
(every DS1 beat out of fold, the expert alone, the configured class factors) is not lower by
more than 0.5 points, and on the held-out stressed records its pooled SVEB Se is higher by
more than 10 points with a pooled SVEB +P of at least 50 % (``bench/ds1_stress_probe.py``'s
rule). Deterministic experts, no seed. No stressed copy is trained on. If it is adopted, it
is built into the workflow and DS2 scored once by ``make run`` and three seeds.

    .venv/bin/python bench/ds1_af_gated_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_af_gated_probe.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import af_criterion  # noqa: E402
import ds1_sinus_z90_probe  # noqa: E402
import ds1_sinus_z_probe  # noqa: E402
import ds1_stress  # noqa: E402

ITEMS = ("gbm_psinus~record", "gbm_psinus_zg~record")
#: The candidate columns, in the order of the ones they stand for (``ecg2d.rr.UNUSUAL_COLUMNS``).
COLUMNS = ("zg_pre_upper", "zg_pre_prev", "zg_qrs_corr")


def gated_z(pre_rr, upper_rr, prev_rr, qrs_corr) -> dict[str, np.ndarray]:
    """:data:`COLUMNS` of one record's beats (in time order): against the beats that are not
    premature (``ds1_sinus_z90_probe.reference_z``), and against all beats where
    ``af_criterion.dash_af_between`` calls the beat fibrillation."""
    everyone = np.ones(len(np.asarray(pre_rr)), dtype=bool)
    usual = ds1_sinus_z_probe.z_against(pre_rr, upper_rr, prev_rr, qrs_corr, everyone, COLUMNS)
    not_premature = ds1_sinus_z90_probe.reference_z(pre_rr, upper_rr, prev_rr, qrs_corr)
    af = af_criterion.dash_af_between(pre_rr, upper_rr)
    return {
        name: np.where(af, usual[name], not_premature[zn])
        for name, zn in zip(COLUMNS, ds1_sinus_z90_probe.COLUMNS)
    }


def register() -> None:
    """Register, for this process only, kind ``gbm_psinus_zg`` (:data:`COLUMNS` in place of
    ``ecg2d.rr.UNUSUAL_COLUMNS``) and the columns as ones ``bench/ds1_stress.py`` derives from
    each record's beats."""
    ds1_sinus_z_probe.register_swapped("gbm_psinus_zg", COLUMNS, gated_z)


def main(argv=None) -> None:
    register()
    ds1_stress.ruled_probe(__doc__, "ds1_af_gated_probe", ITEMS, argv)


if __name__ == "__main__":
    main()
