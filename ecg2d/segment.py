"""Cut beat windows around the reference R-peak annotations of a record.

A beats file (``results/beats/{record}.npz``) holds the record's lead signal once and, per beat,
its R-peak sample, symbol, window ``[start, end)``, RR-interval context (measured between the
beats' QRS complexes aligned to the record's median QRS, :func:`fiducials`) and record-relative QRS
shape (:mod:`ecg2d.shape`) in its lead and, where the record has one, its other lead (``lead2``;
"" and NaN shape without one), and how unusual the beat and the atrial activity before it are
for the record (:data:`ecg2d.rr.UNUSUAL_COLUMNS`, :data:`ecg2d.rr.GATED_COLUMNS`,
:data:`ecg2d.rr.PWAVE_COLUMNS`, :data:`ecg2d.rr.PSINUS_COLUMNS`), and where premature beats set the
cycle (:data:`ecg2d.regime.LONG_COLUMNS`, :data:`ecg2d.regime.PLONG_COLUMNS`,
:data:`ecg2d.regime.REGIME_COLUMNS`). It is independent of any
experiment: every beat annotation is kept, and experiments choose classes later.
"""

from __future__ import annotations

import logging

import numpy as np

from ecg2d.fibrillation import fibrillation_between
from ecg2d.io import RecordError, beat_mask, load_npz
from ecg2d.regime import dominant_cycle, long_columns, long_regime, p_coherence
from ecg2d.rr import (
    PREMATURITY_COLUMNS,
    PWAVE_FLOOR,
    RHYTHM_COLUMNS,
    RR_CONTEXT,
    centred_windows,
    gated_columns,
    robust_z,
    sinus_reference,
    unusual_columns,
)
from ecg2d.shape import (
    band_error,
    p_wave_stretches,
    qrs_shape,
    second_lead_features,
    stretch_likeness,
    zero_phase,
)

WINDOW_MODES = ("midpoint", "jun2018", "fixed")

#: Jun et al. (2018) cut from the previous R peak + 20 samples to the next R peak - 20 samples
#: at 360 Hz.
JUN2018_MARGIN_S = 20 / 360

#: How many preceding RR intervals make the local average RR (and the local irregularity).
LOCAL_RR_BEATS = 10
#: How many beats, centred on a beat, make the rhythm's irregularity around it
#: (:func:`rhythm_irregularity`): about a minute of rhythm at usual heart rates.
RHYTHM_BEATS = 61
#: Side, in seconds, of the cells of the map of successive RR differences
#: (:func:`rhythm_cells`; Lian et al. 2011 used 25 ms).
RHYTHM_CELL_S = 0.025
#: Quantile of the RR intervals around a beat that stands for the dominant (sinus) cycle
#: (:func:`upper_rr`).
UPPER_RR_QUANTILE = 0.75


def rr_irregularity(pre_rr: np.ndarray, beats: int = LOCAL_RR_BEATS) -> np.ndarray:
    """Local RR irregularity of each beat: over its ``pre_rr`` and the preceding ``beats`` - 1,
    the median absolute difference of successive intervals divided by their median interval.

    Medians make it robust to isolated ectopy (one short and one long interval leave it near 0
    in a regular rhythm) while atrial fibrillation, irregular beat to beat, scores high. The
    first beat (no difference yet) scores 0; the next ``beats`` - 2 use the intervals there
    are. Every interval must be a positive number of seconds (a :class:`ValueError` says how
    many are not), so the result is always finite.
    """
    pre = np.asarray(pre_rr, dtype=np.float64)
    bad = ~(np.isfinite(pre) & (pre > 0))
    if bad.any():
        raise ValueError(
            f"pre_rr: {int(bad.sum())} of {len(pre)} RR intervals are not positive "
            f"(first at beat {int(np.argmax(bad))}): duplicate or unordered R peaks?"
        )
    n = len(pre)
    out = np.zeros(n, dtype=np.float64)
    if n < 2 or beats < 2:
        return out
    # Windows of beat 1 onwards: the NaN padding stands for intervals before the record's
    # start, which nanmedian skips; each window has at least one difference of real intervals.
    padded = np.concatenate([np.full(beats - 1, np.nan), pre])
    windows = np.lib.stride_tricks.sliding_window_view(padded, beats)[1:]
    diffs = np.abs(np.diff(windows, axis=1))
    out[1:] = np.nanmedian(diffs, axis=1) / np.nanmedian(windows, axis=1)
    return out


