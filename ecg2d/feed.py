"""The Keras data feed of training and validation: batches of beat images (and RR features)
of the rows of a manifest, read from their folders' packs (or PNGs, :mod:`ecg2d.images`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ecg2d.images import ImageReader
from ecg2d.rr import RR_COLUMNS, rr_matrix


def draw_shares(sizes, power: float) -> np.ndarray:
    """Each class's share of an epoch's draws under ``balance`` sampling: its number of rows
    to ``power``, normalised (0: equal shares; 0.5: square-root sampling). Classes without
    rows get no share."""
    sizes = np.asarray(sizes, dtype=np.float64)
    weights = np.where(sizes > 0, sizes**power, 0.0)
    return weights / weights.sum()


def _base_dataset():
    import keras

    return keras.utils.PyDataset


class BeatBatches(_base_dataset()):
    """Batches of (inputs, labels[, weights]) of the beat images a manifest lists.

    ``order`` decides which rows an epoch visits: ``"fixed"`` (all rows in order: validation,
    test), ``"shuffle"`` (all rows, reshuffled every epoch) or ``"sampling"``
    (``samples_per_class`` rows of every class, drawn afresh every epoch; with
    ``sampling_power`` p > 0, ``n_classes * samples_per_class`` rows shared among the classes
    in proportion to their number of rows to the power p, e.g. 0.5: square-root sampling);
    with ``"shuffle"``, ``samples_per_epoch`` (if set) keeps that many rows of each epoch's
    shuffle. ``weights`` (one per class) adds sample weights. With ``mixup_alpha`` > 0 (mixup,
    Zhang et al. 2018; training only), every input of a batch is blended with another of the
    same batch, ``lam * a + (1 - lam) * b`` with ``lam`` drawn per input from Beta(alpha,
    alpha), and the labels become rows of per-class targets blended alike (sample weights
    too); the draws repeat for a seed, epoch and batch. Inputs are the image alone or
    ``(image, rr)``, the RR features (:func:`ecg2d.rr.rr_matrix`) of the manifest's
    ``rr_columns``; images are area-resized to ``input_size``.
    """

    def __init__(
        self,
        rows: pd.DataFrame,
        classes: list[str],
        input_size: int,
        batch_size: int,
        use_rr: bool,
        root=".",
        order: str = "fixed",
        samples_per_class: int | None = None,
        samples_per_epoch: int | None = None,
        sampling_power: float = 0.0,
        weights: np.ndarray | None = None,
        seed: int = 0,
        rr_columns=RR_COLUMNS,
        mixup_alpha: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.paths = rows["path"].to_numpy(dtype=object)
        index = {label: i for i, label in enumerate(classes)}
        unknown = sorted(set(rows["label"]) - set(index))
        if unknown:
            raise ValueError(f"labels {unknown} in the manifest are not classes {classes}")
        self.y = rows["label"].map(index).to_numpy(dtype=np.int64)
        self.n_classes = len(classes)
        if not mixup_alpha >= 0.0:
            raise ValueError(f"train.mixup_alpha: {mixup_alpha} is below 0")
        self.mixup_alpha = float(mixup_alpha)
        columns = list(rr_columns)
        self.rr = None
        if use_rr:
            self.rr = rr_matrix(rows[columns].to_numpy(), columns, rows["record"].to_numpy())
        self.input_size = input_size
        self.batch_size = batch_size
        self.root = root
        self.reader = ImageReader(root)
        self.order = order
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float32)
        self.seed = seed
        self.epoch = 0
        self.samples_per_epoch = samples_per_epoch
        if order == "sampling":
            if not samples_per_class:
                raise ValueError("train.samples_per_class is needed for balance: sampling or sqrt")
            self.pools = [np.flatnonzero(self.y == k) for k in range(len(classes))]
            self.pools = [pool for pool in self.pools if len(pool)]
            self.samples_per_class = int(samples_per_class)
            sizes = np.array([len(pool) for pool in self.pools], dtype=np.float64)
            share = draw_shares(sizes, sampling_power)
            self.draws = np.maximum(
                1, np.round(share * len(self.pools) * self.samples_per_class).astype(int)
            )
        elif order not in ("fixed", "shuffle"):
            raise ValueError(f"unknown order {order!r}")
        self.rows = self._epoch_rows()

    def _epoch_rows(self) -> np.ndarray:
        if self.order == "fixed":
            return np.arange(len(self.y))
        rng = np.random.default_rng([int(self.seed), self.epoch])
        if self.order == "shuffle":
            return rng.permutation(len(self.y))[: self.samples_per_epoch or None]
        drawn = [
            rng.choice(pool, draws, replace=len(pool) < draws)
            for pool, draws in zip(self.pools, self.draws)
        ]
        return rng.permutation(np.concatenate(drawn))

    def __len__(self) -> int:
        return math.ceil(len(self.rows) / self.batch_size)

    def batch_rows(self, idx: int) -> np.ndarray:
        """Row numbers (into the manifest rows given) of batch ``idx`` of this epoch."""
        return self.rows[idx * self.batch_size : (idx + 1) * self.batch_size]

    def __getitem__(self, idx: int):
        rows = self.batch_rows(idx)
        x = self.reader.load(self.paths[rows], self.input_size)
        rr = self.rr[rows] if self.rr is not None else None
        y = self.y[rows]
        weights = self.weights[y] if self.weights is not None else None
        if self.mixup_alpha > 0:
            x, rr, y, weights = self.mixup(idx, x, rr, y, weights)
        inputs = (x, rr) if rr is not None else x
        if weights is not None:
            return inputs, y, weights
        return inputs, y

    def mixup(self, idx: int, x, rr, y, weights):
        """Batch ``idx``'s inputs, per-class target rows and weights blended by mixup (see the
        class docstring)."""
        rng = np.random.default_rng([int(self.seed), self.epoch, idx, 1])
        lam = rng.beta(self.mixup_alpha, self.mixup_alpha, size=len(y)).astype(np.float32)
        other = rng.permutation(len(y))

        def blend(a):
            shape = (-1,) + (1,) * (a.ndim - 1)
            return lam.reshape(shape) * a + (1 - lam.reshape(shape)) * a[other]

        targets = blend(np.eye(self.n_classes, dtype=np.float32)[y])
        return (
            blend(x),
            None if rr is None else blend(rr),
            targets,
            None if weights is None else blend(weights),
        )

    def on_epoch_end(self):
        self.epoch += 1
        self.rows = self._epoch_rows()


def predict_batches(model, batches: BeatBatches) -> np.ndarray:
    """Probabilities of every row of a ``fixed``-order :class:`BeatBatches`, in row order."""
    out = [np.asarray(model.predict_on_batch(batches[i][0])) for i in range(len(batches))]
    if not out:
        return np.zeros((0, model.output_shape[-1]), dtype=np.float32)
    return np.concatenate(out).astype(np.float32)
