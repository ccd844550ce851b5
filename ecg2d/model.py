"""The 2-D CNN beat classifier (Keras 3, backend-neutral): the network and its optimiser.

The network is the VGG-style CNN of Jun et al. (2018): blocks of 3x3 convolutions, each followed
by ELU and batch normalisation, a 2x2 max-pool after every block, one dense layer (ELU, batch
normalisation, dropout) and a softmax; Glorot-uniform initialisation throughout. Widths, input
size, dense units and dropout come from the experiment's resolved
:class:`ecg2d.settings.ModelSettings`.

Optionally (``rr_features``) the network gets a second input: RR-interval context of each beat
(:func:`ecg2d.rr.rr_matrix`), standardised with the training set's statistics (stored in the
model) and concatenated with the image features before the dense head. Beat shape alone does not
carry rhythm; premature supraventricular beats need it.

Only ``keras`` and ``keras.ops`` are used, so the same code trains on TensorFlow here and on JAX
(``KERAS_BACKEND=jax``) on a GPU. :class:`ecg2d.classifier.Classifier` loads a trained model
for prediction.
"""

from __future__ import annotations

import numpy as np

from ecg2d.rr import RR_FEATURES
from ecg2d.settings import ModelSettings

#: Batch-normalisation momentum. Keras' 0.99 averages over ~100 steps; with short CPU runs
#: and a fast-moving network the moving statistics then lag the weights and inference-mode
#: predictions collapse (measured: 66 % vs 96 % on the same training batch). 0.9 tracks them.
BN_MOMENTUM = 0.9


def build_model(
    n_classes: int,
    settings: ModelSettings | None = None,
    rr_mean=None,
    rr_variance=None,
    n_rr: int | None = None,
):
    """The (uncompiled) CNN of ``settings`` (default: :class:`ModelSettings`), taking
    ``input_size`` x ``input_size`` x 1 images as floats 0..255.

    Images are inverted and scaled inside the model (trace 1, background 0). ``head`` is
    ``flatten`` (the seed's) or ``global_average``. With ``rr_features`` the model takes a
    second input of ``n_rr`` RR features (:func:`ecg2d.rr.rr_feature_names`; default: as many
    as ``rr_mean`` has, else :data:`ecg2d.rr.RR_FEATURES`), standardised with ``rr_mean`` /
    ``rr_variance`` (training statistics, stored in the model), passed through a dense layer of
    ``rr_units`` (0: none) and concatenated with the image features. ``image_dropout``
    (training only) drops a beat's whole image feature vector with that probability, so that
    the head must also learn to classify from RR context alone (modality dropout).
    ``rr_logits`` adds class logits computed from the RR features alone to the network's
    logits before the softmax. (The rhythm expert, ``expert``, is not part of the network:
    see :mod:`ecg2d.expert`.)
    """
    import keras
    from keras import layers

    init = "glorot_uniform"
    m = settings or ModelSettings()
    image_dropout, rr_units = m.image_dropout, m.rr_units
    image = keras.Input((m.input_size, m.input_size, 1), name="image")
    x = layers.Rescaling(-1.0 / 255.0, offset=1.0, name="invert")(image)
    for b, width in enumerate(m.filters, start=1):
        for c in range(1, m.convs_per_block + 1):
            x = layers.Conv2D(
                width, 3, padding="same", kernel_initializer=init, name=f"block{b}_conv{c}"
            )(x)
            x = layers.ELU(name=f"block{b}_elu{c}")(x)
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"block{b}_bn{c}")(x)
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
    if m.head == "flatten":
        x = layers.Flatten(name="flatten")(x)
    elif m.head == "global_average":
        x = layers.GlobalAveragePooling2D(name="global_average")(x)
    else:
        raise ValueError(f"head: unknown head {m.head!r} (flatten or global_average)")
    inputs = [image]
    r = None
    if m.rr_features:
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
    x = layers.Dense(m.dense_units, kernel_initializer=init, name="dense")(x)
    x = layers.ELU(name="dense_elu")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="dense_bn")(x)
    x = layers.Dropout(m.dropout, name="dropout")(x)
    if r is not None and m.rr_logits:
        logits = layers.Dense(n_classes, kernel_initializer=init, name="logits")(x)
        rr_out = layers.Dense(n_classes, kernel_initializer=init, name="rr_logits")(r)
        x = layers.Add(name="image_and_rr_logits")([logits, rr_out])
        out = layers.Activation("softmax", name="softmax")(x)
    else:
        out = layers.Dense(
            n_classes, activation="softmax", kernel_initializer=init, name="softmax"
        )(x)
    return keras.Model(inputs, out, name="ecg2d_cnn")


