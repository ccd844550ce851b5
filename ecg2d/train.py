"""Training the beat classifier from an experiment's manifest.

Images are streamed from the manifest batch by batch (:class:`ecg2d.feed.BeatBatches`, a Keras
``PyDataset`` reading PNGs and resizing them to the model's input), so memory stays bounded
whatever the number of beats; the validation callback (:mod:`ecg2d.callbacks`) chooses the
epoch. Settings come resolved (:class:`ecg2d.settings.Settings`). Class imbalance is handled
by ``train.balance``:

- ``sampling``: every epoch draws ``samples_per_class`` training images of each class afresh
  (seeded; with replacement only where a class has fewer images). An epoch is then
  ``n_classes * samples_per_class`` images whatever the size of the data set.
- ``sqrt``: as ``sampling``, but the ``n_classes * samples_per_class`` images of an epoch are
  shared among the classes in proportion to the square root of their number of training
  images (square-root sampling: rare classes are still drawn far above their share, common
  ones are seen more often than with ``sampling``).
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
import time

import numpy as np
import pandas as pd

from ecg2d.atomic import atomic_path, save_figure
from ecg2d.callbacks import EpochTimer, Progress, Validation
from ecg2d.classifier import sidecar_path
from ecg2d.config import experiment_classes
from ecg2d.feed import BeatBatches
from ecg2d.io import lead_names
from ecg2d.rr import rr_columns, rr_feature_names, rr_matrix
from ecg2d.segment import window_leads
from ecg2d.settings import ModelSettings, Settings, resolve_settings
from ecg2d.split import seeded_rng

log = logging.getLogger("ecg2d.train")

BALANCE_MODES = ("sampling", "sqrt", "class_weight", "none")
#: The class-size power of each sampling mode (:class:`ecg2d.feed.BeatBatches`).
SAMPLING_POWER = {"sampling": 0.0, "sqrt": 0.5}


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


def prepare_rows(manifest: pd.DataFrame, experiment: dict, settings: Settings, seed: int):
    """(fit rows, validation rows) of a manifest under the experiment's training settings."""
    train = settings.train
    train_rows = manifest[manifest["split"] == "train"]
    if not len(train_rows):
        raise ValueError("the manifest has no training beats")
    fit_rows, val_rows = validation_split(
        train_rows,
        experiment["protocol"],
        seed,
        train.validation_fraction,
        train.validation_records,
        experiment.get("test_records", ()),
    )
    if not train.use_crops:
        fit_rows = fit_rows[fit_rows["augmented"] == 0]
    fit_rows = cap_per_class(fit_rows, train.max_per_class, seed)
    if not len(fit_rows):
        raise ValueError("no training beats are left after holding out the validation set")
    return fit_rows, val_rows


def _hz(value) -> float | None:
    """A frequency setting as a float, None kept."""
    return None if value is None else float(value)


