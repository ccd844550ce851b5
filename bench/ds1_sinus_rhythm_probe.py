"""DS1 probe, not built into the workflow: the rhythm's irregularity read from its sinus beats only.

The stress test (``bench/ds1_stress.py``) finds the configured expert calling almost none of
the S beats of records whose ectopic beats are as many as their sinus beats, and names the
cause: the three irregularity features (the local RR irregularity and the two rhythm columns,
``rhythm_irregularity`` and ``rhythm_cells``) read alternating premature and sinus intervals as
atrial fibrillation, where the trees have learnt that a short interval means nothing; in the
stressed copies they are more irregular than DS1's fibrillation itself. Four rounds taught the
trees the case with stressed copies in training and failed. This round changes the measure
instead, so that trees trained on DS1's own records need not learn anything new: premature
beats make a rhythm irregular, fibrillation makes even the beats that are not premature
irregular. The candidate column ``sinus_irregularity``: per beat, over the 61 beats centred on
it (the rhythm columns' window), the median absolute deviation over the median of the ``pre_rr``
of the beats that are not premature against the dominant cycle (``pre_rr`` at least
``upper_rr``, ``ecg2d.rr.sinus_reference``); 0 where fewer than three are. A ratio of
seconds over a window counted in beats, the same at any sampling rate. A look at its values
before this rule was written (DS1 records, medians over beats, log of the ratio plus 0.005):
−2.6 to −2.9 in the fibrillating records 201 and 203, −3.1 to −3.9 in the stressed copies but
−2.1 in one (207's), −3.5 to −4.3 in DS1's other records; the local irregularity's median rhythm
figure, for comparison: −1.1 to −1.6 in fibrillation, −0.1 to −1.3 in the stressed copies.
DS1 only; DS2 is never read.

The rule, fixed before the run: the configured expert (``gbm_psinus``, record weights, alone
as configured), then ``gbm_psinus_sirr`` (the three irregularity features replaced by
``sinus_irregularity``, read as the local irregularity is, ``log(x + 0.01)``), then
``gbm_psinus_flat`` (the three removed and nothing in their place: does the stressed records'
failure go with them?); in that order, a later one replaces the one chosen so far only if both:
its DS1 record criterion (every DS1 beat out of fold, the expert alone, the configured class
factors) is not lower by more than 0.5 points, and on the held-out stressed records its pooled
SVEB Se is higher by more than 10 points with a pooled SVEB +P of at least 50 %
(``bench/ds1_stress_probe.py``'s rule). Deterministic experts, no seed. No stressed copy is
trained on.

    .venv/bin/python bench/ds1_sinus_rhythm_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_sinus_rhythm_probe.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402
import ds1_stress  # noqa: E402

ITEMS = ("gbm_psinus~record", "gbm_psinus_sirr~record", "gbm_psinus_flat~record")
#: The beats the spread is taken over: the rhythm columns' window.
WINDOW = 61
#: The fewest sinus beats in a window the spread is taken over (else 0).
MIN_SINUS = 3


def sinus_irregularity(pre_rr, upper_rr, window: int = WINDOW) -> np.ndarray:
    """Per beat (one record, in time order), over the ``window`` beats centred on it, the median
    absolute deviation over the median of ``pre_rr`` of the beats whose ``pre_rr`` is at least
    ``upper_rr``; 0 where fewer than :data:`MIN_SINUS` are."""
    from ecg2d.rr import sinus_reference
    from ecg2d.segment import centred_windows

    pre = np.asarray(pre_rr, dtype=np.float64)
    if not len(pre):
        return np.zeros(0)
    sinus = np.where(sinus_reference(pre, upper_rr), pre, np.nan)
    windows = centred_windows(sinus, window)
    enough = np.sum(~np.isnan(windows), axis=1) >= MIN_SINUS
    out = np.zeros(len(pre))
    median = np.nanmedian(windows[enough], axis=1)
    spread = np.nanmedian(np.abs(windows[enough] - median[:, None]), axis=1)
    out[enough] = spread / np.maximum(median, 0.05)
    return out


def register_replacing(kind: str, column: str, base_kind: str = "gbm_psinus") -> None:
    """Register, for this process only, tree kind ``kind``: ``base_kind`` with its local
    irregularity replaced by manifest column ``column`` (read as that is, ``log(x + 0.01)``)
    and its two rhythm columns removed."""
    import ecg2d.expert as expert
    from ecg2d.rr import RHYTHM_COLUMNS

    ds1_fusion.register_probe_kind(kind, (), base_kind)
    base = expert.KIND_COLUMNS[base_kind]
    features = expert.KIND_FEATURES[base_kind]
    dropped = {f"log_{c}" for c in RHYTHM_COLUMNS}
    expert.KIND_COLUMNS[kind] = (
        *base[:4],
        column,
        *(c for c in base[5:] if c not in RHYTHM_COLUMNS),
    )
    expert.KIND_FEATURES[kind] = tuple(
        f"log_{column}" if f == "log_rr_irregularity" else f for f in features if f not in dropped
    )


def register() -> None:
    """Register the probe's kinds and derived columns (``bench/ds1_stress.py``'s ``DERIVED``)."""
    register_replacing("gbm_psinus_sirr", "sinus_irregularity")
    register_replacing("gbm_psinus_flat", "flat_irregularity")
    ds1_stress.DERIVED["sinus_irregularity"] = lambda rows: sinus_irregularity(
        rows["pre_rr"], rows["upper_rr"]
    )
    ds1_stress.DERIVED["flat_irregularity"] = lambda rows: np.zeros(len(rows))


def main(argv=None) -> None:
    register()
    ds1_stress.ruled_probe(__doc__, "ds1_sinus_rhythm_probe", ITEMS, argv)


if __name__ == "__main__":
    main()
