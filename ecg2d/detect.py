"""R-peak detection, its scoring against reference annotations, and detector-based beats.

Detectors (:data:`DETECTORS`):

- ``hamilton``, ``christov``, ``engzee``: ``biosppy.signals.ecg.*_segmenter``, run on the signal
  band-passed the way ``biosppy.signals.ecg.ecg`` does it (:func:`bandpass`: zero-phase FIR,
  0.67-45 Hz, 1.5 s of taps);
- ``xqrs``: ``wfdb.processing.XQRS`` on the raw signal (it filters on its own).

Every detection is then moved to the local extremum of the band-passed signal, the sample of
largest absolute value within ``refine_s`` (default 50 ms) either side (:func:`refine_peaks`).
Absolute value, not maximum: the reference marks the major deflection of the QRS, which is
negative in many ventricular beats. Detections that land on the same sample are merged.

Scoring follows ANSI/AAMI EC57 beat-by-beat comparison (:func:`score_detections`): a detection
matches a reference beat annotation at most ``match_s`` (150 ms) away, one to one, closest pairs
first. TP = matched reference beats, FN = unmatched reference beats, FP = unmatched detections;
Se = TP / (TP + FN), +P = TP / (TP + FP). Reference beats are the WFDB beat codes
(:data:`SCORED_SYMBOLS`: :data:`ecg2d.io.BEAT_SYMBOLS` without ``!``); as in EC57,
ventricular flutter/fibrillation episodes (``[`` to ``]``) are left out of the counts, both their
annotations and the detections inside them, and ``!`` flutter waves are never QRS references.
Unlike bxb, the whole record is scored by default (no 5-minute learning period; ``start_s``).

Detector-based beats (:func:`detected_beats`) have the format of
:func:`ecg2d.segment.segment_record`, windows and RR context taken from the detected R peaks,
plus ``matched`` (bool), ``ref_sample`` (the matched annotation's sample, -1 if none) and
``detector``. A beat's ``symbol`` is that of the reference beat annotation (any of
``BEAT_SYMBOLS``, ``!`` included) matched within ``match_s``; a detection matching none gets
:data:`UNMATCHED` (``-``, not a WFDB annotation code and so never in any experiment's classes):
it is kept (it has RR context and an image), counted, but never labelled, trained on or scored.
"""

from __future__ import annotations

import numpy as np

from ecg2d.io import BEAT_SYMBOLS, beat_mask
from ecg2d.segment import beats_around_peaks, window_band, window_leads

DETECTORS = ("hamilton", "christov", "engzee", "xqrs")

#: EC57 match window between a detection and a reference annotation, seconds.
MATCH_WINDOW_S = 0.150
#: Tighter window that measures timing accuracy (% of reference beats detected this close).
TIMING_WINDOW_S = 0.050
#: Half-width of the search for the local extremum around a detection, seconds.
REFINE_RADIUS_S = 0.050
#: Symbol of a detected beat that matches no reference beat annotation.
UNMATCHED = "-"
#: Reference annotations scored as QRS complexes (flutter waves ``!`` are not).
SCORED_SYMBOLS = BEAT_SYMBOLS - {"!"}
#: Annotations opening and closing a ventricular flutter/fibrillation episode.
VF_ON, VF_OFF = "[", "]"

#: biosppy's ECG band-pass (``biosppy.signals.ecg.ecg``): FIR taps per second, band in Hz.
_FIR_TAPS_PER_S = 1.5
_BAND_HZ = (0.67, 45.0)


def bandpass(signal: np.ndarray, fs: float) -> np.ndarray:
    """Zero-phase FIR band-pass, 0.67-45 Hz (capped below Nyquist), as biosppy's ``ecg()``."""
    from scipy.signal import filtfilt, firwin

    x = np.asarray(signal, dtype=np.float64)
    taps = int(_FIR_TAPS_PER_S * fs) | 1  # odd
    high = min(_BAND_HZ[1], 0.45 * fs)
    if len(x) <= 3 * taps:
        raise ValueError(f"signal of {len(x)} samples is too short to filter ({taps} taps)")
    b = firwin(taps, [_BAND_HZ[0], high], pass_zero=False, fs=fs)
    filtered = filtfilt(b, [1.0], x)
    return filtered - filtered.mean()


