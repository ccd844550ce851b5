"""Record-relative QRS shape of each beat: how a beat differs from its own record's usual beat.

A CNN trained on a few patients learns their beat shapes; what carries over to a new patient is
how far a beat departs from *that patient's* dominant beat. Three numbers per beat, each
relative to the record, from the lead band-passed to 0.5-40 Hz (:data:`BAND_HZ`; :func:`zero_phase`,
which also band-limits the lead that beats are drawn from, :func:`ecg2d.segment.band_limit`):

- ``qrs_corr``: correlation of the beat's QRS (R peak ± :data:`QRS_MS` ms) with the record's
  median QRS (1 for a typical beat; ectopic ventricular beats fall far below), the best over
  shifts of up to :data:`LAG_MS` ms either way, against a median of beats aligned the same way
  (:func:`qrs_alignment`): so it does not depend on where within its QRS a beat's mark
  falls, which moves by a sample of the recording's rate (7.8 ms at 128 Hz) and between an
  annotator and a QRS detector;
- ``qrs_amp``: log of the QRS peak-to-peak amplitude over the record's median;
- ``qrs_width``: log of the QRS width (time above :data:`WIDTH_LEVEL` of the window's largest
  deviation from its start) over the record's median.

All are ratios or correlations in milliseconds, so they mean the same at any sampling rate,
gain or lead. They feed the rhythm expert's ``rr_shape`` kind (:mod:`ecg2d.expert`).

:data:`SHAPE2_COLUMNS` are the same three numbers from the record's other lead
(:func:`ecg2d.io.other_channel`, whatever its name), NaN for a one-lead record
(:func:`second_lead_features`): de Chazal et al. (2004) used both MIT-BIH leads.
"""

from __future__ import annotations

import numpy as np

from ecg2d.rr import reference_mask

#: Per-beat shape columns of beats files and manifests.
SHAPE_COLUMNS = ("qrs_corr", "qrs_amp", "qrs_width")
#: The same, from the record's other lead (NaN where it has none).
SHAPE2_COLUMNS = tuple(f"{column}_2" for column in SHAPE_COLUMNS)
BAND_HZ = (0.5, 40.0)
QRS_MS = 100.0
#: Largest shift (ms) of a beat's QRS against the record's median QRS in ``qrs_corr``.
LAG_MS = 20.0
BASELINE_MS = 30.0
WIDTH_LEVEL = 0.3
#: Floor of amplitude and width ratios before their logarithm.
FLOOR = 1e-3


#: Order of the Butterworth filters of :func:`zero_phase` (run forwards and backwards).
FILTER_ORDER = 2


def zero_phase(signal: np.ndarray, fs: float, high=None, low=None) -> np.ndarray:
    """``signal`` (float64) through a zero-phase :data:`FILTER_ORDER` Butterworth: band-pass
    from ``high`` to ``low`` Hz, or high-pass or low-pass where only one edge is set (None: no
    edge there); unchanged where neither is. The low-pass edge is kept below 0.45 ``fs``. A
    signal too short to filter loses its median instead (baseline only)."""
    signal = np.asarray(signal, dtype=np.float64)
    low = None if low is None else min(float(low), 0.45 * fs)
    if high is None and low is None:
        return signal
    from scipy.signal import butter, sosfiltfilt

    if high is not None and low is not None:
        edges, kind = [float(high), low], "bandpass"
    else:
        edges, kind = (float(high), "highpass") if high is not None else (low, "lowpass")
    sos = butter(FILTER_ORDER, edges, btype=kind, fs=fs, output="sos")
    if len(signal) <= 3 * (2 * len(sos) + 1):
        return signal - np.median(signal) if len(signal) else signal
    return sosfiltfilt(sos, signal)


def band_error(high, low, fs: float) -> str | None:
    """Why a band from ``high`` to ``low`` Hz (None: no edge there) cannot be filtered at ``fs``
    Hz: a high-pass edge at or above 0.45 ``fs`` (the most a low-pass edge is kept at) or at or
    above the low-pass edge; None if it can."""
    if high is None:
        return None
    if high >= 0.45 * float(fs):
        return f"highpass_hz ({high}) must be below 0.45 x the sampling rate ({fs:g} Hz)"
    if low is not None and high >= low:
        return f"highpass_hz ({high}) must be below lowpass_hz ({low})"
    return None


