"""The 2-D CNN beat classifier (Keras 3, backend-neutral) and its presets.

The network is the VGG-style CNN of Jun et al. (2018): blocks of 3x3 convolutions, each followed
by ELU and batch normalisation, a 2x2 max-pool after every block, one dense layer (ELU, batch
normalisation, dropout) and a softmax; Glorot-uniform initialisation throughout. Widths, input
size, dense units and dropout come from a preset (:data:`PRESETS`) that an experiment's
``model:`` keys override.

Optionally (``rr_features``) the network gets a second input: RR-interval context of each beat
(:func:`rr_matrix`), standardised with the training set's statistics (stored in the model) and
concatenated with the image features before the dense head. Beat shape alone does not carry
rhythm; premature supraventricular beats need it.

Only ``keras`` and ``keras.ops`` are used, so the same code trains on TensorFlow here and on JAX
(``KERAS_BACKEND=jax``) on a GPU. :class:`Classifier` loads a trained model for prediction.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np

#: Manifest columns of a beat's RR context in seconds, in the order :func:`rr_matrix` takes
#: (models trained without ``rr_irregularity``, and model.json files that name no
#: ``rr_columns``).
RR_COLUMNS = ("pre_rr", "post_rr", "local_rr", "record_rr")
#: The same and the local RR irregularity (:func:`ecg2d.segment.rr_irregularity`): the RR
#: context of models trained with ``model.rr_irregularity``.
RR_COLUMNS_IRREGULARITY = (*RR_COLUMNS, "rr_irregularity")
#: Names of the columns of :func:`rr_matrix` made from :data:`RR_COLUMNS`.
RR_FEATURES = (
    "pre_rr",
    "post_rr",
    "local_rr",
    "record_rr",
    "log_pre_over_local",
    "log_post_over_pre",
    "log_pre_over_record",
    "log_local_over_record",
    "log_post_over_local",
)
#: Names of the columns of :func:`rr_matrix` made from :data:`RR_COLUMNS_IRREGULARITY`.
RR_FEATURES_IRREGULARITY = (*RR_FEATURES, "log_rr_irregularity")
#: Added to the irregularity before its logarithm (regular rhythms score 0).
IRREGULARITY_FLOOR = 0.01
#: Shortest RR interval (s) used in ratios, so a zero can never divide.
MIN_RR = 0.05
#: Batch-normalisation momentum. Keras' 0.99 averages over ~100 steps; with short CPU runs
#: and a fast-moving network the moving statistics then lag the weights and inference-mode
#: predictions collapse (measured: 66 % vs 96 % on the same training batch). 0.9 tracks them.
BN_MOMENTUM = 0.9

#: Model and training settings of the default preset, sized for `make run` on a 2-core CPU
#: (see bench/results/train.md). ``model.rr_features: None`` means "on for inter_patient
#: experiments, off for intra_patient".
_DEFAULT_PRESET: dict[str, dict] = {
    "model": {
        "image_size": 48,
        "filters": [16, 32, 64],
        "convs_per_block": 2,
        "dense_units": 128,
        "dropout": 0.5,
        "head": "flatten",
        "rr_features": None,
        "rr_units": 32,
        "rr_irregularity": False,
        "rr_logits": False,
        "image_dropout": 0.0,
    },
    "train": {
        "optimizer": "adam",
        "learning_rate": 0.001,
        "lr_schedule": "cosine",
        "batch_size": 64,
        "epochs": 8,
        "balance": "sampling",
        "samples_per_class": 1500,
        "samples_per_epoch": None,
        "max_per_class": None,
        "use_crops": True,
        "validation_fraction": 0.1,
        "validation_records": [],
        "monitor": "val_macro_f1",
        "patience": 3,
    },
}


def _preset(model: dict, train: dict) -> dict[str, dict]:
    """A preset that differs from the default one in the given ``model`` and ``train`` keys."""
    preset = copy.deepcopy(_DEFAULT_PRESET)
    preset["model"].update(model)
    preset["train"].update(train)
    return preset


#: Model and training settings of each preset; `model:` and `train:` keys of an experiment
#: override single values.
PRESETS: dict[str, dict[str, dict]] = {
    "default": _DEFAULT_PRESET,
    # A few seconds on a CPU: for tests only.
    "tiny": _preset(
        model={
            "image_size": 32,
            "filters": [4, 8],
            "convs_per_block": 1,
            "dense_units": 16,
            "rr_units": 8,
        },
        train={
            "learning_rate": 0.003,
            "batch_size": 32,
            "epochs": 1,
            "samples_per_class": 32,
            "patience": 0,
        },
    ),
    # The seed's network at 128 px (Jun et al. 2018), every image, no balancing: for a GPU.
    "paper": _preset(
        model={"image_size": 128, "filters": [64, 128, 256], "dense_units": 2048},
        train={
            "learning_rate": 0.0001,
            "lr_schedule": "constant",
            "batch_size": 128,
            "epochs": 30,
            "balance": "none",
            "samples_per_class": None,
            "patience": 5,
        },
    ),
}


def resolve_settings(experiment: dict) -> dict:
    """The experiment's ``{"preset", "model", "train"}``: its preset overridden by its keys.

    ``model.rr_features`` left at ``None`` becomes ``True`` for inter_patient experiments and
    ``False`` for intra_patient ones.
    """
    name = experiment.get("preset", "default")
    if name not in PRESETS:
        raise ValueError(f"preset: unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    settings = copy.deepcopy(PRESETS[name])
    for section in ("model", "train"):
        overrides = experiment.get(section) or {}
        unknown = set(overrides) - set(settings[section])
        if unknown:
            raise ValueError(f"{section}: unknown keys {sorted(unknown)}")
        settings[section].update(copy.deepcopy(overrides))
    if settings["model"]["rr_features"] is None:
        settings["model"]["rr_features"] = experiment.get("protocol") == "inter_patient"
    settings["preset"] = name
    return settings


def rr_columns(irregularity: bool) -> tuple[str, ...]:
    """The RR context columns of a model: :data:`RR_COLUMNS_IRREGULARITY` with the
    irregularity, :data:`RR_COLUMNS` without."""
    return RR_COLUMNS_IRREGULARITY if irregularity else RR_COLUMNS


def rr_feature_names(columns=RR_COLUMNS) -> tuple[str, ...]:
    """Names of the :func:`rr_matrix` columns made from RR context ``columns``."""
    return RR_FEATURES_IRREGULARITY if tuple(columns) == RR_COLUMNS_IRREGULARITY else RR_FEATURES


def rr_matrix(rr, columns=RR_COLUMNS, records=None) -> np.ndarray:
    """RR features (:func:`rr_feature_names`) of beats from their RR context.

    ``rr`` is N x len(``columns``); ``columns`` is :data:`RR_COLUMNS` (pre_rr, post_rr,
    local_rr, record_rr, in seconds) or :data:`RR_COLUMNS_IRREGULARITY` (the same and
    rr_irregularity).
    The features are the four intervals and the logarithms of five ratios between them
    (prematurity of the beat against the local and the record rhythm, compensatory pause), and
    with the irregularity its logarithm (plus :data:`IRREGULARITY_FLOOR`), as float32.

    RR context is computed from R peaks and is never missing, so a NaN or infinite value
    means damaged data: a :class:`ValueError` gives the count per column and, if
    ``records`` (each row's record) is given, the records concerned.
    """
    columns = tuple(columns)
    if columns not in (RR_COLUMNS, RR_COLUMNS_IRREGULARITY):
        raise ValueError(
            f"rr columns must be {RR_COLUMNS} or {RR_COLUMNS_IRREGULARITY}, got {columns}"
        )
    rr = np.asarray(rr, dtype=np.float64)
    if rr.ndim != 2 or rr.shape[1] != len(columns):
        raise ValueError(f"rr must be N x {len(columns)} {columns}, got shape {rr.shape}")
    _check_finite(rr, columns, records)
    pre, post, local, record = np.maximum(rr[:, :4], MIN_RR).T
    features = [
        pre,
        post,
        local,
        record,
        np.log(pre / local),
        np.log(post / pre),
        np.log(pre / record),
        np.log(local / record),
        np.log(post / local),
    ]
    if columns == RR_COLUMNS_IRREGULARITY:
        features.append(np.log(np.maximum(rr[:, 4], 0.0) + IRREGULARITY_FLOOR))
    return np.stack(features, axis=1).astype(np.float32)


def _check_finite(rr: np.ndarray, columns: tuple[str, ...], records=None) -> None:
    """Raise :class:`ValueError` if ``rr`` has NaN or infinite values (see :func:`rr_matrix`)."""
    bad = ~np.isfinite(rr)
    if not bad.any():
        return
    counts = ", ".join(f"{c} {int(n)}" for c, n in zip(columns, bad.sum(axis=0)) if n)
    where = ""
    if records is not None:
        named = sorted(set(np.asarray(records, dtype=str)[bad.any(axis=1)].tolist()))
        where = f" of records {named}"
    raise ValueError(
        f"RR context has {int(bad.any(axis=1).sum())} beats{where} with NaN or infinite values "
        f"({counts}): the beats files or manifest are damaged; rebuild them"
    )


def build_model(
    n_classes: int,
    image_size: int = 64,
    filters=(16, 32, 64),
    convs_per_block: int = 2,
    dense_units: int = 128,
    dropout: float = 0.5,
    head: str = "flatten",
    rr_features: bool = False,
    rr_units: int = 32,
    image_dropout: float = 0.0,
    rr_mean=None,
    rr_variance=None,
    n_rr: int | None = None,
    rr_logits: bool = False,
):
    """The (uncompiled) CNN, taking ``image_size`` x ``image_size`` x 1 images as floats 0..255.

    Images are inverted and scaled inside the model (trace 1, background 0). ``head`` is
    ``flatten`` (the seed's) or ``global_average``. With ``rr_features`` the model takes a
    second input of ``n_rr`` RR features (:func:`rr_feature_names`; default: as many as
    ``rr_mean`` has, else :data:`RR_FEATURES`), standardised with ``rr_mean`` / ``rr_variance``
    (training statistics, stored in the model), passed through a dense layer of ``rr_units``
    (0: none) and concatenated with the image features. ``image_dropout`` (training only) drops
    a beat's whole image feature vector with that probability, so that the head must also
    learn to classify from RR context alone (modality dropout). ``rr_logits`` adds class logits
    computed from the RR features alone (an RR expert) to the network's logits before the
    softmax.
    """
    import keras
    from keras import layers

    init = "glorot_uniform"
    image = keras.Input((image_size, image_size, 1), name="image")
    x = layers.Rescaling(-1.0 / 255.0, offset=1.0, name="invert")(image)
    for b, width in enumerate(filters, start=1):
        for c in range(1, convs_per_block + 1):
            x = layers.Conv2D(
                width, 3, padding="same", kernel_initializer=init, name=f"block{b}_conv{c}"
            )(x)
            x = layers.ELU(name=f"block{b}_elu{c}")(x)
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"block{b}_bn{c}")(x)
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
    if head == "flatten":
        x = layers.Flatten(name="flatten")(x)
    elif head == "global_average":
        x = layers.GlobalAveragePooling2D(name="global_average")(x)
    else:
        raise ValueError(f"head: unknown head {head!r} (flatten or global_average)")
    inputs = [image]
    r = None
    if rr_features:
        if n_rr is None:
            n_rr = len(RR_FEATURES) if rr_mean is None else len(rr_mean)
        rr = keras.Input((n_rr,), name="rr")
        mean = np.zeros(n_rr) if rr_mean is None else np.asarray(rr_mean, dtype=np.float64)
        variance = (
            np.ones(n_rr) if rr_variance is None else np.asarray(rr_variance, dtype=np.float64)
        )
        r = layers.Normalization(mean=mean, variance=variance, name="rr_standardise")(rr)
        if image_dropout:
            x = layers.Dropout(image_dropout, noise_shape=(None, 1), name="image_dropout")(x)
        if rr_units:
            r = layers.Dense(rr_units, kernel_initializer=init, name="rr_dense")(r)
            r = layers.ELU(name="rr_elu")(r)
        x = layers.Concatenate(name="image_and_rr")([x, r])
        inputs.append(rr)
    x = layers.Dense(dense_units, kernel_initializer=init, name="dense")(x)
    x = layers.ELU(name="dense_elu")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="dense_bn")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    if r is not None and rr_logits:
        logits = layers.Dense(n_classes, kernel_initializer=init, name="logits")(x)
        rr_out = layers.Dense(n_classes, kernel_initializer=init, name="rr_logits")(r)
        x = layers.Add(name="image_and_rr_logits")([logits, rr_out])
        out = layers.Activation("softmax", name="softmax")(x)
    else:
        out = layers.Dense(
            n_classes, activation="softmax", kernel_initializer=init, name="softmax"
        )(x)
    return keras.Model(inputs, out, name="ecg2d_cnn")


def make_optimizer(name: str, learning_rate: float, schedule: str = "constant", steps: int = 0):
    """A Keras optimiser by name: ``adam``, ``sgd`` (momentum 0.9) or ``rmsprop``.

    ``schedule`` ``cosine`` decays the learning rate over ``steps`` steps to 5 % of its start.
    """
    import keras

    if schedule == "cosine" and steps > 0:
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.05)
    elif schedule not in ("constant", "cosine"):
        raise ValueError(f"lr_schedule: unknown schedule {schedule!r} (constant or cosine)")
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate)
    raise ValueError(f"optimizer: unknown optimiser {name!r} (adam, sgd or rmsprop)")


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


def limit_threads(n: int) -> None:
    """Use at most ``n`` CPU threads in TensorFlow, OpenMP and OpenCV.

    Call before Keras is imported (TensorFlow reads its thread counts once, at start-up).
    """
    import os

    n = str(max(1, int(n)))
    for key in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(key, n)
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1" if n == "1" else "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import cv2

    cv2.setNumThreads(1)


def sidecar_path(model_path) -> Path:
    """The JSON description written beside a model: ``model.h5`` -> ``model.json``."""
    return Path(model_path).with_suffix(".json")


class Classifier:
    """A trained beat classifier: the Keras model and its description (``model.json``).

    Attributes: ``classes`` (labels, in the order of the probability columns), ``image_size``
    (side of the model's input; other sizes are resized), ``rr_features`` (whether it uses RR
    context), ``rr_columns`` (the RR context columns it takes, from the sidecar's
    ``rr_columns``; :data:`RR_COLUMNS` where the sidecar names none), ``info`` (the whole
    sidecar), :attr:`data_settings` (the data settings it was trained with).
    """

    def __init__(self, model, info: dict):
        self.model = model
        self.info = info
        self.classes = list(info["classes"])
        self.image_size = int(info["image_size"])
        self.rr_features = bool(info["rr_features"])
        self.rr_columns = tuple(info.get("rr_columns") or RR_COLUMNS)

    @property
    def data_settings(self) -> dict | None:
        """The sidecar's ``data`` block: the workflow settings the training beats were made
        with (:func:`ecg2d.train.data_settings`); ``None`` for models from before it existed.
        """
        data = self.info.get("data")
        return dict(data) if data else None

    @classmethod
    def load(cls, model_path) -> Classifier:
        """Load ``model.h5`` and the ``model.json`` beside it."""
        import keras

        model_path = Path(model_path)
        info_path = sidecar_path(model_path)
        for path in (model_path, info_path):
            if not path.is_file():
                raise FileNotFoundError(f"model file {path} not found")
        info = json.loads(info_path.read_text())
        model = keras.models.load_model(model_path, compile=False)
        return cls(model, info)

    def predict_proba(self, images, rr=None, batch_size: int = 256) -> np.ndarray:
        """Class probabilities (N x len(classes)) of beat images and their RR context.

        ``images``: uint8 N x S x S beat images as rendered (any S; resized to
        ``image_size``). ``rr``: float N x len(:attr:`rr_columns`), the beats' RR context:
        N x 4 (pre_rr, post_rr, local_rr, record_rr in seconds) for models without the
        irregularity -- these also accept N x 5 :data:`RR_COLUMNS_IRREGULARITY` and use its
        first four -- and N x 5 for models with it; needed only if the model uses RR features.
        """
        images = np.asarray(images)
        n = len(images)
        if n == 0:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        features = None
        if self.rr_features:
            if rr is None:
                raise ValueError(
                    f"this model uses RR features: pass rr (N x {len(self.rr_columns)}, "
                    f"{', '.join(self.rr_columns)})"
                )
            rr = np.asarray(rr)
            if rr.ndim == 2 and rr.shape[1] > len(self.rr_columns) == len(RR_COLUMNS):
                rr = rr[:, : len(self.rr_columns)]
            features = rr_matrix(rr, self.rr_columns)
            if len(features) != n:
                raise ValueError(f"{n} images but {len(features)} rows of rr")
        out = []
        for start in range(0, n, batch_size):
            x = resize_images(images[start : start + batch_size], self.image_size)
            inputs = [x, features[start : start + batch_size]] if self.rr_features else x
            out.append(np.asarray(self.model.predict_on_batch(inputs), dtype=np.float32))
        return np.concatenate(out)

    def predict(self, images, rr=None) -> np.ndarray:
        """Predicted labels (array of str) of beat images."""
        proba = self.predict_proba(images, rr)
        return np.asarray(self.classes, dtype=object)[proba.argmax(axis=1)].astype(str)
