"""Training the beat classifier from an experiment's manifest.

Images are streamed from the manifest batch by batch (:class:`BeatBatches`, a Keras
``PyDataset`` reading PNGs and resizing them to the model's input), so memory stays bounded
whatever the number of beats. Class imbalance is handled by ``train.balance``:

- ``sampling``: every epoch draws ``samples_per_class`` training images of each class afresh
  (seeded; with replacement only where a class has fewer images). An epoch is then
  ``n_classes * samples_per_class`` images whatever the size of the data set.
- ``class_weight``: every training image once per epoch, weighted by
  ``n / (n_classes * n_class)``.
- ``none``: every training image once per epoch, unweighted (the paper's setting; the
  nine crops of minority classes already balance most of the jun2018 classes).

With ``class_weight`` and ``none``, ``samples_per_epoch`` (if set) makes every epoch a fresh
random subset of that many training images instead of all of them.

``max_per_class`` caps the images kept per class (a seeded draw, before training).

The model is chosen on a validation set held out from the *training* split, never on test:
whole ``validation_records`` for inter_patient experiments, a seeded ``validation_fraction`` of
the training beats of each class for intra_patient ones (a held-out beat's crops are dropped
from training too). After each epoch the validation macro F1 (or ``monitor``) is computed; the
best epoch's weights are kept and training stops after ``patience`` epochs without progress.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ecg2d.atomic import atomic_path, save_figure
from ecg2d.config import experiment_classes
from ecg2d.model import (
    RR_COLUMNS,
    resolve_settings,
    rr_columns,
    rr_feature_names,
    rr_matrix,
    sidecar_path,
)
from ecg2d.split import seeded_rng

log = logging.getLogger("ecg2d.train")

BALANCE_MODES = ("sampling", "class_weight", "none")
MONITORS = {
    "val_macro_f1": "max",
    "val_balanced_accuracy": "max",
    "val_accuracy": "max",
    "val_loss": "min",
}


def _beat_keys(rows: pd.DataFrame) -> pd.Series:
    return rows["record"].astype(str) + ":" + rows["sample"].astype(str)


def validation_split(
    train_rows: pd.DataFrame,
    protocol: str,
    seed: int,
    fraction: float = 0.1,
    records=(),
    test_records=(),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split training rows (originals and crops) into (fit rows, validation originals).

    inter_patient: the beats of ``records`` validate (their crops are dropped). A record of
    ``test_records`` is an error; one without training rows here (e.g. not selected by
    ``records:``) is skipped with a warning.
    intra_patient: a seeded ``fraction`` of the original beats of each class validate; the
    crops of a validation beat are dropped from the fit rows, so no beat is on both sides.
    """
    originals = train_rows[train_rows["augmented"] == 0]
    if protocol == "inter_patient":
        records = [str(r) for r in records]
        leaking = sorted(set(records) & set(map(str, test_records)))
        if leaking:
            raise ValueError(
                f"train.validation_records: {leaking} are test records; validation records "
                "must be training records"
            )
        present = set(train_rows["record"].astype(str))
        missing = [r for r in records if r not in present]
        if missing:
            log.warning("train.validation_records %s have no training beats here: skipped", missing)
        held = train_rows["record"].astype(str).isin(records)
        return train_rows[~held], originals[originals["record"].astype(str).isin(records)]
    if not 0 <= fraction < 1:
        raise ValueError(f"train.validation_fraction must be in [0, 1), got {fraction}")
    chosen = []
    for label, group in originals.groupby("label", sort=True):
        rng = seeded_rng(seed, "validation", str(label))
        n_val = int(np.floor(len(group) * fraction + rng.random())) if fraction else 0
        chosen.append(group.index.to_numpy()[rng.permutation(len(group))[:n_val]])
    val_index = np.concatenate(chosen) if chosen else np.array([], dtype=int)
    validation = originals.loc[np.sort(val_index)]
    held = _beat_keys(train_rows).isin(set(_beat_keys(validation)))
    return train_rows[~held], validation


def cap_per_class(rows: pd.DataFrame, max_per_class: int | None, seed: int) -> pd.DataFrame:
    """At most ``max_per_class`` rows of each label (a seeded draw); all rows if ``None``."""
    if not max_per_class:
        return rows
    keep = []
    for label, group in rows.groupby("label", sort=True):
        index = group.index.to_numpy()
        if len(index) > max_per_class:
            index = np.sort(seeded_rng(seed, "cap", str(label)).choice(index, max_per_class, False))
        keep.append(index)
    return rows.loc[np.sort(np.concatenate(keep))]