def band_pass(signal: np.ndarray, fs: float) -> np.ndarray:
    """The signal band-passed to :data:`BAND_HZ` (:func:`zero_phase`)."""
    return zero_phase(signal, fs, *BAND_HZ)


def around_peaks(x: np.ndarray, fs: float, r_peaks, half_ms: float) -> np.ndarray:
    """The samples of ``x`` within +- ``half_ms`` (at least one sample) of each R peak, one row
    per peak; indices past either end of the signal repeat its first or last sample."""
    r = np.asarray(r_peaks, dtype=np.int64)
    half = max(1, int(round(half_ms * fs / 1000)))
    index = np.clip(r[:, None] + np.arange(-half, half + 1)[None, :], 0, len(x) - 1)
    return np.asarray(x)[index]


def shape_features(signal, fs: float, r_peaks) -> dict[str, np.ndarray]:
    """:data:`SHAPE_COLUMNS` (float32 arrays, one value per R peak) of beats at ``r_peaks``."""
    return qrs_shape(signal, fs, r_peaks)[0]


def qrs_shape(signal, fs: float, r_peaks) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """:func:`shape_features` of beats at ``r_peaks``, and each beat's shift (in samples, a
    fraction of one at most between two) that aligns its QRS best with the record's median QRS:
    ``r_peaks + shift`` are fiducial points that do not depend on where a mark fell in its QRS
    (:func:`qrs_alignment`)."""
    r = np.asarray(r_peaks, dtype=np.int64)
    if len(r) == 0:
        return {key: np.zeros(0, dtype=np.float32) for key in SHAPE_COLUMNS}, np.zeros(0)
    filtered = band_pass(signal, fs)
    qrs = around_peaks(filtered, fs, r, QRS_MS)
    corr, shift = qrs_alignment(around_peaks(filtered, fs, r, QRS_MS + LAG_MS), qrs.shape[1])
    ptp = qrs.max(axis=1) - qrs.min(axis=1)
    base = max(1, int(round(BASELINE_MS * fs / 1000)))
    deviation = np.abs(qrs - np.median(qrs[:, :base], axis=1, keepdims=True))
    level = WIDTH_LEVEL * deviation.max(axis=1, keepdims=True)
    width = (deviation > level).sum(axis=1) / fs * 1000.0
    return {
        "qrs_corr": corr.astype(np.float32),
        "qrs_amp": _log_ratio(ptp).astype(np.float32),
        "qrs_width": _log_ratio(width).astype(np.float32),
    }, shift


def _lagged_correlation(wide: np.ndarray, width: int, template: np.ndarray) -> np.ndarray:
    """Correlation of each row's ``width``-sample slice with ``template`` at every shift of the
    slice within ``wide`` (rows x shifts); 0 where a slice or the template is flat."""
    template = template - template.mean()
    slices = np.lib.stride_tricks.sliding_window_view(wide, width, axis=1)
    centred = slices - slices.mean(axis=2, keepdims=True)
    norms = np.linalg.norm(centred, axis=2) * np.linalg.norm(template)
    return np.where(norms > 0, centred @ template / np.maximum(norms, 1e-12), 0.0)


