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


def render_beat(
    segment: np.ndarray, size: int = 128, thickness: int = 1, amplitude: float | None = None
) -> np.ndarray:
    """One beat window as a ``size`` x ``size`` uint8 image, trace 0 on background 255.

    Time runs left to right over the full width. Without ``amplitude`` the trace is min-max
    scaled to the height (a flat segment is drawn at mid-height); with the record's median QRS
    amplitude (:func:`record_amplitude`) the height spans +- :data:`RECORD_RANGE` of it around
    the segment's median, the same scale for every beat of the record, clipped beyond.
    """
    x = np.asarray(segment, dtype=np.float64)
    image = np.full((size, size), 255, dtype=np.uint8)
    if x.size < 2:
        return image
    if amplitude:
        y = np.clip(0.5 + (x - np.median(x)) / (2 * RECORD_RANGE * amplitude), 0.0, 1.0)
    else:
        span = x.max() - x.min()
        y = (x - x.min()) / span if span > 0 else np.full_like(x, 0.5)
    extent = size - 1 - 2 * _MARGIN
    cols = _MARGIN + np.linspace(0.0, extent, x.size)
    rows = _MARGIN + (1.0 - y) * extent
    points = np.round(np.stack([cols, rows], axis=1) * (1 << _SHIFT)).astype(np.int32)
    cv2.polylines(image, [points], False, 0, thickness, cv2.LINE_AA, _SHIFT)
    return image


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


def beat_amplitude(beats: dict[str, np.ndarray], mode: str, log=None) -> float | None:
    """The ``amplitude`` argument of :func:`render_beat` for every beat of a beats dict:
    ``None`` for mode ``beat``; the record's median QRS amplitude for mode ``record`` (``None``,
    logged as a warning, where the record has no QRS amplitude to scale by)."""
    if mode not in AMPLITUDES:
        raise ValueError(f"amplitude {mode!r}: not one of {', '.join(AMPLITUDES)}")
    if mode == "beat":
        return None
    log = log or logging.getLogger("ecg2d.render")
    record = str(beats["record"])
    value = record_amplitude(beats["signal"], float(beats["fs"]), beats["sample"])
    if value <= 0:
        log.warning("record %s: no QRS amplitude to scale by; beats min-max scaled", record)
        return None
    log.info(
        "record %s: median QRS amplitude %.3f; images span +-%.3f around each beat's median",
        record,
        value,
        RECORD_RANGE * value,
    )
    return value


def render_record(
    beats: dict[str, np.ndarray],
    out_dir,
    size: int = 128,
    amplitude: str = "beat",
    pack: bool = False,
) -> int:
    """Render every beat of a beats dict into ``out_dir`` (replaced atomically), as PNGs and,
    with ``pack``, packed beside them (:func:`ecg2d.images.write_pack`). Returns the count.

    ``amplitude``: ``beat`` (each image min-max scaled) or ``record`` (one scale for the
    record, :func:`record_amplitude`; the number of beats clipped at the image's edge is
    logged)."""
    from ecg2d.atomic import atomic_dir
    from ecg2d.images import write_pack

    log = logging.getLogger("ecg2d.render")
    record = str(beats["record"])
    signal = beats["signal"]
    n = len(beats["sample"])
    scale = beat_amplitude(beats, amplitude, log)
    clipped = 0
    names, images = [], []  # kept for the pack only
    with atomic_dir(out_dir) as tmp:
        for i, (sample, start, end) in enumerate(
            zip(beats["sample"], beats["start"], beats["end"])
        ):
            segment = signal[start:end]
            if scale and segment.size:
                excursion = np.abs(segment - np.median(segment)).max()
                clipped += bool(excursion > RECORD_RANGE * scale)
            image = render_beat(segment, size, amplitude=scale)
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
