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

_SHIFT = 4  # sub-pixel bits of cv2.polylines vertices
_MARGIN = 2.0  # pixels kept free around the trace


def render_beat(segment: np.ndarray, size: int = 128, thickness: int = 1) -> np.ndarray:
    """One beat window as a ``size`` x ``size`` uint8 image, trace 0 on background 255.

    Time runs left to right over the full width; amplitude is min-max scaled to the height
    (a flat segment is drawn at mid-height).
    """
    x = np.asarray(segment, dtype=np.float64)
    image = np.full((size, size), 255, dtype=np.uint8)
    if x.size < 2:
        return image
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


def read_png(path) -> np.ndarray:
    """Read an 8-bit grayscale PNG as a 2-D uint8 array."""
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise OSError(f"cannot read image {path}")
    return image


def render_record(beats: dict[str, np.ndarray], out_dir, size: int = 128) -> int:
    """Render every beat of a beats dict into ``out_dir`` (replaced atomically). Returns count."""
    from ecg2d.atomic import atomic_dir

    log = logging.getLogger("ecg2d.render")
    record = str(beats["record"])
    signal = beats["signal"]
    n = len(beats["sample"])
    with atomic_dir(out_dir) as tmp:
        for i, (sample, start, end) in enumerate(
            zip(beats["sample"], beats["start"], beats["end"])
        ):
            write_png(Path(tmp) / png_name(record, sample), render_beat(signal[start:end], size))
            if (i + 1) % 500 == 0 or i + 1 == n:
                log.info("record %s: rendered %d/%d beats", record, i + 1, n)
    return n