def raw_detections(signal: np.ndarray, filtered: np.ndarray, fs: float, detector: str):
    """R-peak samples of one detector, before refinement (see module docstring)."""
    if detector == "xqrs":
        from wfdb.processing import XQRS

        xqrs = XQRS(sig=np.asarray(signal, dtype=np.float64), fs=fs)
        xqrs.detect(verbose=False)
        return np.asarray(xqrs.qrs_inds, dtype=np.int64)
    if detector in ("hamilton", "christov", "engzee"):
        from biosppy.signals import ecg

        segmenter = getattr(ecg, f"{detector}_segmenter")
        (peaks,) = segmenter(signal=filtered, sampling_rate=fs)
        return np.asarray(peaks, dtype=np.int64)
    raise ValueError(f"unknown detector {detector!r}; choose one of {DETECTORS}")


def refine_peaks(filtered: np.ndarray, peaks: np.ndarray, fs: float, radius_s: float):
    """Move each peak to the largest ``|filtered|`` within ``radius_s``; sorted, unique."""
    x = np.abs(np.asarray(filtered, dtype=np.float64))
    peaks = np.asarray(peaks, dtype=np.int64)
    peaks = peaks[(peaks >= 0) & (peaks < len(x))]
    radius = int(round(radius_s * fs))
    if radius <= 0 or not len(peaks):
        return np.unique(peaks)
    offsets = np.arange(-radius, radius + 1)
    index = np.clip(peaks[:, None] + offsets[None, :], 0, len(x) - 1)
    return np.unique(index[np.arange(len(peaks)), x[index].argmax(axis=1)])


def detect_peaks(
    signal: np.ndarray, fs: float, detector: str, refine_s: float = REFINE_RADIUS_S
) -> np.ndarray:
    """Refined R-peak samples of ``signal`` found by ``detector``."""
    filtered = bandpass(signal, fs)
    peaks = raw_detections(signal, filtered, fs, detector)
    return refine_peaks(filtered, peaks, fs, refine_s)


