"""DS1 probe, not built into the workflow: fibrillation told by a fixed criterion instead of the
three irregularity features the trees learn it from.

Round 10 (``bench/ds1_af_gated_probe.py``, the expert now: ``gbm_gated``) found 15.9 % of the
stress test's S beats (the workflow's build; 0.1 % before). What the stressed S beats still
look like to the expert (``bench/results/ds1_stress_features_gated.md``, medians over beats,
recorded → stressed): the gated z-scores keep much of their prematurity (``zg_pre_upper``
−8.63 → −3.19) and ``z_p_sinus`` its P wave (−4.73 → −4.25), but the three irregularity
features read the alternation as atrial fibrillation, more irregular than DS1's own:
``log_rr_irregularity`` −3.08 → −1.12, ``log_rhythm_irregularity`` −3.19 → −1.10,
``log_rhythm_cells`` −0.72 → −0.21; with only two fibrillating patients in DS1 (201, 203), the
trees learn from them that irregular means "a short RR means nothing". The criterion of
round 10 (``ecg2d.fibrillation.fibrillation_between``: Dash et al. 2009 over the intervals
between non-premature beats) needs no training and tells fibrillation from frequent premature
beats (DS1 against the rhythm annotations Se 95.7 / Sp 96.2 %; of the stressed copies only
209's is called, 50.9 % of its beats; ``bench/results/af_criterion.md``, the look at values
before this rule). The candidate column ``fibrillation``: 1 where that criterion calls the
beat fibrillation, else 0 (read as the local irregularity is, ``log(x + 0.01)``; a monotone
map, all one to trees). Counted in beats and made of ratios of seconds, the same at any
sampling rate. Computed per record from the manifest's beats in time order
(``ds1_stress.DERIVED``). DS1 only; DS2 is never read.

The rule, fixed before the run: the configured expert (``gbm_gated``, record weights, alone as
configured), then ``gbm_gated_fib`` (its three irregularity features, the local irregularity
and the two rhythm columns, replaced by ``fibrillation``); the candidate replaces the
configured expert only if both: its DS1 record criterion (every DS1 beat out of fold, the
expert alone, the configured class factors) is not lower by more than 0.5 points, and on the
held-out stressed records its pooled SVEB Se is higher by more than 10 points with a pooled
SVEB +P of at least 50 % (``bench/ds1_stress_probe.py``'s rule). Deterministic experts, no
seed. No stressed copy is trained on. If it is adopted, it is built into the workflow and DS2
scored once by ``make run`` and three seeds.

    .venv/bin/python bench/ds1_af_rhythm_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_af_rhythm_probe.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_sinus_rhythm_probe  # noqa: E402
import ds1_stress  # noqa: E402

ITEMS = ("gbm_gated~record", "gbm_gated_fib~record")


def fibrillation(pre_rr, upper_rr) -> np.ndarray:
    """1.0 where ``ecg2d.fibrillation.fibrillation_between`` calls the beat fibrillation, else
    0.0 (one record's beats, in time order)."""
    from ecg2d.fibrillation import fibrillation_between

    return fibrillation_between(pre_rr, upper_rr).astype(np.float64)


def register() -> None:
    """Register, for this process only, kind ``gbm_gated_fib`` and its derived column."""
    ds1_sinus_rhythm_probe.register_replacing("gbm_gated_fib", "fibrillation", "gbm_gated")
    ds1_stress.DERIVED["fibrillation"] = lambda rows: fibrillation(rows["pre_rr"], rows["upper_rr"])


def main(argv=None) -> None:
    register()
    ds1_stress.ruled_probe(__doc__, "ds1_af_rhythm_probe", ITEMS, argv)


if __name__ == "__main__":
    main()