def class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Weight of each class, ``n / (n_classes * n_class)`` (0 for absent classes)."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    weights = np.zeros(n_classes)
    present = counts > 0
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


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


def _base_dataset():
    import keras

    return keras.utils.PyDataset


class BeatBatches(_base_dataset()):
    """Batches of (inputs, labels[, weights]) read from beat PNGs listed in a manifest.

    ``order`` decides which rows an epoch visits: ``"fixed"`` (all rows in order: validation,
    test), ``"shuffle"`` (all rows, reshuffled every epoch) or ``"sampling"``
    (``samples_per_class`` rows of every class, drawn afresh every epoch); with ``"shuffle"``,
    ``samples_per_epoch`` (if set) keeps that many rows of each epoch's shuffle. ``weights``
    (one per class) adds sample weights. Inputs are the image alone or ``(image, rr)``, the
    RR features (:func:`ecg2d.model.rr_matrix`) of the manifest's ``rr_columns``.
    """

    def __init__(
        self,
        rows: pd.DataFrame,
        classes: list[str],
        image_size: int,
        batch_size: int,
        use_rr: bool,
        root=".",
        order: str = "fixed",
        samples_per_class: int | None = None,
        samples_per_epoch: int | None = None,
        weights: np.ndarray | None = None,
        seed: int = 0,
        rr_columns=RR_COLUMNS,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.paths = rows["path"].to_numpy(dtype=object)
        index = {label: i for i, label in enumerate(classes)}
        unknown = sorted(set(rows["label"]) - set(index))
        if unknown:
            raise ValueError(f"labels {unknown} in the manifest are not classes {classes}")
        self.y = rows["label"].map(index).to_numpy(dtype=np.int64)
        columns = list(rr_columns)
        self.rr = None
        if use_rr:
            self.rr = rr_matrix(rows[columns].to_numpy(), columns, rows["record"].to_numpy())
        self.image_size = image_size
        self.batch_size = batch_size
        self.root = root
        self.order = order
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float32)
        self.seed = seed
        self.epoch = 0
        self.samples_per_epoch = samples_per_epoch
        if order == "sampling":
            if not samples_per_class:
                raise ValueError("train.samples_per_class is needed for balance: sampling")
            self.pools = [np.flatnonzero(self.y == k) for k in range(len(classes))]
            self.pools = [pool for pool in self.pools if len(pool)]
            self.samples_per_class = int(samples_per_class)
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
            rng.choice(pool, self.samples_per_class, replace=len(pool) < self.samples_per_class)
            for pool in self.pools
        ]
        return rng.permutation(np.concatenate(drawn))

    def __len__(self) -> int:
        return math.ceil(len(self.rows) / self.batch_size)

    def batch_rows(self, idx: int) -> np.ndarray:
        """Row numbers (into the manifest rows given) of batch ``idx`` of this epoch."""
        return self.rows[idx * self.batch_size : (idx + 1) * self.batch_size]

    def __getitem__(self, idx: int):
        rows = self.batch_rows(idx)
        x = load_images(self.paths[rows], self.image_size, self.root)
        inputs = (x, self.rr[rows]) if self.rr is not None else x
        y = self.y[rows]
        if self.weights is not None:
            return inputs, y, self.weights[y]
        return inputs, y

    def on_epoch_end(self):
        self.epoch += 1
        self.rows = self._epoch_rows()


def predict_batches(model, batches: BeatBatches) -> np.ndarray:
    """Probabilities of every row of a ``fixed``-order :class:`BeatBatches`, in row order."""
    out = [np.asarray(model.predict_on_batch(batches[i][0])) for i in range(len(batches))]
    if not out:
        return np.zeros((0, model.output_shape[-1]), dtype=np.float32)
    return np.concatenate(out).astype(np.float32)


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
        from ecg2d.evaluate import class_metrics, confusion_matrix, nanmean

        proba = predict_batches(self.model, self.batches)
        y = self.batches.y
        loss = float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), y], 1e-7, 1.0))))
        matrix = confusion_matrix(y, proba.argmax(axis=1), range(self.n_classes))
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


def prepare_rows(manifest: pd.DataFrame, experiment: dict, settings: dict, seed: int):
    """(fit rows, validation rows) of a manifest under the experiment's training settings."""
    train = settings["train"]
    train_rows = manifest[manifest["split"] == "train"]
    if not len(train_rows):
        raise ValueError("the manifest has no training beats")
    fit_rows, val_rows = validation_split(
        train_rows,
        experiment["protocol"],
        seed,
        train["validation_fraction"],
        train["validation_records"],
        experiment.get("test_records", ()),
    )
    if not train["use_crops"]:
        fit_rows = fit_rows[fit_rows["augmented"] == 0]
    fit_rows = cap_per_class(fit_rows, train["max_per_class"], seed)
    if not len(fit_rows):
        raise ValueError("no training beats are left after holding out the validation set")
    return fit_rows, val_rows