def match_peaks(
    reference: np.ndarray, detections: np.ndarray, fs: float, window_s: float = MATCH_WINDOW_S
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matches ``(ref_index, det_index)`` at most ``window_s`` apart, closest first.

    Pairs are taken in order of distance (ties: earlier reference first), each reference and
    each detection at most once.
    """
    ref = np.asarray(reference, dtype=np.int64)
    det = np.asarray(detections, dtype=np.int64)
    reach = window_s * fs + 1e-9
    order_ref, order_det = np.argsort(ref, kind="stable"), np.argsort(det, kind="stable")
    ref_sorted, det_sorted = ref[order_ref], det[order_det]
    lo = np.searchsorted(ref_sorted, det_sorted - reach, side="left")
    hi = np.searchsorted(ref_sorted, det_sorted + reach, side="right")
    pairs = [(abs(int(ref_sorted[i]) - int(d)), i, j)
             for j, d in enumerate(det_sorted) for i in range(lo[j], hi[j])]  # fmt: skip
    pairs.sort()
    used_ref, used_det = set(), set()
    ref_index, det_index = [], []
    for _, i, j in pairs:
        if i in used_ref or j in used_det:
            continue
        used_ref.add(i)
        used_det.add(j)
        ref_index.append(order_ref[i])
        det_index.append(order_det[j])
    order = np.argsort(ref_index, kind="stable")
    return (
        np.asarray(ref_index, dtype=np.int64)[order],
        np.asarray(det_index, dtype=np.int64)[order],
    )


def vf_episodes(ann_sample: np.ndarray, ann_symbol: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end]`` sample ranges of ventricular flutter/fibrillation episodes."""
    episodes, start = [], None
    for sample, symbol in zip(np.asarray(ann_sample), np.asarray(ann_symbol, dtype=str)):
        if symbol == VF_ON and start is None:
            start = int(sample)
        elif symbol == VF_OFF and start is not None:
            episodes.append((start, int(sample)))
            start = None
    if start is not None:  # an episode still open at the end of the record
        episodes.append((start, np.iinfo(np.int64).max))
    return episodes


def _outside(samples: np.ndarray, episodes: list[tuple[int, int]]) -> np.ndarray:
    keep = np.ones(len(samples), dtype=bool)
    for start, end in episodes:
        keep &= ~((samples >= start) & (samples <= end))
    return keep


def score_detections(
    ann_sample: np.ndarray,
    ann_symbol: np.ndarray,
    detections: np.ndarray,
    fs: float,
    window_s: float = MATCH_WINDOW_S,
    start_s: float = 0.0,
    timing_s: float = TIMING_WINDOW_S,
) -> dict[str, float]:
    """EC57-style TP, FN, FP, Se and +P (in %) of ``detections`` (see module docstring).

    Also ``n_ref`` and ``n_det`` (the scored reference beats and detections), ``excluded``
    (detections left out: before ``start_s`` or inside a VF episode), ``within_timing`` (% of
    reference beats matched by a detection at most ``timing_s`` away: timing accuracy) and
    ``median_offset_ms`` (median distance of the ``window_s`` matches).
    """
    ann_sample = np.asarray(ann_sample, dtype=np.int64)
    ann_symbol = np.asarray(ann_symbol, dtype=str)
    det = np.asarray(detections, dtype=np.int64)
    episodes = vf_episodes(ann_sample, ann_symbol)
    first = int(round(start_s * fs))
    is_ref = np.isin(ann_symbol, list(SCORED_SYMBOLS)) & _outside(ann_sample, episodes)
    ref = ann_sample[is_ref & (ann_sample >= first)]
    det_kept = _outside(det, episodes) & (det >= first)
    det = det[det_kept]
    ref_index, det_index = match_peaks(ref, det, fs, window_s)
    tp = len(ref_index)
    fn, fp = len(ref) - tp, len(det) - tp
    offset_ms = np.abs(det[det_index] - ref[ref_index]) * 1000.0 / fs
    close, _ = match_peaks(ref, det, fs, timing_s)
    return {
        **_gross(tp, fn, fp, len(close)),
        "n_ref": len(ref),
        "n_det": len(det),
        "excluded": int((~det_kept).sum()),
        "TP_timing": len(close),
        "median_offset_ms": round(float(np.median(offset_ms)), 2) if tp else float("nan"),
    }


def _percent(num: int, den: int) -> float:
    return round(100.0 * num / den, 4) if den else float("nan")


def _gross(tp: int, fn: int, fp: int, close: int) -> dict[str, float]:
    """Counts, Se, +P and the timing accuracy (``close`` of the ``tp + fn`` reference beats)."""
    return {
        "TP": tp,
        "FN": fn,
        "FP": fp,
        "Se": _percent(tp, tp + fn),
        "+P": _percent(tp, tp + fp),
        "within_timing": _percent(close, tp + fn),
    }


def total_scores(rows) -> dict[str, float]:
    """Gross (beat-weighted) scores over records from their :func:`score_detections` dicts."""
    return _gross(*(sum(int(r[key]) for r in rows) for key in ("TP", "FN", "FP", "TP_timing")))


def label_detections(
    ann_sample: np.ndarray,
    ann_symbol: np.ndarray,
    detections: np.ndarray,
    fs: float,
    window_s: float = MATCH_WINDOW_S,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per detection: reference beat symbol (or :data:`UNMATCHED`), ``matched``, ``ref_sample``.

    Detections are matched one to one with all beat annotations (``!`` included).
    """
    is_beat = beat_mask(ann_symbol)
    ref = np.asarray(ann_sample, dtype=np.int64)[is_beat]
    ref_symbol = np.asarray(ann_symbol, dtype=str)[is_beat]
    n = len(detections)
    symbol = np.full(n, UNMATCHED, dtype="U1")
    matched = np.zeros(n, dtype=bool)
    ref_sample = np.full(n, -1, dtype=np.int64)
    ref_index, det_index = match_peaks(ref, detections, fs, window_s)
    symbol[det_index] = ref_symbol[ref_index]
    matched[det_index] = True
    ref_sample[det_index] = ref[ref_index]
    return symbol, matched, ref_sample


def detected_beats(
    record,
    peaks: np.ndarray,
    detector: str,
    mode: str = "jun2018",
    fixed_ms: tuple[float, float] = (250.0, 400.0),
    match_s: float = MATCH_WINDOW_S,
    band: tuple[float | None, float | None] = (None, None),
    leads: int = 1,
) -> dict[str, np.ndarray]:
    """Beats of an :class:`ecg2d.io.Record` cut around detected ``peaks`` (module docstring),
    the second lead kept with ``leads`` 2 (:func:`ecg2d.segment.beats_around_peaks`).

    Windows and RR context come from all detections; labels from the record's annotations
    (a record without annotations gives only unmatched beats).
    """
    r = np.asarray(peaks, dtype=np.int64)
    symbol, matched, ref_sample = label_detections(
        record.ann_sample, record.ann_symbol, r, record.fs, match_s
    )
    beats, keep = beats_around_peaks(record, r, symbol, mode, fixed_ms, band, leads)
    beats.update(
        {"matched": matched[keep], "ref_sample": ref_sample[keep], "detector": np.array(detector)}
    )
    return beats


#: Columns of a per-record scores CSV, in order.
SCORE_COLUMNS = [
    "record", "detector", "stage", "TP", "FN", "FP", "Se", "+P", "n_ref", "n_det", "excluded",
    "TP_timing", "within_timing", "median_offset_ms",
]  # fmt: skip


def detect_record(
    record, detector: str, detection: dict, window: dict
) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Detector-based beats of a record and its scores before (``raw``) and after refinement.

    ``detection`` is the config's ``detection:`` section (``refine_ms``, ``match_ms``,
    ``timing_ms``, ``start_s``), ``window`` its ``window:``.
    """
    fs = record.fs
    filtered = bandpass(record.signal, fs)
    raw = np.unique(raw_detections(record.signal, filtered, fs, detector))
    refined = refine_peaks(filtered, raw, fs, detection["refine_ms"] / 1000.0)
    match_s = detection["match_ms"] / 1000.0
    rows = []
    for stage, peaks in (("raw", raw), ("refined", refined)):
        scores = score_detections(
            record.ann_sample,
            record.ann_symbol,
            peaks,
            fs,
            match_s,
            detection["start_s"],
            detection["timing_ms"] / 1000.0,
        )
        rows.append({"record": record.name, "detector": detector, "stage": stage, **scores})
    beats = detected_beats(
        record,
        refined,
        detector,
        window["mode"],
        tuple(window["fixed_ms"]),
        match_s,
        window_band(window),
        window_leads(window),
    )
    return beats, rows


def write_scores(rows: list[dict], path) -> None:
    """Write score rows as CSV atomically."""
    import pandas as pd

    from ecg2d.atomic import atomic_path

    with atomic_path(path) as tmp:
        pd.DataFrame(rows, columns=SCORE_COLUMNS).to_csv(tmp, index=False, lineterminator="\n")


def read_scores(path) -> list[dict]:
    """Score rows of a CSV written by :func:`write_scores`."""
    import pandas as pd

    return pd.read_csv(path, dtype={"record": str}).to_dict("records")


def summarise(rows: list[dict], detection: dict) -> dict:
    """Gross scores per detector and stage over all records (the content of summary.json)."""
    detectors: dict[str, dict] = {}
    for detector in dict.fromkeys(r["detector"] for r in rows):
        detectors[detector] = {}
        for stage in ("refined", "raw"):
            chosen = [r for r in rows if r["detector"] == detector and r["stage"] == stage]
            if chosen:
                worst = sorted(chosen, key=lambda r: r["Se"] + r["+P"])[:3]
                detectors[detector][stage] = {
                    **total_scores(chosen),
                    "records": len(chosen),
                    "worst_records": [str(r["record"]) for r in worst],
                }
    return {
        "method": (
            "ANSI/AAMI EC57 beat-by-beat: one-to-one matches within match_ms; reference = WFDB "
            "beat annotations except '!' flutter waves; VF episodes ([ to ]) left out; gross "
            "Se = TP/(TP+FN), +P = TP/(TP+FP) in %; within_timing = % of reference beats "
            "detected within timing_ms. 'raw' = detector output, 'refined' = moved to the "
            "largest |band-passed signal| within refine_ms."
        ),
        "settings": dict(detection),
        "detectors": detectors,
    }


def write_summary(summary: dict, path) -> None:
    """Write ``summary.json`` atomically (NaN as null)."""
    import json
    import math

    from ecg2d.atomic import atomic_path

    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, float) and math.isnan(value):
            return None
        return value

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(clean(summary), indent=2) + "\n")
