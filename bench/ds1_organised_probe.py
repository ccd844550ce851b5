"""DS1 probe, not built into the workflow: organised atrial activity, to tell ectopy from
fibrillation, with the stressed copies in training.

The stress rounds (``bench/ds1_stress_probe.py``, ``bench/ds1_alternation_probe.py``,
``bench/ds1_stress_pooled_probe.py``) taught the trees S beats in records whose ectopic beats
are as many as their sinus beats by training them on stressed copies of DS1 records as well;
the copies' S beats were then found (24.6 to 33.6 % of them, against 0.1 %), but the trees
called S throughout DS1's fibrillating records too (DS1 SVEB +P 91.4 → 47.5 to 71.9 %): in
both, the RR intervals are irregular and short ones are common. What the trees were not shown
is the textbook mark that tells the two apart: fibrillation has no P waves. The candidate
column ``p_organised`` is, per beat, the upper quartile over the 61 beats centred on it (the
rhythm columns' window; fewer at the ends) of the P-wave likeness against the record's sinus
beats, the likeness ``z_p_sinus`` is the robust z-score of (the lead band-passed 250 to 70 ms
before the aligned QRS, correlated with the median of that stretch over the beats that are not
premature, ``ecg2d.rr.sinus_reference``). Where at least a quarter of the beats around have the
sinus P wave (sinus rhythm, and sinus rhythm broken by premature beats, even bigeminy), it is
high; in fibrillation, where no stretch repeats, it is low (``bench/ds1_atrial_probe.py``'s
window median of a likeness: about 0.2 and 0.4 in records 203 and 201's fibrillation, 0.7 to
0.97 elsewhere in DS1). A correlation over a window counted in beats and measured in ms, it
means the same at any sampling rate. The column is computed from each record, original and
stressed, as the beats stage would (``ds1_stress.SIGNAL_DERIVED``). DS1 only; DS2 is never
read.

The rule, fixed before the run: the configured expert (``gbm_psinus``, record weights, alone
as configured), then ``gbm_psinus_org~record+stressed_pooled`` (also reading ``p_organised``,
trained on the stressed copies pooled as one patient), then
``gbm_psinus_alt_org~record+stressed_pooled`` (also ``rr_alternation``); in that order, a
later one replaces the one chosen so far only if both: its DS1 record criterion (every DS1 beat
out of fold, the expert alone, the configured class factors) is not lower by more than 0.5
points, and on the held-out stressed records its pooled SVEB Se is higher by more than 10
points with a pooled SVEB +P of at least 50 % (``bench/ds1_stress_probe.py``'s rule).
Deterministic experts, no seed.

    .venv/bin/python bench/ds1_organised_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_organised_probe.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_alternation_probe  # noqa: E402
import ds1_fusion  # noqa: E402
import ds1_stress  # noqa: E402

ITEMS = (
    "gbm_psinus~record",
    "gbm_psinus_org~record+stressed_pooled",
    "gbm_psinus_alt_org~record+stressed_pooled",
)
#: The beats the upper quartile is taken over: the rhythm columns' window.
WINDOW = 61
#: The quantile of the likeness over the window: at least this share of the beats around
#: have the sinus P wave where the column is high.
QUANTILE = 0.75


def p_organised(record) -> pd.Series:
    """Per annotated beat of ``record`` (an :class:`ecg2d.io.Record`), indexed by sample: the
    :data:`QUANTILE` over the :data:`WINDOW` beats centred on it of the P-wave likeness against
    the record's sinus beats, computed as the beats stage computes ``z_p_sinus``'s likeness."""
    from ecg2d.io import beat_mask
    from ecg2d.rr import sinus_reference
    from ecg2d.segment import fiducials, rr_features
    from ecg2d.shape import p_wave_stretches, qrs_shape, stretch_likeness

    r = np.asarray(record.ann_sample[beat_mask(record.ann_symbol)], dtype=np.int64)
    _, shift = qrs_shape(record.signal, record.fs, r)
    points = fiducials(r, shift, record.name)
    rr = rr_features(points, record.fs)
    sinus = sinus_reference(rr["pre_rr"], rr["upper_rr"])
    likeness = stretch_likeness(p_wave_stretches(record.signal, record.fs, points), sinus)
    series = pd.Series(likeness.astype(np.float64))
    quartile = series.rolling(WINDOW, center=True, min_periods=1).quantile(QUANTILE)
    return pd.Series(quartile.to_numpy(), index=r)


def register() -> None:
    """Register, for this process only, kinds ``gbm_psinus_org`` and ``gbm_psinus_alt_org`` and
    the column as one ``bench/ds1_stress.py`` computes from each record."""
    ds1_alternation_probe.register()
    ds1_fusion.register_probe_kind("gbm_psinus_org", ("p_organised",), "gbm_psinus")
    ds1_fusion.register_probe_kind("gbm_psinus_alt_org", ("p_organised",), "gbm_psinus_alt")
    ds1_stress.SIGNAL_DERIVED["p_organised"] = p_organised


def main(argv=None) -> None:
    register()
    ds1_stress.ruled_probe(__doc__, "ds1_organised_probe", ITEMS, argv)


if __name__ == "__main__":
    main()
