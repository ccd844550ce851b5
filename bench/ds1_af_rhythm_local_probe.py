"""DS1 probe, not built into the workflow: fibrillation told by a fixed criterion instead of the
two rhythm columns, the local irregularity kept.

Round 11 (``bench/ds1_af_rhythm_probe.py``) replaced all three irregularity features of the
configured expert (``gbm_gated``) with ``fibrillation``, the verdict of
``ecg2d.fibrillation.fibrillation_between`` (Dash et al. 2009 over the intervals between
non-premature beats): the stressed records' S beats found 15.9 → 30.3 %, but the DS1
criterion fell 4.0 points, 141 false SVEBs in record 201. The criterion's verdict is taken
over 128 intervals between non-premature beats, so it is late at the onsets and ends of
fibrillation and misses short stretches; 201 changes rhythm several times (fibrillation
46.4 % of its beats by its annotations, 51.1 % called, ``bench/results/af_criterion.md``).
The local irregularity (over the 10 intervals before the beat) follows those changes within
a few beats; the two rhythm columns (over 61 beats) are the ones that read a minute of
bigeminy as fibrillation as a whole. The candidate keeps the local irregularity and replaces
the two rhythm columns with ``fibrillation`` (1 where the criterion calls the beat
fibrillation, else 0, read as it is). The look at values before this rule: round 11's table
(and the stressed features table of ``bench/results/ds1_stress_features_gated.md``: the local
irregularity's median over stressed S beats −1.12 against −3.08 recorded, the rhythm columns'
−1.10 and −0.21 against −3.19 and −0.72). Counted in beats and made of ratios of seconds, the
same at any sampling rate. Computed per record from the manifest's beats in time order
(``ds1_stress.DERIVED``). DS1 only; DS2 is never read.

The rule, fixed before the run: the configured expert (``gbm_gated``, record weights, alone as
configured), then ``gbm_gated_fib_local`` (its two rhythm columns replaced by
``fibrillation``, the local irregularity kept); the candidate replaces the configured expert
only if both: its DS1 record criterion (every DS1 beat out of fold, the expert alone, the
configured class factors) is not lower by more than 0.5 points, and on the held-out stressed
records its pooled SVEB Se is higher by more than 10 points with a pooled SVEB +P of at least
50 % (``bench/ds1_stress_probe.py``'s rule). Deterministic experts, no seed. No stressed copy
is trained on. If it is adopted, it is built into the workflow and DS2 scored once by ``make
run`` and three seeds.

    .venv/bin/python bench/ds1_af_rhythm_local_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_af_rhythm_local_probe.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_af_rhythm_probe  # noqa: E402
import ds1_fusion  # noqa: E402
import ds1_stress  # noqa: E402

ITEMS = ("gbm_gated~record", "gbm_gated_fib_local~record")
KIND = "gbm_gated_fib_local"


def register() -> None:
    """Register, for this process only, kind ``gbm_gated_fib_local`` (``gbm_gated`` with
    ``fibrillation`` in place of its two rhythm columns) and the derived column."""
    import ecg2d.expert as expert
    from ecg2d.rr import RHYTHM_COLUMNS

    ds1_fusion.register_probe_kind(KIND, (), "gbm_gated")
    columns = list(expert.KIND_COLUMNS["gbm_gated"])
    features = list(expert.KIND_FEATURES["gbm_gated"])
    place = columns.index(RHYTHM_COLUMNS[0])
    columns = [c for c in columns if c not in RHYTHM_COLUMNS]
    columns.insert(place, "fibrillation")
    dropped = [f"log_{c}" for c in RHYTHM_COLUMNS]
    place = features.index(dropped[0])
    features = [f for f in features if f not in dropped]
    features.insert(place, "fibrillation")
    expert.KIND_COLUMNS[KIND], expert.KIND_FEATURES[KIND] = tuple(columns), tuple(features)
    ds1_stress.DERIVED["fibrillation"] = lambda rows: ds1_af_rhythm_probe.fibrillation(
        rows["pre_rr"], rows["upper_rr"]
    )


def main(argv=None) -> None:
    register()
    ds1_stress.ruled_probe(__doc__, "ds1_af_rhythm_local_probe", ITEMS, argv)


if __name__ == "__main__":
    main()