def data_settings(
    *,
    fs: float,
    window: dict,
    image_size: int,
    crop: dict,
    lead: str,
    fallback_channel: int | None,
    segmentation: str = "annotations",
    detector: str | None = None,
) -> dict:
    """The ``data`` block of ``model.json``: the workflow settings a model's beats were made with.

    ``fs`` (Hz the records were resampled to), ``window`` (``mode``, ``fixed_ms``),
    ``image_size`` (side of the rendered beat PNGs, not the network's input), ``crop``
    (``size``, ``offsets``), ``lead`` and ``fallback_channel``, ``segmentation``
    (``annotations`` or ``detector``) and ``detector`` (``None`` unless segmentation is
    ``detector``). A model classifies correctly only beats made the same way.
    """
    if segmentation not in ("annotations", "detector"):
        raise ValueError(f"segmentation: unknown {segmentation!r} (annotations or detector)")
    if segmentation == "detector" and not detector:
        raise ValueError("detector: segmentation detector needs a detector")
    return {
        "fs": float(fs),
        "window": {"mode": str(window["mode"]), "fixed_ms": [float(v) for v in window["fixed_ms"]]},
        "image_size": int(image_size),
        "crop": {"size": int(crop["size"]), "offsets": [int(v) for v in crop["offsets"]]},
        "lead": str(lead),
        "fallback_channel": None if fallback_channel is None else int(fallback_channel),
        "segmentation": segmentation,
        "detector": str(detector) if segmentation == "detector" else None,
    }


