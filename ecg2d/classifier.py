"""A trained beat classifier loaded for prediction: the Keras model and its ``model.json``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ecg2d.expert import expert_proba, fuse
from ecg2d.images import resize_images
from ecg2d.rr import RR_COLUMNS, RR_CONTEXT, rr_matrix


def apply_class_factors(proba, classes, factors: dict) -> np.ndarray:
    """Probabilities with each class of ``factors`` multiplied by its factor, renormalised per
    row (``model.class_factors``); a class left out keeps 1. A factor for a class that is not
    one of ``classes``, or not above 0, is a ValueError naming it."""
    proba = np.asarray(proba, dtype=np.float32)
    if not factors:
        return proba
    unknown = sorted(set(factors) - set(classes))
    if unknown:
        raise ValueError(f"model.class_factors: {unknown} are not classes {list(classes)}")
    bad = {k: v for k, v in factors.items() if not float(v) > 0}
    if bad:
        raise ValueError(f"model.class_factors: factors must be above 0, got {bad}")
    scale = np.array([float(factors.get(c, 1.0)) for c in classes], dtype=np.float64)
    out = proba * scale
    return (out / out.sum(axis=1, keepdims=True)).astype(np.float32)


def sidecar_path(model_path) -> Path:
    """The JSON description written beside a model: ``model.h5`` -> ``model.json``."""
    return Path(model_path).with_suffix(".json")


class Classifier:
    """A trained beat classifier: the Keras model and its description (``model.json``).

    Attributes: ``classes`` (labels, in the order of the probability columns), ``input_size``
    (side of the network's input; images of other sizes are area-resized to it), ``rr_features``
    (whether it uses RR context), ``rr_columns`` (the RR context columns it takes, from the
    sidecar's ``rr_columns``; :data:`RR_COLUMNS` where the sidecar names none), ``info`` (the
    whole sidecar), :attr:`data_settings` (the data settings it was trained with), ``expert``
    (the rhythm expert's parameters, :mod:`ecg2d.expert`, or ``None``) and ``fusion_weight``
    (the CNN's weight when fused with it), ``class_factors`` (the operating point,
    :func:`apply_class_factors`; ``{}`` where the sidecar has none). With an expert,
    ``rr_columns`` are :data:`ecg2d.rr.RR_CONTEXT`, which hold the CNN's own.
    """

    def __init__(self, model, info: dict):
        self.model = model
        self.info = info
        self.classes = list(info["classes"])
        # "image_size": model.json files from before input_size had its own name
        self.input_size = int(info.get("input_size", info.get("image_size")))
        self.rr_features = bool(info["rr_features"])
        self.cnn_rr_columns = tuple(info.get("rr_columns") or RR_COLUMNS)
        self.expert = info.get("expert") or None
        self.fusion_weight = float(info.get("fusion_weight", 1.0))
        self.class_factors = dict((info.get("model") or {}).get("class_factors") or {})
        apply_class_factors(np.ones((1, len(self.classes))), self.classes, self.class_factors)
        if self.expert is not None and list(self.expert["classes"]) != self.classes:
            raise ValueError(
                f"model.json: the expert's classes {self.expert['classes']} differ from the "
                f"model's {self.classes}"
            )
        self.rr_columns = (
            tuple(self.expert.get("columns") or RR_CONTEXT)
            if self.expert is not None
            else self.cnn_rr_columns
        )
        missing = (
            sorted(set(self.cnn_rr_columns) - set(self.rr_columns)) if self.rr_features else []
        )
        if missing:
            raise ValueError(f"model.json: the expert's columns lack the CNN's {missing}")

    @property
    def uses_rr(self) -> bool:
        """Whether :meth:`predict_proba` needs the beats' RR context."""
        return self.rr_features or self.expert is not None

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
        ``input_size``). ``rr``: float N x len(:attr:`rr_columns`), the beats' RR context:
        N x 4 (pre_rr, post_rr, local_rr, record_rr in seconds) for models without the
        irregularity -- these also accept N x 5 :data:`RR_COLUMNS_IRREGULARITY` and use its
        first four -- and N x 5 for models with it; needed only if the model uses RR features.
        """
        images = np.asarray(images)
        n = len(images)
        if n == 0:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        features = None
        if self.uses_rr:
            if rr is None:
                raise ValueError(
                    f"this model uses RR context: pass rr (N x {len(self.rr_columns)}, "
                    f"{', '.join(self.rr_columns)})"
                )
            rr = np.asarray(rr)
            if rr.ndim != 2 or len(rr) != n:
                raise ValueError(f"{n} images but rr of shape {rr.shape}")
        if self.rr_features:
            cnn_rr = rr
            if rr.shape[1] > len(self.cnn_rr_columns):  # the CNN's columns, by name
                given = self.rr_columns if rr.shape[1] == len(self.rr_columns) else RR_CONTEXT
                cnn_rr = rr[:, [list(given).index(c) for c in self.cnn_rr_columns]]
            features = rr_matrix(cnn_rr, self.cnn_rr_columns)
        out = []
        for start in range(0, n, batch_size):
            x = resize_images(images[start : start + batch_size], self.input_size)
            inputs = [x, features[start : start + batch_size]] if self.rr_features else x
            out.append(np.asarray(self.model.predict_on_batch(inputs), dtype=np.float32))
        proba = np.concatenate(out)
        if self.expert is not None:
            proba = fuse(proba, expert_proba(self.expert, rr), self.fusion_weight)
        return apply_class_factors(proba, self.classes, self.class_factors)

    def predict(self, images, rr=None) -> np.ndarray:
        """Predicted labels (array of str) of beat images."""
        proba = self.predict_proba(images, rr)
        return np.asarray(self.classes, dtype=object)[proba.argmax(axis=1)].astype(str)
