"""Nine-crop augmentation of beat images (Jun et al. 2018).

Each image gives nine crops of ``crop_size`` pixels at every pair of ``offsets`` (rows x
columns), each resized back to the image size.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np


def nine_crops(
    image: np.ndarray, crop_size: int = 96, offsets: tuple[int, ...] = (0, 16, 32)
) -> list[np.ndarray]:
    """Crops at each (row offset, column offset), row-major, resized to the image's size."""
    height, width = image.shape[:2]
    if crop_size + max(offsets) > min(height, width):
        raise ValueError(
            f"crop of {crop_size} px at offset {max(offsets)} does not fit a {height}x{width} image"
        )
    return [
        cv2.resize(
            image[top : top + crop_size, left : left + crop_size],
            (width, height),
            interpolation=cv2.INTER_LINEAR,
        )
        for top in offsets
        for left in offsets
    ]


def crop_name(record: str, sample: int, index: int) -> str:
    """File name of crop ``index`` of a beat image."""
    return f"{record}_{int(sample):07d}_c{index}.png"


def crop_record(
    png_dir,
    samples,
    record: str,
    out_dir,
    crop_size: int = 96,
    offsets=(0, 16, 32),
    pack: bool = False,
) -> int:
    """Write the nine crops of the beats ``samples`` of ``record`` into ``out_dir`` atomically,
    as PNGs and, with ``pack``, packed beside them (:func:`ecg2d.images.write_pack`)."""
    from ecg2d.atomic import atomic_dir
    from ecg2d.images import ImageReader, write_pack
    from ecg2d.render import png_name, write_png

    log = logging.getLogger("ecg2d.augment")
    samples = list(samples)
    reader = ImageReader(png_dir)
    names, crops = [], []  # kept for the pack only
    with atomic_dir(out_dir) as tmp:
        for i, sample in enumerate(samples):
            image = reader.read(png_name(record, sample))
            for k, crop in enumerate(nine_crops(image, crop_size, offsets)):
                name = crop_name(record, sample, k)
                if pack:
                    names.append(name)
                    crops.append(crop)
                write_png(Path(tmp) / name, crop)
            if (i + 1) % 500 == 0 or i + 1 == len(samples):
                log.info("record %s: cropped %d/%d beats", record, i + 1, len(samples))
        if crops:
            write_pack(tmp, names, np.stack(crops))
    return len(offsets) ** 2 * len(samples)