def fit_model(
    manifest: pd.DataFrame,
    experiment: dict,
    seed: int = 42,
    root=".",
    workers: int = 1,
    name: str = "",
    data: dict | None = None,
):
    """Train the experiment's model on its manifest; return ``(model, history, info)``.

    ``history`` is one dict per epoch; ``info`` describes the model and its training (it is
    written beside the model as ``model.json``), with ``data`` (:func:`data_settings`, the
    settings the beats were made with) as its ``data`` block.
    """
    import keras

    from ecg2d.model import build_model, make_optimizer

    settings = resolve_settings(experiment)
    model_cfg, train = settings["model"], settings["train"]
    if train["balance"] not in BALANCE_MODES:
        raise ValueError(f"train.balance: unknown {train['balance']!r}; one of {BALANCE_MODES}")
    classes = experiment_classes(experiment)
    fit_rows, val_rows = prepare_rows(manifest, experiment, settings, seed)
    use_rr = bool(model_cfg["rr_features"])
    columns = rr_columns(bool(model_cfg["rr_irregularity"]))
    rr_mean = rr_var = None
    if use_rr:
        missing = [c for c in columns if c not in manifest.columns]
        if missing:
            raise ValueError(
                f"the manifest has no column {', '.join(missing)} (model.rr_irregularity needs "
                "beats files and manifests built by this version: rebuild them)"
            )
        originals = fit_rows[fit_rows["augmented"] == 0]
        features = rr_matrix(
            originals[list(columns)].to_numpy(), columns, originals["record"].to_numpy()
        )
        rr_mean, rr_var = features.mean(axis=0), np.maximum(features.var(axis=0), 1e-6)

    keras.utils.set_random_seed(seed)
    common = dict(
        image_size=model_cfg["image_size"],
        batch_size=train["batch_size"],
        use_rr=use_rr,
        rr_columns=columns,
        root=root,
    )
    y_fit = fit_rows["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    weights = class_weights(y_fit, len(classes)) if train["balance"] == "class_weight" else None
    fit_batches = BeatBatches(
        fit_rows,
        classes,
        order="sampling" if train["balance"] == "sampling" else "shuffle",
        samples_per_class=train["samples_per_class"],
        samples_per_epoch=train["samples_per_epoch"],
        weights=weights,
        seed=seed,
        workers=max(1, workers),
        use_multiprocessing=False,
        max_queue_size=8,
        **common,
    )
    val_batches = BeatBatches(val_rows, classes, **common) if len(val_rows) else None
    model = build_model(
        len(classes),
        image_size=model_cfg["image_size"],
        filters=model_cfg["filters"],
        convs_per_block=model_cfg["convs_per_block"],
        dense_units=model_cfg["dense_units"],
        dropout=model_cfg["dropout"],
        head=model_cfg["head"],
        rr_features=use_rr,
        rr_units=model_cfg["rr_units"],
        image_dropout=model_cfg["image_dropout"],
        rr_mean=rr_mean,
        rr_variance=rr_var,
        n_rr=len(rr_feature_names(columns)),
        rr_logits=bool(model_cfg["rr_logits"]),
    )
    model.compile(
        optimizer=make_optimizer(
            train["optimizer"],
            train["learning_rate"],
            train["lr_schedule"],
            train["epochs"] * len(fit_batches),
        ),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    log.info(
        "training %s: %d parameters, %d training images (%s), %d validation beats, "
        "%d batches of %d per epoch, up to %d epochs",
        name or "model",
        model.count_params(),
        len(fit_rows),
        ", ".join(f"{k} {v}" for k, v in fit_rows["label"].value_counts().sort_index().items()),
        len(val_rows),
        len(fit_batches),
        train["batch_size"],
        train["epochs"],
    )
    validation = Validation(val_batches, len(classes), train["monitor"], train["patience"])
    timer = EpochTimer()
    progress = Progress(train["epochs"], len(fit_batches), train["batch_size"])
    start = time.perf_counter()
    result = model.fit(
        fit_batches,
        epochs=train["epochs"],
        verbose=0,
        callbacks=[validation, timer, progress],
    )
    seconds = time.perf_counter() - start
    history = [
        {"epoch": i + 1, **{k: float(v[i]) for k, v in result.history.items()}, "seconds": s}
        for i, s in enumerate(timer.seconds)
    ]
    epochs_run = len(history)
    info = {
        "experiment": name,
        "protocol": experiment["protocol"],
        "classes": classes,
        "image_size": model_cfg["image_size"],
        "data": data,
        "rr_features": use_rr,
        "rr_columns": list(columns) if use_rr else [],
        "rr_feature_names": list(rr_feature_names(columns)) if use_rr else [],
        "preset": settings["preset"],
        "model": model_cfg,
        "train": train,
        "seed": seed,
        "n_train": int((fit_rows["augmented"] == 0).sum()),
        "n_train_images": len(fit_rows),
        "n_train_per_class": _counts(fit_rows, classes),
        "n_validation": len(val_rows),
        "validation": (
            {"records": sorted(set(val_rows["record"].astype(str)))}
            if experiment["protocol"] == "inter_patient"
            else {"fraction": train["validation_fraction"]}
        ),
        "epochs_run": epochs_run,
        "best_epoch": validation.best_epoch or epochs_run,
        "monitor": train["monitor"] if val_batches is not None else None,
        "images_seen": epochs_run * len(fit_batches.rows),
        "images_per_epoch": len(fit_batches.rows),
        "training_seconds": round(seconds, 1),
        "parameters": int(model.count_params()),
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
    }
    return model, history, info


def _counts(rows: pd.DataFrame, classes: list[str]) -> dict[str, int]:
    counts = rows["label"].value_counts()
    return {label: int(counts.get(label, 0)) for label in classes}


class EpochTimer(_callback_base()):
    """Wall-clock seconds of every epoch (validation included)."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(time.perf_counter() - self.start, 2))


def save_model(model, info: dict, model_path) -> None:
    """Write ``model.h5`` and its ``model.json`` sidecar, each atomically."""

    with atomic_path(model_path, suffix=".h5") as tmp:
        model.save(tmp, include_optimizer=False)
    with atomic_path(sidecar_path(model_path)) as tmp:
        tmp.write_text(json.dumps(info, indent=2) + "\n")


def write_history(history: list[dict], path) -> None:
    """Per-epoch history as CSV (atomically)."""

    columns = list(dict.fromkeys(k for row in history for k in row)) or ["epoch"]
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(history)


def plot_history(history: list[dict], path, title: str = "") -> None:
    """Training and validation loss and accuracy per epoch, as a PNG (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in history]
    fig, (ax_loss, ax_score) = plt.subplots(1, 2, figsize=(10, 4))
    for key, style in (("loss", "-"), ("val_loss", "--")):
        if any(key in row for row in history):
            ax_loss.plot(epochs, [row.get(key, np.nan) for row in history], style, label=key)
    for key, style in (
        ("accuracy", "-"),
        ("val_accuracy", "--"),
        ("val_balanced_accuracy", "-."),
        ("val_macro_f1", ":"),
    ):
        if any(key in row for row in history):
            ax_score.plot(epochs, [row.get(key, np.nan) for row in history], style, label=key)
    for ax, ylabel in ((ax_loss, "loss"), (ax_score, "score")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title or "training curves")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
