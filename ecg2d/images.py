"""Beat images as the network reads them: PNGs decoded to arrays and area-resized."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def read_image(path) -> np.ndarray:
    """A beat PNG as a 2-D uint8 array (raising an error naming the file if unreadable)."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise OSError(f"cannot read image {path}")
    return image


def load_images(paths, size: int, root=".") -> np.ndarray:
    """PNGs (paths relative to ``root``) as N x size x size x 1 float32, area-resized."""
    import cv2

    out = np.empty((len(paths), size, size, 1), dtype=np.float32)
    for i, path in enumerate(paths):
        image = read_image(Path(root) / path)
        if image.shape != (size, size):
            image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
        out[i, :, :, 0] = image
    return out


def resize_images(images, size: int) -> np.ndarray:
    """uint8 N x S x S images resized to N x size x size x 1 float32 (area interpolation)."""
    import cv2

    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"images must be N x S x S, got shape {images.shape}")
    if images.shape[1:] == (size, size):
        out = images.astype(np.float32)
    else:
        out = np.empty((len(images), size, size), dtype=np.float32)
        for i, image in enumerate(images):
            out[i] = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return out[..., None]