def rhythm_irregularity(irregularity: np.ndarray, beats: int = RHYTHM_BEATS) -> np.ndarray:
    """The rhythm's irregularity around each beat: the median of the local
    :func:`rr_irregularity` over the ``beats`` beats centred on it (fewer at the record's ends).

    Atrial fibrillation and flutter score high for minutes, while an isolated premature beat,
    which raises the local irregularity of a few beats only, leaves the median low: so a short
    RR interval can be read as premature in a regular rhythm and as ordinary in an irregular one.
    Counted in beats, not seconds, it means the same at any sampling rate.
    """
    x = np.asarray(irregularity, dtype=np.float64)
    if len(x) == 0:
        return np.zeros(0, dtype=np.float64)
    return np.nanmedian(centred_windows(x, beats), axis=1)


def upper_rr(pre_rr: np.ndarray, beats: int = RHYTHM_BEATS, q: float = UPPER_RR_QUANTILE):
    """The dominant cycle around each beat: the ``q`` quantile of ``pre_rr`` over the ``beats``
    beats centred on it (fewer at the record's ends).

    A premature beat is early against the rhythm's usual cycle. The record's mean or median RR
    stands for that cycle only while ectopic beats are few: in bigeminy, or in a record whose
    premature beats outnumber its sinus beats, mean and median are the premature intervals
    themselves, and a premature beat no longer looks early. Premature beats shorten intervals,
    so an upper quantile stays at the longer, dominant cycle as long as a quarter of the
    intervals are not premature. Counted in beats and measured in seconds, it means the same at
    any sampling rate.
    """
    pre = np.asarray(pre_rr, dtype=np.float64)
    if len(pre) == 0:
        return np.zeros(0, dtype=np.float64)
    return np.nanquantile(centred_windows(pre, beats), q, axis=1)


def rhythm_cells(
    pre_rr: np.ndarray, beats: int = RHYTHM_BEATS, cell_s: float = RHYTHM_CELL_S
) -> np.ndarray:
    """How scattered the rhythm around each beat is: of the ``beats`` points centred on it in
    the map of successive RR differences (``(pre_rr[i-1] - pre_rr[i-2], pre_rr[i] - pre_rr[i-1])``
    in seconds, cut into ``cell_s`` cells), the share that fall in distinct cells (fewer at the
    record's ends; the first two beats have no point of their own).

    After Lian, Wang and Muessig (2011), who counted the non-empty cells of this map to tell
    atrial fibrillation from sinus rhythm with ectopy: atrial fibrillation scatters its points
    over many cells (a share near 1), while premature beats, however frequent, return to the
    same few patterns (short-long, long-short, back to normal) and so to the same few cells.
    :func:`rhythm_irregularity` scores both high; this measure separates them. Intervals are in
    seconds, so it means the same at any sampling rate.
    """
    pre = np.asarray(pre_rr, dtype=np.float64)
    n = len(pre)
    if n < 3:
        return np.zeros(n, dtype=np.float64)
    cells = np.floor(np.diff(pre) / cell_s).astype(np.int64)
    # One id per distinct cell pair; the point of beat i (i >= 2) is (cells[i-2], cells[i-1]).
    _, code = np.unique(np.stack([cells[:-1], cells[1:]], axis=1), axis=0, return_inverse=True)
    half = beats // 2
    padded = np.concatenate(
        [np.full(2 + half, -1), np.ravel(code), np.full(half, -1)]
    )  # -1: no point (the first two beats, and beyond the record's ends)
    windows = np.sort(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1)
    valid = (windows >= 0).sum(axis=1)
    distinct = ((windows[:, 1:] != windows[:, :-1]) & (windows[:, 1:] >= 0)).sum(axis=1)
    distinct += windows[:, 0] >= 0
    return np.where(valid > 0, distinct / np.maximum(valid, 1), 0.0)


def window_band(window: dict) -> tuple[float | None, float | None]:
    """The band ``(highpass_hz, lowpass_hz)`` a window's beats are drawn from (its settings of
    those names; None: no edge there)."""
    return window.get("highpass_hz"), window.get("lowpass_hz")


def window_leads(window: dict) -> int:
    """How many leads a window's beat images draw (its ``leads``; 1 for windows recorded
    before the setting existed): 2 keeps the second lead in its beats (``signal2``)."""
    return int(window.get("leads", 1))