def make_optimizer(
    name: str,
    learning_rate: float,
    schedule: str = "constant",
    steps: int = 0,
    weight_decay: float = 0.0,
):
    """A Keras optimiser by name: ``adam``, ``sgd`` (momentum 0.9) or ``rmsprop``.

    ``schedule`` ``cosine`` decays the learning rate over ``steps`` steps to 5 % of its start.
    ``weight_decay`` > 0 shrinks every weight by ``learning_rate * weight_decay`` each step,
    apart from the gradient step (decoupled, as Keras 3 does it for every optimiser; with
    ``adam`` this is AdamW).
    """
    import keras

    if schedule == "cosine" and steps > 0:
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.05)
    elif schedule not in ("constant", "cosine"):
        raise ValueError(f"lr_schedule: unknown schedule {schedule!r} (constant or cosine)")
    if weight_decay < 0:
        raise ValueError(f"weight_decay: {weight_decay} is negative")
    decay = {"weight_decay": weight_decay} if weight_decay > 0 else {}
    if name == "adam":
        return keras.optimizers.Adam(learning_rate, **decay)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9, **decay)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate, **decay)
    raise ValueError(f"optimizer: unknown optimiser {name!r} (adam, sgd or rmsprop)")


def make_loss(label_smoothing: float = 0.0, focal_gamma: float = 0.0, dense: bool = False):
    """The training loss on integer labels (with ``dense``, on per-class target rows, e.g.
    mixup's blended ones: the same losses without the one-hot step): sparse categorical
    cross-entropy, or with
    ``label_smoothing`` > 0 the cross-entropy against targets that put ``1 - label_smoothing``
    on the true class and spread ``label_smoothing`` evenly over all classes (Szegedy et al.
    2016), as ``keras.losses.CategoricalCrossentropy(label_smoothing=...)`` does on one-hot
    labels. With ``focal_gamma`` > 0, the focal loss (Lin et al. 2017) against the same
    targets: each class's term of the cross-entropy weighed by ``(1 - p)^focal_gamma``, as
    ``keras.losses.CategoricalFocalCrossentropy`` with ``alpha`` 1 computes it, so that beats
    the network already gets right weigh less. The loss is not saved with the model
    (``include_optimizer=False``; prediction loads with ``compile=False``)."""
    import keras

    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing: {label_smoothing} is outside [0, 1)")
    if not focal_gamma >= 0.0:
        raise ValueError(f"focal_gamma: {focal_gamma} is below 0")
    if label_smoothing == 0.0 and focal_gamma == 0.0 and not dense:
        return "sparse_categorical_crossentropy"
    if focal_gamma > 0.0:
        on_rows = keras.losses.CategoricalFocalCrossentropy(
            alpha=1.0, gamma=focal_gamma, label_smoothing=label_smoothing
        )
    else:
        on_rows = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    if dense:
        return on_rows

    def sparse_loss(y_true, y_pred):
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        return on_rows(keras.ops.one_hot(labels, keras.ops.shape(y_pred)[-1]), y_pred)

    return sparse_loss


#: The thread count that :func:`limit_threads` set in this process (None: not called yet).
_THREADS: str | None = None


def limit_threads(n: int) -> None:
    """Use at most ``n`` CPU threads in TensorFlow, OpenMP and OpenCV, and oneDNN's kernels.

    Call before Keras is imported (TensorFlow reads its thread counts once, at start-up);
    called first after TensorFlow was imported, it raises ``RuntimeError`` rather than do
    nothing (called again with the same ``n``, e.g. once per seed, it does nothing).
    TensorFlow turns its oneDNN kernels on by itself only on CPUs with AVX512_VNNI, BF16 or
    AMX; elsewhere (e.g. AMD EPYC without AVX-512) it falls back to slower Eigen kernels.
    ``TF_ENABLE_ONEDNN_OPTS=1`` asks for oneDNN everywhere: on one 2-core AMD EPYC the default
    network trained at 325 images/s without it, 514 with it capped to AVX2
    (``ONEDNN_MAX_CPU_ISA=AVX2``, as on CPUs without AVX-512) and 606 with AVX-512
    (``bench/model_speed.py``; issue 11). CPUs with and without AVX-512 then run the same
    kind of kernels. A value the user set is kept.
    """
    import os
    import sys

    global _THREADS
    n = str(max(1, int(n)))
    if _THREADS is not None:  # set by an earlier call: again with the same n is a no-op
        if n != _THREADS:
            raise RuntimeError(
                f"limit_threads({n}) after limit_threads({_THREADS}): the thread counts of a "
                "process are set once"
            )
        return
    if "tensorflow" in sys.modules:
        raise RuntimeError(
            "limit_threads() was called after TensorFlow was imported, whose thread counts and "
            "oneDNN setting are fixed at import: call it before importing keras or the modules "
            "that import it (ecg2d.train, ecg2d.feed, ecg2d.callbacks)"
        )
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    for key in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(key, n)
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1" if n == "1" else "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import cv2

    cv2.setNumThreads(1)
    _THREADS = n
