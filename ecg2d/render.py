"""Draw beat windows as grayscale images.

The waveform is drawn straight into the raster as an anti-aliased OpenCV polyline with
sub-pixel vertices, black on white -- the look of the seed's matplotlib plots, at a fraction of
the cost (no figure, no savefig, no re-read; see BENCHMARKS.md).
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from ecg2d.shape import around_peaks

_SHIFT = 4  # sub-pixel bits of cv2.polylines vertices
_MARGIN = 2.0  # pixels kept free around the trace
#: ``amplitude: beat``: every image min-max scaled; ``record``: one scale per record.
AMPLITUDES = ("beat", "record")
#: Amplitude ``record``: the image height spans +- this many of the record's median QRS
#: peak-to-peak amplitudes around the beat's median level; a larger excursion is clipped.
RECORD_RANGE = 1.25
#: Half-width (ms) around the R peak over which a beat's QRS peak-to-peak amplitude is taken.
QRS_HALF_MS = 50.0


#: ``leads``: beats drawn from the lead read (1), or from it and the second lead below it (2).
LEADS = (1, 2)


def render_beat(
    segment: np.ndarray,
    size: int = 128,
    thickness: int = 1,
    amplitude: float | None = None,
    leads: int = 1,
    segment2: np.ndarray | None = None,
    amplitude2: float | None = None,
) -> np.ndarray:
    """One beat window as a ``size`` x ``size`` uint8 image, trace 0 on background 255.

    Time runs left to right over the full width. Without ``amplitude`` the trace is min-max
    scaled to the height (a flat segment is drawn at mid-height); with the record's median QRS
    amplitude (:func:`record_amplitude`) the height spans +- :data:`RECORD_RANGE` of it around
    the segment's median, the same scale for every beat of the record, clipped beyond.

    With ``leads`` 2 the image holds two panels on one time axis: ``segment`` in the top half
    and ``segment2``, the same window of the second lead, in the bottom half, each scaled as
    above (``amplitude2``: the second lead's record scale); without ``segment2`` (a one-lead
    record) the bottom half stays blank.
    """
    if leads not in LEADS:
        raise ValueError(f"leads {leads!r}: not one of {LEADS}")
    image = np.full((size, size), 255, dtype=np.uint8)
    if leads == 1:
        _trace(image, segment, amplitude, 0, size, thickness)
        return image
    half = size // 2
    _trace(image, segment, amplitude, 0, half, thickness)
    if segment2 is not None:
        _trace(image, segment2, amplitude2, half, size - half, thickness)
    return image


def _trace(
    image: np.ndarray, segment, amplitude: float | None, top: int, height: int, thickness: int
) -> None:
    """Draw ``segment`` over the image's full width in rows ``top`` to ``top + height``
    (scaled as :func:`render_beat` says), anti-aliased, black."""
    x = np.asarray(segment, dtype=np.float64)
    if x.size < 2:
        return
    if amplitude:
        y = np.clip(0.5 + (x - np.median(x)) / (2 * RECORD_RANGE * amplitude), 0.0, 1.0)
    else:
        span = x.max() - x.min()
        y = (x - x.min()) / span if span > 0 else np.full_like(x, 0.5)
    cols = _MARGIN + np.linspace(0.0, image.shape[1] - 1 - 2 * _MARGIN, x.size)
    rows = top + _MARGIN + (1.0 - y) * (height - 1 - 2 * _MARGIN)
    points = np.round(np.stack([cols, rows], axis=1) * (1 << _SHIFT)).astype(np.int32)
    cv2.polylines(image, [points], False, 0, thickness, cv2.LINE_AA, _SHIFT)


def png_name(record: str, sample: int) -> str:
    """File name of a beat image: record and R-peak sample are recoverable from it."""
    return f"{record}_{int(sample):07d}.png"


def write_png(path, image: np.ndarray) -> None:
    """Write an 8-bit grayscale PNG (raising if OpenCV cannot)."""
    if not cv2.imwrite(str(path), image):
        raise OSError(f"cannot write {path}")


def record_amplitude(signal: np.ndarray, fs: float, samples) -> float:
    """The record's median QRS amplitude: the median over its beats of the signal's
    peak-to-peak within +- :data:`QRS_HALF_MS` of the R peak (0.0 without beats)."""
    if len(samples) == 0 or len(signal) == 0:
        return 0.0
    qrs = around_peaks(np.asarray(signal, dtype=np.float64), fs, samples, QRS_HALF_MS)
    return float(np.median(qrs.max(axis=1) - qrs.min(axis=1)))


def beat_amplitude(
    beats: dict[str, np.ndarray], mode: str, log=None, key: str = "signal"
) -> float | None:
    """The ``amplitude`` argument of :func:`render_beat` for every beat of a beats dict:
    ``None`` for mode ``beat``; the record's median QRS amplitude in lead ``key`` (``signal``,
    or ``signal2`` for the second lead's ``amplitude2``) for mode ``record`` (``None``, logged
    as a warning, where the record has no QRS amplitude to scale by)."""
    if mode not in AMPLITUDES:
        raise ValueError(f"amplitude {mode!r}: not one of {', '.join(AMPLITUDES)}")
    if mode == "beat" or key not in beats:
        return None
    log = log or logging.getLogger("ecg2d.render")
    record = str(beats["record"])
    value = record_amplitude(beats[key], float(beats["fs"]), beats["sample"])
    if value <= 0:
        log.warning("record %s: no QRS amplitude to scale %s by; min-max scaled", record, key)
        return None
    log.info(
        "record %s: median QRS amplitude %.3f (%s); images span +-%.3f around each beat's median",
        record,
        value,
        key,
        RECORD_RANGE * value,
    )
    return value


def second_lead(beats: dict[str, np.ndarray], leads: int, log=None) -> np.ndarray | None:
    """The second lead a beats dict's images draw below the lead read (``leads`` 2): its
    ``signal2``, or ``None`` (and a warning naming the record: the bottom panels stay blank)
    where the record has no second lead; always ``None`` for ``leads`` 1."""
    if leads not in LEADS:
        raise ValueError(f"leads {leads!r}: not one of {LEADS}")
    if leads == 1:
        return None
    if "signal2" not in beats:
        (log or logging.getLogger("ecg2d.render")).warning(
            "record %s: no second lead; the bottom half of its beat images stays blank",
            beats["record"],
        )
        return None
    return beats["signal2"]


def record_drawing(beats: dict[str, np.ndarray], amplitude: str, leads: int, log=None):
    """How a beats dict's images are drawn, found once per record: ``(scale, signal2,
    scale2)``, the lead read's amplitude scale (:func:`beat_amplitude` of mode ``amplitude``),
    the second lead for ``leads`` 2 (:func:`second_lead`; ``None`` otherwise) and its scale:
    the arguments :func:`render_segments` takes after ``size``, for the png stage and
    ``predict`` alike."""
    scale = beat_amplitude(beats, amplitude, log)
    signal2 = second_lead(beats, leads, log)
    scale2 = beat_amplitude(beats, amplitude, log, "signal2") if signal2 is not None else None
    return scale, signal2, scale2


def render_segments(
    beats: dict[str, np.ndarray],
    index,
    size: int,
    scale: float | None = None,
    leads: int = 1,
    signal2: np.ndarray | None = None,
    scale2: float | None = None,
):
    """Yield the image (:func:`render_beat`) of each beat of a beats dict at ``index``:
    ``scale`` and ``scale2`` the two leads' amplitude scales (:func:`beat_amplitude`),
    ``signal2`` the second lead (:func:`second_lead`) for ``leads`` 2."""
    signal = beats["signal"]
    for i in index:
        start, end = beats["start"][i], beats["end"][i]
        yield render_beat(
            signal[start:end],
            size,
            amplitude=scale,
            leads=leads,
            segment2=None if signal2 is None else signal2[start:end],
            amplitude2=scale2,
        )


def render_record(
    beats: dict[str, np.ndarray],
    out_dir,
    size: int = 128,
    amplitude: str = "beat",
    pack: bool = False,
    leads: int = 1,
) -> int:
    """Render every beat of a beats dict into ``out_dir`` (replaced atomically), as PNGs and,
    with ``pack``, packed beside them (:func:`ecg2d.images.write_pack`). Returns the count.

    ``amplitude``: ``beat`` (each image min-max scaled) or ``record`` (one scale for the
    record, :func:`record_amplitude`; the number of beats clipped at the image's edge is
    logged); ``leads``: 2 draws the second lead below the lead read (:func:`render_beat`)."""
    from ecg2d.atomic import atomic_dir
    from ecg2d.images import write_pack

    log = logging.getLogger("ecg2d.render")
    record = str(beats["record"])
    signal = beats["signal"]
    n = len(beats["sample"])
    scale, signal2, scale2 = record_drawing(beats, amplitude, leads, log)
    images_of = render_segments(beats, range(n), size, scale, leads, signal2, scale2)
    clipped = 0
    names, images = [], []  # kept for the pack only
    with atomic_dir(out_dir) as tmp:
        for i, (sample, start, end, image) in enumerate(
            zip(beats["sample"], beats["start"], beats["end"], images_of)
        ):
            segment = signal[start:end]
            if scale and segment.size:
                excursion = np.abs(segment - np.median(segment)).max()
                clipped += bool(excursion > RECORD_RANGE * scale)
            name = png_name(record, sample)
            if pack:
                names.append(name)
                images.append(image)
            write_png(Path(tmp) / name, image)
            if (i + 1) % 500 == 0 or i + 1 == n:
                log.info("record %s: rendered %d/%d beats", record, i + 1, n)
        if pack:
            write_pack(tmp, names, np.asarray(images, dtype=np.uint8).reshape(-1, size, size))
    if scale:
        log.info("record %s: %d of %d beats clipped at the image's edge", record, clipped, n)
    return n