def qrs_alignment(wide: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Each beat's best correlation with the record's median QRS over shifts, and that shift.

    ``wide`` holds each beat's QRS with :data:`LAG_MS` ms more on either side (one row per beat,
    ``width`` + 2 x the shift in samples); ``width`` is the QRS's own length. The median QRS is
    first taken at the beats' marks, then again over the beats each shifted to fit it best, so
    that the marks' jitter blurs neither the template nor the beats' correlation with it.

    The shift (samples; positive: the beat's QRS lies later than its mark) is refined between
    samples by the parabola through the correlations around the best one, so it holds to a
    fraction of a sample at any rate. Where the best correlation lies at the largest shift
    either way, the beat's QRS does not fit the median one within :data:`LAG_MS`, and its shift
    is 0: its mark stands.
    """
    shifts = wide.shape[1] - width
    if len(wide) == 0:
        return np.zeros(0), np.zeros(0)
    centre = shifts // 2
    template = np.median(wide[:, centre : centre + width], axis=0)
    best = _lagged_correlation(wide, width, template).argmax(axis=1)
    aligned = wide[np.arange(len(wide))[:, None], best[:, None] + np.arange(width)[None, :]]
    curves = _lagged_correlation(wide, width, np.median(aligned, axis=0))
    k = curves.argmax(axis=1)
    rows = np.arange(len(curves))
    inside = (k > 0) & (k < shifts)
    left = curves[rows, np.maximum(k - 1, 0)]
    right = curves[rows, np.minimum(k + 1, shifts)]
    peak = curves[rows, k]
    bend = left - 2 * peak + right
    step = np.where(bend < 0, 0.5 * (left - right) / np.where(bend < 0, bend, -1.0), 0.0)
    shift = np.where(inside, k - centre + np.clip(step, -0.5, 0.5), 0.0)
    return peak, shift


#: The stretch before a beat's fiducial point (ms, from and to) whose likeness to the record's
#: median of it measures the beat's atrial activity (:func:`p_wave_likeness`).
P_WAVE_MS = (250.0, 70.0)


def p_wave_likeness(signal, fs: float, points, reference=None) -> np.ndarray:
    """Per beat, the correlation of the lead band-passed to :data:`BAND_HZ` from 250 to 70 ms
    before the beat's fiducial point (``points``, samples; the aligned QRS of
    :func:`ecg2d.segment.fiducials`) with the record's sample-wise median of that stretch: near
    1 where the beat's P wave is the record's usual one, lower where it comes from another
    focus, is missing, or falls into the T wave before it (a premature beat), low for every
    beat in atrial fibrillation. Stretches running off the record's start are clipped to it.

    ``reference`` (a boolean mask of the beats, e.g. :func:`ecg2d.rr.sinus_reference`) takes
    the median over those beats only, where enough are (:func:`ecg2d.rr.reference_mask`); None
    (or too few): over all beats. :func:`p_wave_stretches` and :func:`stretch_likeness` are its
    two halves, for one record's likeness against several references."""
    return stretch_likeness(p_wave_stretches(signal, fs, points), reference)


def p_wave_stretches(signal, fs: float, points) -> np.ndarray:
    """The stretches :func:`p_wave_likeness` correlates: per beat, the lead band-passed to
    :data:`BAND_HZ` from 250 to 70 ms before its fiducial point (beats x samples; clipped to the
    record's start; no columns where the rate leaves the stretch empty)."""
    x = band_pass(np.asarray(signal, dtype=np.float64), fs)
    start, stop = (int(round(ms * fs / 1000.0)) for ms in P_WAVE_MS)
    centres = np.round(np.asarray(points, dtype=np.float64)).astype(np.int64)
    if not len(centres) or start <= stop:
        return np.zeros((len(centres), 0))
    index = np.clip(centres[:, None] + np.arange(-start, -stop)[None, :], 0, len(x) - 1)
    return x[index]


def stretch_likeness(stretch: np.ndarray, reference=None) -> np.ndarray:
    """Each row of ``stretch`` (:func:`p_wave_stretches`) correlated with the sample-wise median
    of the ``reference`` rows (:func:`ecg2d.rr.reference_mask`); float32, 0 where either is
    flat or there is no stretch."""
    if not stretch.size:
        return np.zeros(len(stretch), dtype=np.float32)
    centred = stretch - stretch.mean(axis=1, keepdims=True)
    template = np.median(stretch[reference_mask(reference, len(stretch))], axis=0)
    template = template - template.mean()
    norms = np.linalg.norm(centred, axis=1) * np.linalg.norm(template)
    likeness = np.where(norms > 0, centred @ template / np.maximum(norms, 1e-12), 0.0)
    return likeness.astype(np.float32)


def second_lead_features(signal2, fs: float, r_peaks) -> dict[str, np.ndarray]:
    """:data:`SHAPE2_COLUMNS`: :func:`shape_features` of the other lead ``signal2`` at the same R
    peaks; NaN for every beat where ``signal2`` is None (a one-lead record)."""
    if signal2 is None:
        nan = np.full(len(np.asarray(r_peaks)), np.nan, dtype=np.float32)
        return {column: nan.copy() for column in SHAPE2_COLUMNS}
    shape = shape_features(signal2, fs, r_peaks)
    return {column2: shape[column] for column, column2 in zip(SHAPE_COLUMNS, SHAPE2_COLUMNS)}


def _log_ratio(values: np.ndarray) -> np.ndarray:
    """log(value / the median value), both floored at :data:`FLOOR` of the median (or of 1)."""
    median = float(np.median(values))
    scale = median if median > 0 else 1.0
    return np.log(np.maximum(values, FLOOR * scale) / max(median, FLOOR * scale))
