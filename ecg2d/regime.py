"""Where premature beats set the cycle: the dominant cycle as the longer of two interval groups,
the scores judged against it, where that regime holds, and whether the beats ending the longer
group share a P wave.

The upper quartile of the intervals around a beat (:func:`ecg2d.segment.upper_rr`) stands for
the sinus cycle while sinus beats are at least a quarter of them. Where runs of atrial premature
beats are most of the beats (a sick sinus broken by runs of ectopic cycles, each run ended by a
pause and a sinus beat), the upper quartile is itself a premature cycle and no premature beat is
early against it. There the intervals fall into two groups, and the longer group is the sinus
rhythm (:func:`long_mode`, :func:`dominant_cycle`). Read by the ``gbm_regime`` expert
(:mod:`ecg2d.expert`): the beats files' :data:`LONG_COLUMNS` (the gated scores against that
cycle), ``z_p_long`` (the P wave judged against the beats ending the longer group) and
:data:`REGIME_COLUMNS` (where the longer group sets the cycle, and how alike those beats' P
waves are: sinus beats after pauses share one, the beats after the longer intervals of atrial
flutter or fibrillation do not). Counted in beats and measured in seconds or as correlations,
all of it means the same at any sampling rate.

Chosen on DS1 alone (``bench/ds1_long_cycle_probe.py`` to ``bench/ds1_coherent_gated_probe.py``,
rounds 15-21 of issue 10, each against the stress test of ``bench/ds1_stress.py``).
"""

from __future__ import annotations

import numpy as np

from ecg2d.fibrillation import fibrillation_between
from ecg2d.rr import GATED_COLUMNS, MIN_RR, centred_windows, gated_columns

#: The gated scores (:data:`ecg2d.rr.GATED_COLUMNS`) with :func:`dominant_cycle` in place of the
#: upper quartile, for the reference beats and the fibrillation criterion alike
#: (:func:`long_columns`), as beats files and manifests hold them.
LONG_COLUMNS = ("zl_pre_upper", "zl_pre_prev", "zl_qrs_corr")
#: The P wave's robust z-score against the beats whose interval is at least
#: :func:`dominant_cycle` (``ecg2d.rr.PSINUS_COLUMNS``' score with that reference).
PLONG_COLUMNS = ("z_p_long",)
#: Where the longer group sets the cycle (1, else 0; :func:`long_regime`) and the median P-wave
#: likeness of the beats ending it around the beat (:func:`p_coherence`).
REGIME_COLUMNS = ("long_regime", "p_coherence")
#: The fewest intervals of the window (a share) the longer group needs to be read as the rhythm.
MIN_LONG_SHARE = 0.1
#: The least ratio of the longer group's median interval to the shorter group's.
MIN_RATIO = 1.25
#: The fewest intervals a window needs to be split in two.
MIN_WINDOW = 8
#: Beats, centred on a beat, over which :func:`p_coherence` takes its median.
COHERENCE_BEATS = 61
#: The fewest beats ending the longer group a coherence window needs.
MIN_COHERENCE_BEATS = 3
#: The least coherence at which the regime is read as sinus beats after pauses
#: (:func:`coherent_regime`).
MIN_COHERENCE = 0.5


def long_mode(pre_rr, beats: int) -> np.ndarray:
    """Per beat, over the ``beats`` intervals centred on it (fewer at the ends): the median of the
    longer group where the log intervals split into two (Otsu's split, the one of most
    between-group variance) whose medians differ by at least :data:`MIN_RATIO` and whose longer
    group holds at least :data:`MIN_LONG_SHARE` of them; NaN elsewhere (seconds)."""
    pre = np.log(np.maximum(np.asarray(pre_rr, dtype=np.float64), MIN_RR))
    out = np.full(len(pre), np.nan)
    if not len(pre):  # a record without beats
        return out
    for i, window in enumerate(centred_windows(pre, beats)):
        x = np.sort(window[np.isfinite(window)])
        n = len(x)
        if n < MIN_WINDOW:
            continue
        k = np.arange(1, n)  # the short group: x[:k]
        total = np.cumsum(x)
        mean_short = total[:-1] / k
        mean_long = (total[-1] - total[:-1]) / (n - k)
        split = int(np.argmax(k * (n - k) * (mean_long - mean_short) ** 2)) + 1
        short, long = x[:split], x[split:]
        if len(long) >= MIN_LONG_SHARE * n and np.median(long) - np.median(short) >= np.log(
            MIN_RATIO
        ):
            out[i] = np.exp(np.median(long))
    return out


def dominant_cycle(pre_rr, upper_rr, beats: int) -> np.ndarray:
    """The dominant cycle around each beat (seconds): ``upper_rr``, or the longer group's median
    interval (:func:`long_mode`) where that is longer."""
    return np.fmax(np.asarray(upper_rr, dtype=np.float64), long_mode(pre_rr, beats))


def long_columns(pre_rr, cycle, prev_rr, qrs_corr) -> dict[str, np.ndarray]:
    """:data:`LONG_COLUMNS` of one record's beats (in time order): ``ecg2d.rr.gated_columns``
    with ``cycle`` (:func:`dominant_cycle`) in place of ``upper_rr``, for the reference beats
    and the fibrillation criterion alike."""
    gated = gated_columns(pre_rr, cycle, prev_rr, qrs_corr, fibrillation_between(pre_rr, cycle))
    return {name: gated[g] for name, g in zip(LONG_COLUMNS, GATED_COLUMNS)}


def long_regime(cycle, upper_rr) -> np.ndarray:
    """1 where ``cycle`` (:func:`dominant_cycle`) is longer than ``upper_rr`` (the longer group
    sets the cycle), 0 elsewhere (float32, one record's beats in time order)."""
    return (np.asarray(cycle) > np.asarray(upper_rr, dtype=np.float64)).astype(np.float32)


def p_coherence(
    likeness, reference, beats: int = COHERENCE_BEATS, missing: float = 0.0
) -> np.ndarray:
    """Per beat, over the ``beats`` beats centred on it, the median P-wave likeness
    (``ecg2d.shape.stretch_likeness`` to the template of the ``reference`` beats) of the
    ``reference`` beats among them; ``missing`` where fewer than :data:`MIN_COHERENCE_BEATS`
    are (float32, as beats files hold it; float64 with a NaN ``missing``). High where the beats
    ending the longer interval group share a P wave."""
    values = np.where(reference, np.asarray(likeness, dtype=np.float64), np.nan)
    out = np.full(len(values), missing, dtype=np.float64)
    if len(values):  # a record without beats has none
        windows = centred_windows(values, beats)
        enough = np.sum(np.isfinite(windows), axis=1) >= MIN_COHERENCE_BEATS
        out[enough] = np.nanmedian(windows[enough], axis=1)
    return out if np.isnan(missing) else out.astype(np.float32)


def coherent_regime(regime, coherence) -> np.ndarray:
    """Where the longer group sets the cycle (``regime``, :func:`long_regime`) and the beats
    ending it share a P wave (``coherence`` at least :data:`MIN_COHERENCE`)."""
    return (np.asarray(regime, dtype=np.float64) > 0.5) & (
        np.asarray(coherence, dtype=np.float64) >= MIN_COHERENCE
    )
