"""Atrial fibrillation told from the RR intervals, without training: where a beat has no cycle to
be premature against.

Dash et al. 2009 (Ann. Biomed. Eng. 37:1701, "Automatic real time detection of atrial
fibrillation") call a segment of 128 RR intervals fibrillation when, after dropping its 8
longest and 8 shortest intervals, (1) the root mean square of successive differences over the
mean interval is above 0.1 (irregular), (2) the turning point ratio, the share of intervals
longer or shorter than both neighbours, is within 0.54–0.77, around the 2/3 of a random
sequence (bigeminy turns at every beat), and (3) the Shannon entropy of the intervals' 16-bin
histogram, over that of 16 equal bins, is above 0.7 (bigeminy fills two bins)
(:func:`dash_af`). As published it calls frequent ventricular ectopy fibrillation too (DS1's
record 208: 93.9 % of its beats, ``bench/af_criterion.py``). :func:`fibrillation_between`
reads the rhythm the premature beats interrupt instead: the criterion over the intervals
between consecutive beats that are not premature (:func:`ecg2d.rr.between_non_premature`), where a
premature beat and its pause make one interval of about two cycles and fibrillation's
intervals stay random (DS1 against the reference rhythm annotations: beat Se 95.7 % / Sp
96.2 %, against 99.8 / 86.5 as published). Counted in beats and made of ratios of seconds, it
means the same at any sampling rate.
"""

from __future__ import annotations

import numpy as np

from ecg2d.rr import between_non_premature, centred_windows

#: Dash et al. 2009: the segment's length in beats, the intervals dropped at each end, and the
#: thresholds of the three tests.
SEGMENT, TRIM = 128, 8
NRMSSD_MIN, TPR_RANGE, ENTROPY_MIN, BINS = 0.1, (0.54, 0.77), 0.7, 16


def segment_figures(rr) -> tuple[float, float, float]:
    """``(nrmssd, tpr, entropy)`` of one segment of RR intervals (seconds, in order) after its
    :data:`TRIM` longest and shortest are dropped (Dash et al. 2009); NaN for fewer than 8
    intervals left."""
    rr = np.asarray(rr, dtype=np.float64)
    rr = rr[~np.isnan(rr)]
    if len(rr) - 2 * TRIM >= 8:
        order = np.argsort(rr, kind="stable")
        keep = np.sort(order[TRIM : len(rr) - TRIM])
        rr = rr[keep]
    if len(rr) < 8:
        return (np.nan, np.nan, np.nan)
    nrmssd = float(np.sqrt(np.mean(np.diff(rr) ** 2)) / np.mean(rr))
    middle = rr[1:-1]
    turning = ((middle > rr[:-2]) & (middle > rr[2:])) | ((middle < rr[:-2]) & (middle < rr[2:]))
    tpr = float(turning.sum() / len(rr))
    counts, _ = np.histogram(rr, bins=BINS)
    p = counts[counts > 0] / len(rr)
    entropy = float(-(p * np.log(p)).sum() / np.log(BINS))
    return (nrmssd, tpr, entropy)


def dash_af(pre_rr, segment: int = SEGMENT) -> dict[str, np.ndarray]:
    """Per beat of one record (in time order): the three figures of :func:`segment_figures` over
    the ``segment`` beats' ``pre_rr`` centred on it (fewer at the record's ends), and ``af``,
    whether all three tests call it fibrillation."""
    pre = np.asarray(pre_rr, dtype=np.float64)
    figures = (
        np.array([segment_figures(w) for w in centred_windows(pre, segment)])
        if len(pre)
        else np.zeros((0, 3))
    )
    nrmssd, tpr, entropy = figures.T
    with np.errstate(invalid="ignore"):
        af = (
            (nrmssd > NRMSSD_MIN)
            & (tpr >= TPR_RANGE[0])
            & (tpr <= TPR_RANGE[1])
            & (entropy > ENTROPY_MIN)
        )
    return {"nrmssd": nrmssd, "tpr": tpr, "entropy": entropy, "af": af}


def fibrillation_between(pre_rr, upper_rr, segment: int = SEGMENT) -> np.ndarray:
    """Per beat of one record (in time order, ``pre_rr`` and the dominant cycle ``upper_rr`` in
    seconds): :func:`dash_af`'s verdict over the intervals between consecutive beats that are
    :func:`ecg2d.rr.not_premature`, each beat taking that of the last such beat at or before it
    (the first such beat's, before it); all False where fewer than two are."""
    rhythm = between_non_premature(pre_rr, upper_rr)
    if rhythm is None:
        return np.zeros(len(np.asarray(pre_rr)), dtype=bool)
    intervals, last = rhythm
    return dash_af(intervals, segment)["af"][last]