def band_limit(signal: np.ndarray, fs: float, band=(None, None)) -> np.ndarray:
    """``signal`` limited to ``band`` ``(highpass_hz, lowpass_hz)``, float32: zero-phase (so no
    beat moves in time), high-pass, low-pass or band-pass by which edges are set, unchanged
    where neither is (:func:`ecg2d.shape.zero_phase`). A band that cannot be filtered at ``fs``
    (:func:`ecg2d.shape.band_error`) is a :class:`ValueError` naming it.

    High-passing removes baseline wander: respiration and electrode motion tilt a beat's window
    by as much as its QRS, and a min-max scaled image then shows the tilt as shape.
    Low-passing removes muscle noise and mains hum, which draw into the trace what the
    network's input cannot resolve. 0.5-40 Hz is the monitoring ECG band (IEC 60601-2-27), set
    in Hz so that it holds at any sampling rate.
    """
    error = band_error(*band, fs)
    if error:
        raise ValueError(f"band {band}: {error}")
    return zero_phase(signal, fs, *band).astype(np.float32)


def beat_windows(
    r_peaks: np.ndarray,
    n_samples: int,
    fs: float,
    mode: str = "jun2018",
    fixed_ms: tuple[float, float] = (250.0, 400.0),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window ``[start, end)`` of each R peak, and a mask of the beats the mode can cut.

    - ``midpoint``: halfway to the previous R peak, to halfway to the next one.
    - ``jun2018``: previous R peak + 20 samples (at 360 Hz) to next R peak - 20 samples.
    - ``fixed``: ``fixed_ms[0]`` ms before to ``fixed_ms[1]`` ms after the R peak (for beats
      files, the beat's QRS aligned to the record's median QRS: :func:`beats_around_peaks`).

    ``midpoint`` and ``jun2018`` need both neighbours, so they cannot cut the first and the last
    beat of a record; ``fixed`` cannot cut beats whose window runs off either end of the signal.
    """
    r = np.asarray(r_peaks, dtype=np.int64)
    n = len(r)
    start = np.zeros(n, dtype=np.int64)
    end = np.zeros(n, dtype=np.int64)
    keep = np.zeros(n, dtype=bool)
    if mode == "fixed":
        start = r - int(round(fixed_ms[0] * fs / 1000))
        end = r + int(round(fixed_ms[1] * fs / 1000)) + 1
        keep = (start >= 0) & (end <= n_samples)
    elif mode in ("midpoint", "jun2018"):
        if n >= 3:
            prev, nxt = r[:-2], r[2:]
            if mode == "midpoint":
                start[1:-1] = (prev + r[1:-1]) // 2
                end[1:-1] = (r[1:-1] + nxt) // 2
            else:
                margin = int(round(JUN2018_MARGIN_S * fs))
                start[1:-1] = prev + margin
                end[1:-1] = nxt - margin + 1
            keep[1:-1] = end[1:-1] - start[1:-1] >= 2
    else:
        raise ValueError(f"unknown window mode {mode!r}; choose one of {WINDOW_MODES}")
    start = np.clip(start, 0, n_samples)
    end = np.clip(end, 0, n_samples)
    return start, end, keep & (end - start >= 2)


def rr_features(r_peaks: np.ndarray, fs: float) -> dict[str, np.ndarray]:
    """RR-interval context of each beat, in seconds (de Chazal et al. 2004), from its fiducial
    point ``r_peaks`` (samples, integer marks or the float points of :func:`fiducials`).

    ``pre_rr`` and ``post_rr``: intervals to the previous and next R peak (the first beat's
    ``pre_rr`` is its ``post_rr`` and vice versa for the last); ``local_rr``: mean ``pre_rr`` of
    this and the preceding :data:`LOCAL_RR_BEATS` - 1 beats; ``record_rr``: the record's mean RR;
    ``rr_irregularity`` (dimensionless): :func:`rr_irregularity` of ``pre_rr``, which tells the
    irregular rhythm of atrial fibrillation from the isolated prematurity of ectopic beats;
    ``rhythm_irregularity``: :func:`rhythm_irregularity`, its median over about a minute;
    ``rhythm_cells``: :func:`rhythm_cells`, how scattered the rhythm is over the same beats;
    ``prev_rr``: the previous beat's ``pre_rr`` (the first beat's own); ``upper_rr``:
    :func:`upper_rr`, the dominant cycle around the beat.
    """
    r = np.asarray(r_peaks, dtype=np.float64)
    n = len(r)
    if n < 2:
        zeros = np.zeros(n, dtype=np.float32)
        return {key: zeros for key in (*RR_CONTEXT, *RHYTHM_COLUMNS, *PREMATURITY_COLUMNS)}
    rr = np.diff(r) / fs
    pre = np.concatenate([[rr[0]], rr])
    post = np.concatenate([rr, [rr[-1]]])
    kernel = np.ones(LOCAL_RR_BEATS)
    sums = np.convolve(pre, kernel)[:n]
    counts = np.convolve(np.ones(n), kernel)[:n]
    local = sums / counts
    record = np.full(n, rr.mean())
    irregularity = rr_irregularity(pre)
    return {
        "pre_rr": pre.astype(np.float32),
        "post_rr": post.astype(np.float32),
        "local_rr": local.astype(np.float32),
        "record_rr": record.astype(np.float32),
        "rr_irregularity": irregularity.astype(np.float32),
        "rhythm_irregularity": rhythm_irregularity(irregularity).astype(np.float32),
        "rhythm_cells": rhythm_cells(pre).astype(np.float32),
        "prev_rr": np.concatenate([pre[:1], pre[:-1]]).astype(np.float32),
        "upper_rr": upper_rr(pre).astype(np.float32),
    }


def fiducials(r_peaks: np.ndarray, shift: np.ndarray, record: str = "") -> np.ndarray:
    """The beats' fiducial points (samples, float) from which RR intervals are measured: each
    mark moved by the shift that aligns its QRS with the record's median QRS
    (:func:`ecg2d.shape.qrs_shape`), so that intervals hold to a fraction of a sample at any
    sampling rate. Where moved points would not be strictly increasing (marks closer than two
    shifts), the marks themselves are used, with a warning naming ``record``."""
    r = np.asarray(r_peaks, dtype=np.float64)
    moved = r + np.asarray(shift, dtype=np.float64)
    if len(moved) > 1 and np.any(np.diff(moved) <= 0):
        logging.getLogger("ecg2d.segment").warning(
            "record %s: %d aligned beats would not follow the one before; RR intervals "
            "measured between the marks instead",
            record,
            int(np.sum(np.diff(moved) <= 0)),
        )
        return r
    return moved


def beats_around_peaks(
    record,
    r_peaks: np.ndarray,
    symbols: np.ndarray,
    mode: str = "jun2018",
    fixed_ms: tuple[float, float] = (250.0, 400.0),
    band: tuple[float | None, float | None] = (None, None),
    leads: int = 1,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """A beats dict of ``record`` cut around ``r_peaks`` labelled ``symbols``, and the mask of
    the peaks the window mode could cut (for arrays the caller adds per beat).

    The beats' ``signal``, from which images are drawn, is the lead limited to ``band``
    (:func:`band_limit`, the window's :func:`window_band`; no edges: as recorded); the QRS
    shape features band-pass the lead themselves (:mod:`ecg2d.shape`). With ``leads`` 2 (the
    window's :func:`window_leads`), the second lead, limited to the same band, is kept too as
    ``signal2``, for images that draw both (:func:`ecg2d.render.render_beat`); a one-lead
    record has none.

    Windows and RR context are taken over all of ``r_peaks``, which must be strictly
    increasing: two beats at one sample (or out of order) are a :class:`ecg2d.io.RecordError`
    naming the record and how many there are.
    """
    r = np.asarray(r_peaks, dtype=np.int64)
    not_after = np.flatnonzero(np.diff(r) <= 0) + 1
    if len(not_after):
        raise RecordError(
            f"record {record.name}: {len(not_after)} beats are not after the previous one "
            f"(first at sample {int(r[not_after[0]])}): duplicate or unordered beat annotations"
        )
    shape, shift = qrs_shape(record.signal, record.fs, r)
    points = fiducials(r, shift, record.name)
    # a fixed window is cut around the aligned QRS, so that where a mark fell in its QRS
    # (another sampling rate, a detector) does not move the beat in its image
    centres = np.round(points).astype(np.int64) if mode == "fixed" else r
    start, end, keep = beat_windows(centres, len(record.signal), record.fs, mode, fixed_ms)
    beats = {
        "record": np.array(record.name),
        "lead": np.array(record.lead),
        "fs": np.array(record.fs, dtype=np.float64),
        "signal": band_limit(record.signal, record.fs, band),
        "sample": r[keep],
        "symbol": np.asarray(symbols)[keep].astype("U1"),
        "start": start[keep],
        "end": end[keep],
    }
    rr = rr_features(points, record.fs)
    beats.update({key: value[keep] for key, value in rr.items()})
    shape.update(second_lead_features(record.signal2, record.fs, r))
    beats.update({key: value[keep] for key, value in shape.items()})
    context = (beats["pre_rr"], beats["upper_rr"], beats["prev_rr"], beats["qrs_corr"])
    beats.update(unusual_columns(*context))
    beats.update(gated_columns(*context, fibrillation_between(*context[:2])))
    stretch = p_wave_stretches(record.signal, record.fs, points)
    beats["z_p_corr"] = robust_z(stretch_likeness(stretch)[keep], PWAVE_FLOOR)
    sinus = sinus_reference(rr["pre_rr"], rr["upper_rr"])
    likeness = stretch_likeness(stretch, reference=sinus)
    beats["z_p_sinus"] = robust_z(likeness[keep], PWAVE_FLOOR, reference=sinus[keep])
    cycle = dominant_cycle(beats["pre_rr"], beats["upper_rr"], RHYTHM_BEATS)
    beats.update(long_columns(beats["pre_rr"], cycle, beats["prev_rr"], beats["qrs_corr"]))
    beats["long_regime"] = long_regime(cycle, beats["upper_rr"])
    # the beats ending the longer interval group, over all the record's beats
    after_long = sinus_reference(
        rr["pre_rr"], dominant_cycle(rr["pre_rr"], rr["upper_rr"], RHYTHM_BEATS)
    )
    likeness = stretch_likeness(stretch, reference=after_long)
    beats["z_p_long"] = robust_z(likeness, PWAVE_FLOOR, reference=after_long)[keep]
    beats["p_coherence"] = p_coherence(likeness, after_long)[keep]
    beats["lead2"] = np.array(record.lead2)
    if leads == 2 and record.signal2 is not None:
        beats["signal2"] = band_limit(record.signal2, record.fs, band)
    return beats, keep


def segment_record(
    record,
    mode: str = "jun2018",
    fixed_ms: tuple[float, float] = (250.0, 400.0),
    band: tuple[float | None, float | None] = (None, None),
    leads: int = 1,
) -> dict[str, np.ndarray]:
    """Beats of an :class:`ecg2d.io.Record` as a dict of plain arrays (see module docstring),
    the signal limited to ``band`` (:func:`band_limit`), the second lead kept as ``signal2``
    with ``leads`` 2 (:func:`beats_around_peaks`).

    Neighbours and RR intervals are taken over all beat annotations of the record, whatever
    their class; non-beat annotations are dropped first.
    """
    is_beat = beat_mask(record.ann_symbol)
    beats, _ = beats_around_peaks(
        record,
        record.ann_sample[is_beat],
        record.ann_symbol[is_beat],
        mode,
        fixed_ms,
        band,
        leads,
    )
    return beats


def save_beats(beats: dict[str, np.ndarray], path) -> None:
    """Write a beats dict to ``path`` (``.npz``) atomically."""
    from ecg2d.atomic import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **beats)


def load_beats(path) -> dict[str, np.ndarray]:
    """Read a beats file written by :func:`save_beats` (never unpickles).

    A file that is not a plain ``.npz`` or lacks arrays of a beats file is a :class:`ValueError`
    naming the file.
    """
    beats = load_npz(path)
    missing = sorted(BEATS_KEYS - set(beats))
    if missing:
        raise ValueError(
            f"{path}: not a beats file of this version (no arrays {', '.join(missing)}); "
            "rebuild the beats files: snakemake --forcerun beats"
        )
    return beats


#: Arrays of a beats file (see :func:`segment_record`).
BEATS_KEYS = frozenset(
    (
        "record lead fs signal sample symbol start end pre_rr post_rr local_rr record_rr "
        "rr_irregularity rhythm_irregularity rhythm_cells prev_rr upper_rr "
        "qrs_corr qrs_amp qrs_width lead2 qrs_corr_2 qrs_amp_2 qrs_width_2 "
        "z_pre_upper z_pre_prev z_qrs_corr zg_pre_upper zg_pre_prev zg_qrs_corr z_p_corr z_p_sinus "
        "zl_pre_upper zl_pre_prev zl_qrs_corr z_p_long long_regime p_coherence"
    ).split()
)