def data_settings(
    *,
    fs: float,
    window: dict,
    image_size: int,
    crop: dict,
    lead: str | list[str],
    fallback_channel: int | None,
    lead2=(),
    segmentation: str = "annotations",
    detector: str | None = None,
) -> dict:
    """The ``data`` block of ``model.json``: the workflow settings a model's beats were made with.

    ``fs`` (Hz the records were resampled to), ``window`` (``mode``, ``fixed_ms``,
    ``amplitude``, ``leads``, ``highpass_hz``, ``lowpass_hz``),
    ``image_size`` (side of the rendered beat PNGs, not the network's input), ``crop``
    (``size``, ``offsets``), ``lead``, ``fallback_channel`` and ``lead2`` (the second leads
    preferred, :func:`ecg2d.io.other_channel`), ``segmentation``
    (``annotations`` or ``detector``) and ``detector`` (``None`` unless segmentation is
    ``detector``). A model classifies correctly only beats made the same way.
    """
    if segmentation not in ("annotations", "detector"):
        raise ValueError(f"segmentation: unknown {segmentation!r} (annotations or detector)")
    if segmentation == "detector" and not detector:
        raise ValueError("detector: segmentation detector needs a detector")
    return {
        "fs": float(fs),
        "window": {
            "mode": str(window["mode"]),
            "fixed_ms": [float(v) for v in window["fixed_ms"]],
            "amplitude": str(window.get("amplitude", "beat")),
            "leads": window_leads(window),
            "highpass_hz": _hz(window.get("highpass_hz")),
            "lowpass_hz": _hz(window.get("lowpass_hz")),
        },
        "image_size": int(image_size),
        "crop": {"size": int(crop["size"]), "offsets": [int(v) for v in crop["offsets"]]},
        "lead": str(lead) if isinstance(lead, str) else lead_names(lead),
        "fallback_channel": None if fallback_channel is None else int(fallback_channel),
        "lead2": [str(name) for name in lead2],
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
    init_seed: int | None = None,
):
    """Train the experiment's model on its manifest; return ``(model, history, info)``.

    ``history`` is one dict per epoch; ``info`` describes the model and its training (it is
    written beside the model as ``model.json``), with ``data`` (:func:`data_settings`, the
    settings the beats were made with) as its ``data`` block. ``seed`` makes the validation
    split and, unless ``init_seed`` is given, the weights' initialisation and the sampling order
    too; with ``init_seed``, those come from it, so that models differing only in training's
    randomness share their validation beats.
    """
    import keras

    from ecg2d.model import build_model, make_loss, make_optimizer

    settings = resolve_settings(experiment)
    model_cfg, train = settings.model, settings.train
    if train.balance not in BALANCE_MODES:
        raise ValueError(f"train.balance: unknown {train.balance!r}; one of {BALANCE_MODES}")
    classes = experiment_classes(experiment)
    fit_rows, val_rows = prepare_rows(manifest, experiment, settings, seed)
    expert = fit_rhythm_expert(manifest, model_cfg, classes, seed)
    use_rr = bool(model_cfg.rr_features)
    columns = rr_columns(model_cfg.rr_irregularity)
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

    training_seed = seed if init_seed is None else init_seed
    keras.utils.set_random_seed(training_seed)
    common = dict(
        input_size=model_cfg.input_size,
        batch_size=train.batch_size,
        use_rr=use_rr,
        rr_columns=columns,
        root=root,
    )
    y_fit = fit_rows["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    weights = class_weights(y_fit, len(classes)) if train.balance == "class_weight" else None
    fit_batches = BeatBatches(
        fit_rows,
        classes,
        order="sampling" if train.balance in SAMPLING_POWER else "shuffle",
        samples_per_class=train.samples_per_class,
        sampling_power=SAMPLING_POWER.get(train.balance, 0.0),
        samples_per_epoch=train.samples_per_epoch,
        weights=weights,
        seed=training_seed,
        mixup_alpha=train.mixup_alpha,
        workers=max(1, workers),
        use_multiprocessing=False,
        max_queue_size=8,
        **common,
    )
    val_batches = BeatBatches(val_rows, classes, **common) if len(val_rows) else None
    model = build_model(
        len(classes),
        model_cfg,
        rr_mean=rr_mean,
        rr_variance=rr_var,
        n_rr=len(rr_feature_names(columns)),
    )
    model.compile(
        optimizer=make_optimizer(
            train.optimizer,
            train.learning_rate,
            train.lr_schedule,
            train.epochs * len(fit_batches),
            train.weight_decay,
        ),
        loss=make_loss(train.label_smoothing, train.focal_gamma, dense=train.mixup_alpha > 0),
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
        train.batch_size,
        train.epochs,
    )
    validation = Validation(val_batches, len(classes), train.monitor, train.patience)
    timer = EpochTimer()
    progress = Progress(train.epochs, len(fit_batches), train.batch_size)
    start = time.perf_counter()
    result = model.fit(
        fit_batches,
        epochs=train.epochs,
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
        "input_size": model_cfg.input_size,
        "data": data,
        "rr_features": use_rr,
        "rr_columns": list(columns) if use_rr else [],
        "rr_feature_names": list(rr_feature_names(columns)) if use_rr else [],
        "expert": expert,
        "fusion_weight": float(model_cfg.fusion_weight) if expert else 1.0,
        **settings.as_dict(),
        "seed": seed,
        **({} if init_seed is None else {"init_seed": init_seed}),
        "n_train": int((fit_rows["augmented"] == 0).sum()),
        "n_train_images": len(fit_rows),
        "n_train_per_class": _counts(fit_rows, classes),
        "n_validation": len(val_rows),
        "validation": (
            {"records": sorted(set(val_rows["record"].astype(str)))}
            if experiment["protocol"] == "inter_patient"
            else {"fraction": train.validation_fraction}
        ),
        "epochs_run": epochs_run,
        "best_epoch": validation.best_epoch or epochs_run,
        "monitor": train.monitor if val_batches is not None else None,
        "images_seen": epochs_run * len(fit_batches.rows),
        "images_per_epoch": len(fit_batches.rows),
        "training_seconds": round(seconds, 1),
        "parameters": int(model.count_params()),
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
    }
    return model, history, info


def fit_rhythm_expert(manifest: pd.DataFrame, model: ModelSettings, classes: list[str], seed: int):
    """The rhythm expert (:mod:`ecg2d.expert`) of ``model.expert``, fitted on every original
    training beat of the manifest (validation records included: it has no epoch to choose), as
    ``model.expert_min_leaf`` and ``model.expert_weights`` say; ``None`` for ``none``."""
    from ecg2d.expert import EXPERTS, KIND_COLUMNS, fit_expert

    kind = model.expert
    if kind not in EXPERTS:
        raise ValueError(f"model.expert: unknown expert {kind!r}; one of {EXPERTS}")
    if kind == "none":
        return None
    columns = list(KIND_COLUMNS[kind])
    missing = [c for c in columns if c not in manifest.columns]
    if missing:
        raise ValueError(
            f"the manifest has no column {', '.join(missing)} (model.expert needs beats files "
            "and manifests built by this version: rebuild them)"
        )
    rows = manifest[(manifest["split"] == "train") & (manifest["augmented"] == 0)]
    expert = fit_expert(
        rows[columns].to_numpy(),
        rows["label"],
        classes,
        seed,
        kind,
        model.expert_min_leaf,
        rows["record"].astype(str).to_numpy(),
        model.expert_weights,
    )
    log.info("rhythm expert fitted on %d training beats", len(rows))
    return expert


def _counts(rows: pd.DataFrame, classes: list[str]) -> dict[str, int]:
    counts = rows["label"].value_counts()
    return {label: int(counts.get(label, 0)) for label in classes}


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
