"""Keras callbacks of training: progress in the log, epoch timing, and the validation that
chooses the epoch (best weights kept, early stop on a plateau)."""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from ecg2d.evaluate import class_metrics, confusion_matrix, nanmean
from ecg2d.feed import BeatBatches, predict_batches

log = logging.getLogger("ecg2d.train")

MONITORS = {
    "val_macro_f1": "max",
    "val_balanced_accuracy": "max",
    "val_accuracy": "max",
    "val_loss": "min",
}


def _callback_base():
    import keras

    return keras.callbacks.Callback


class Progress(_callback_base()):
    """Log training progress (batches, loss, accuracy, images/s) every ``every`` batches."""

    def __init__(self, epochs: int, batches_per_epoch: int, batch_size: int, every: int = 50):
        super().__init__()
        self.epochs = epochs
        self.batches = batches_per_epoch
        self.batch_size = batch_size
        self.every = max(1, every)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        done = batch + 1
        if done % self.every == 0 or done == self.batches:
            logs = logs or {}
            rate = done * self.batch_size / max(time.perf_counter() - self.start, 1e-9)
            log.info(
                "epoch %d/%d batch %d/%d loss %.4f accuracy %.4f (%.0f images/s)",
                self.epoch + 1,
                self.epochs,
                done,
                self.batches,
                float(logs.get("loss", float("nan"))),
                float(logs.get("accuracy", float("nan"))),
                rate,
            )


#: Validation macro averages leave out classes with fewer validation beats than this.
MIN_VALIDATION_SUPPORT = 20


def validation_scores(y: np.ndarray, proba: np.ndarray, n_classes: int) -> dict[str, float]:
    """``val_loss``, ``val_accuracy``, ``val_balanced_accuracy`` and ``val_macro_f1`` of class
    probabilities ``proba`` (N x n_classes) against class indices ``y``; the two macro figures
    over the classes with at least :data:`MIN_VALIDATION_SUPPORT` beats (all, if none has)."""
    loss = float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), y], 1e-7, 1.0))))
    matrix = confusion_matrix(y, proba.argmax(axis=1), range(n_classes))
    metrics = class_metrics(matrix)
    # Classes with too few validation beats would make the choice of epoch a lottery.
    rows = [r for r in metrics["per_class"].values() if r["support"] >= MIN_VALIDATION_SUPPORT]
    rows = rows or list(metrics["per_class"].values())
    return {
        "val_loss": loss,
        "val_accuracy": metrics["accuracy"],
        "val_balanced_accuracy": _nan_to_none(nanmean([r["sensitivity"] for r in rows])),
        "val_macro_f1": _nan_to_none(nanmean([r["f1"] for r in rows])),
    }


class Validation(_callback_base()):
    """Score the validation set after every epoch, keep the best weights, stop on a plateau.

    Adds ``val_loss``, ``val_accuracy``, ``val_balanced_accuracy`` and ``val_macro_f1`` to the
    epoch logs (the two macro figures over the classes with at least
    :data:`MIN_VALIDATION_SUPPORT` validation beats). The weights of the epoch best by
    ``monitor`` are restored when training ends; training stops after ``patience`` epochs
    without improvement (0: never stops early).
    """

    def __init__(self, batches: BeatBatches | None, n_classes: int, monitor: str, patience: int):
        super().__init__()
        if monitor not in MONITORS:
            raise ValueError(f"train.monitor: unknown {monitor!r}; choose one of {list(MONITORS)}")
        self.batches = batches
        self.n_classes = n_classes
        self.monitor = monitor
        self.mode = MONITORS[monitor]
        self.patience = patience
        self.best = None
        self.best_epoch = None
        self.best_weights = None
        self.wait = 0

    def score(self) -> dict[str, float]:
        """Validation loss and metrics of the current weights."""
        proba = predict_batches(self.model, self.batches)
        return validation_scores(self.batches.y, proba, self.n_classes)

    def on_epoch_end(self, epoch, logs=None):
        if self.batches is None or len(self.batches.y) == 0:
            return
        scores = self.score()
        if logs is not None:
            logs.update({k: (np.nan if v is None else v) for k, v in scores.items()})
        log.info(
            "epoch %d validation: %s",
            epoch + 1,
            ", ".join(f"{k} {np.nan if v is None else v:.4f}" for k, v in scores.items()),
        )
        value = scores[self.monitor]
        if value is None:
            return
        better = (
            self.best is None
            or (self.mode == "max" and value > self.best)
            or (self.mode == "min" and value < self.best)
        )
        if better:
            self.best, self.best_epoch, self.wait = value, epoch + 1, 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.patience and self.wait >= self.patience:
                log.info("no %s progress for %d epochs: stopping", self.monitor, self.wait)
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            log.info(
                "keeping the weights of epoch %d (%s %.4f)",
                self.best_epoch,
                self.monitor,
                self.best,
            )
            self.model.set_weights(self.best_weights)


def _nan_to_none(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


class EpochTimer(_callback_base()):
    """Wall-clock seconds of every epoch (validation included)."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(time.perf_counter() - self.start, 2))
