"""Beat images as the network reads them: decoded to arrays and area-resized.

An image folder (a record's beat images, or its crops) holds one PNG per image, the
inspectable artefact, and, with the ``pack_images`` setting (off by default), beside them the
same images packed once (:func:`write_pack`): ``pack.npy``, uint8 N x S x S, and
``pack_names.npy``, the PNG file names in the same order. Training and evaluation read images
through an :class:`ImageReader`, which takes them from the folder's pack (memory-mapped,
opened once) where there is one and decodes the PNG where there is none. Decoding PNGs costs
CPU training about a fifth of its time with the files cached, and more without
(``bench/feed_share.py``).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

#: The packed images of an image folder, and their PNG file names (:func:`write_pack`).
PACK = "pack.npy"
PACK_NAMES = "pack_names.npy"


def read_image(path) -> np.ndarray:
    """A beat PNG as a 2-D uint8 array (raising an error naming the file if unreadable)."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise OSError(f"cannot read image {path}")
    return image


def write_pack(folder, names, images) -> None:
    """Pack an image folder's images (N x S x S uint8, PNG file ``names`` in the same order)
    beside its PNGs. Called inside the folder's atomic write; a folder without images gets no
    pack."""
    names = [str(n) for n in names]
    if not names:
        return
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3 or len(images) != len(names):
        raise ValueError(
            f"{folder}: a pack needs {len(names)} uint8 images of S x S, got {images.dtype} "
            f"{images.shape}"
        )
    np.save(Path(folder) / PACK, images, allow_pickle=False)
    np.save(Path(folder) / PACK_NAMES, np.asarray(names, dtype=str), allow_pickle=False)


class ImageReader:
    """Beat images by path (relative to ``root``): from the folder's pack where it has one,
    else from the PNG (always from the PNG with ``use_packs=False``). Safe to share between
    the feed's reading threads."""

    def __init__(self, root=".", use_packs: bool = True):
        self.root = Path(root)
        self.use_packs = use_packs
        self._packs: dict[Path, tuple[np.ndarray, dict[str, int]] | None] = {}
        self._lock = threading.Lock()

    def _pack(self, folder: Path):
        with self._lock:
            if folder not in self._packs:
                self._packs[folder] = _open_pack(folder)
            return self._packs[folder]

    def read(self, path) -> np.ndarray:
        """One image as a 2-D uint8 array."""
        full = self.root / path
        pack = self._pack(full.parent) if self.use_packs else None
        if pack is None:
            return read_image(full)
        images, index = pack
        if full.name not in index:
            raise OSError(
                f"{full}: not in {full.parent / PACK}: the folder changed after it was "
                "written; rebuild it"
            )
        return np.array(images[index[full.name]])

    def load(self, paths, size: int) -> np.ndarray:
        """Images as N x size x size x 1 float32, area-resized."""
        import cv2

        out = np.empty((len(paths), size, size, 1), dtype=np.float32)
        for i, path in enumerate(paths):
            image = self.read(path)
            if image.shape != (size, size):
                image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
            out[i, :, :, 0] = image
        return out


def _open_pack(folder: Path):
    """A folder's pack as (memory-mapped images, {file name: index}); ``None`` without one."""
    from ecg2d.io import load_array

    path = folder / PACK
    if not path.exists():
        return None
    try:
        images = load_array(path, mmap=True)
        names = load_array(folder / PACK_NAMES)
    except ValueError as error:
        raise ValueError(
            f"{path}: not a readable image pack ({error}); rebuild the folder"
        ) from error
    if images.ndim != 3 or images.dtype != np.uint8 or names.shape != (len(images),):
        raise ValueError(
            f"{path}: not an image pack ({images.dtype} {images.shape} with {names.shape} "
            "names); rebuild the folder"
        )
    return images, {str(name): i for i, name in enumerate(names)}


def load_images(paths, size: int, root=".") -> np.ndarray:
    """Images (paths relative to ``root``) as N x size x size x 1 float32, area-resized, read
    as an :class:`ImageReader` reads them."""
    return ImageReader(root).load(paths, size)


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
