"""Record-relative QRS shape of each beat: how a beat differs from its own record's usual beat.

A CNN trained on a few patients learns their beat shapes; what carries over to a new patient is
how far a beat departs from *that patient's* dominant beat. Three numbers per beat, each
relative to the record, from the lead band-passed to 0.5-40 Hz (:data:`BAND_HZ`):

- ``qrs_corr``: correlation of the beat's QRS (R peak ± :data:`QRS_MS` ms) with the record's
  median QRS (1 for a typical beat; ectopic ventricular beats fall far below);
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

#: Per-beat shape columns of beats files and manifests.
SHAPE_COLUMNS = ("qrs_corr", "qrs_amp", "qrs_width")
#: The same, from the record's other lead (NaN where it has none).
SHAPE2_COLUMNS = tuple(f"{column}_2" for column in SHAPE_COLUMNS)
BAND_HZ = (0.5, 40.0)
QRS_MS = 100.0
BASELINE_MS = 30.0
WIDTH_LEVEL = 0.3
#: Floor of amplitude and width ratios before their logarithm.
FLOOR = 1e-3


def band_pass(signal: np.ndarray, fs: float) -> np.ndarray:
    """The signal band-passed to :data:`BAND_HZ` (zero-phase, 2nd-order Butterworth)."""
    from scipy.signal import butter, sosfiltfilt

    signal = np.asarray(signal, dtype=np.float64)
    high = min(BAND_HZ[1], 0.45 * fs)
    sos = butter(2, [BAND_HZ[0], high], btype="band", fs=fs, output="sos")
    if len(signal) <= 3 * (2 * len(sos) + 1):  # too short to filter: baseline only
        return signal - np.median(signal) if len(signal) else signal
    return sosfiltfilt(sos, signal)


def around_peaks(x: np.ndarray, fs: float, r_peaks, half_ms: float) -> np.ndarray:
    """The samples of ``x`` within +- ``half_ms`` (at least one sample) of each R peak, one row
    per peak; indices past either end of the signal repeat its first or last sample."""
    r = np.asarray(r_peaks, dtype=np.int64)
    half = max(1, int(round(half_ms * fs / 1000)))
    index = np.clip(r[:, None] + np.arange(-half, half + 1)[None, :], 0, len(x) - 1)
    return np.asarray(x)[index]


def shape_features(signal, fs: float, r_peaks) -> dict[str, np.ndarray]:
    """:data:`SHAPE_COLUMNS` (float32 arrays, one value per R peak) of beats at ``r_peaks``."""
    r = np.asarray(r_peaks, dtype=np.int64)
    if len(r) == 0:
        return {key: np.zeros(0, dtype=np.float32) for key in SHAPE_COLUMNS}
    qrs = around_peaks(band_pass(signal, fs), fs, r, QRS_MS)
    centred = qrs - qrs.mean(axis=1, keepdims=True)
    template = np.median(qrs, axis=0)
    template = template - template.mean()
    norms = np.linalg.norm(centred, axis=1) * np.linalg.norm(template)
    corr = np.where(norms > 0, centred @ template / np.maximum(norms, 1e-12), 0.0)
    ptp = qrs.max(axis=1) - qrs.min(axis=1)
    base = max(1, int(round(BASELINE_MS * fs / 1000)))
    deviation = np.abs(qrs - np.median(qrs[:, :base], axis=1, keepdims=True))
    level = WIDTH_LEVEL * deviation.max(axis=1, keepdims=True)
    width = (deviation > level).sum(axis=1) / fs * 1000.0
    return {
        "qrs_corr": corr.astype(np.float32),
        "qrs_amp": _log_ratio(ptp).astype(np.float32),
        "qrs_width": _log_ratio(width).astype(np.float32),
    }


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
