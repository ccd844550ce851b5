"""Model and training settings: their one home, the presets, and the typed resolved objects.

Every model and training setting is a field of :class:`ModelSettings` or
:class:`TrainSettings`; the field's default is the ``default`` preset's value, defined here
and nowhere else (``config/schema.yaml`` describes and validates the keys; a test checks that
its ``model:`` and ``train:`` keys are exactly these fields). A preset (:data:`PRESETS`) is a
set of overrides of those defaults; an experiment's ``model:`` and ``train:`` keys override its
preset. :func:`resolve_settings` resolves an experiment's settings once into a frozen
:class:`Settings`, which ``build_model`` and ``fit_model`` take whole.

Sizes: ``model.input_size`` is the side of the network's input; the workflow's ``image_size``
is the side of the rendered beat PNGs, which are area-resized to ``input_size``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelSettings:
    """The network (see :func:`ecg2d.model.build_model`) and the rhythm expert fused with it.

    Defaults: the ``default`` preset, sized for ``make run`` on a 2-core CPU.
    ``rr_features: None`` means on for inter_patient experiments, off for intra_patient ones
    (:func:`resolve_settings` decides it).
    """

    input_size: int = 48
    filters: tuple[int, ...] = (16, 32, 64)
    convs_per_block: int = 2
    dense_units: int = 128
    dropout: float = 0.5
    head: str = "flatten"
    rr_features: bool | None = None
    rr_units: int = 32
    rr_irregularity: bool = False
    rr_logits: bool = False
    image_dropout: float = 0.0
    expert: str = "none"
    fusion_weight: float = 1.0
    #: the tree experts' fewest training beats per leaf (scikit-learn's min_samples_leaf)
    expert_min_leaf: int = 20
    #: how the expert weighs its training beats: class | record | record_sqrt
    expert_weights: str = "class"
    #: factors on classes' final probabilities before the argmax (an operating point)
    class_factors: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TrainSettings:
    """Training (see :func:`ecg2d.train.fit_model`). Defaults: the ``default`` preset."""

    optimizer: str = "adam"
    learning_rate: float = 0.001
    #: decoupled weight decay per step, times the learning rate (0: none)
    weight_decay: float = 0.0
    lr_schedule: str = "cosine"
    batch_size: int = 64
    epochs: int = 8
    balance: str = "sampling"
    samples_per_class: int | None = 1500
    samples_per_epoch: int | None = None
    max_per_class: int | None = None
    use_crops: bool = True
    validation_fraction: float = 0.1
    validation_records: tuple[str, ...] = ()
    monitor: str = "val_macro_f1"
    patience: int = 3
    #: share of the target spread evenly over the classes (0: plain cross-entropy)
    label_smoothing: float = 0.0
    #: focusing exponent of the focal loss, (1 - p)^gamma on each beat's cross-entropy (0: none)
    focal_gamma: float = 0.0
    #: mixup's Beta(alpha, alpha) for the share of each training image kept (0: no mixup)
    mixup_alpha: float = 0.0


@dataclass(frozen=True)
class Settings:
    """An experiment's resolved model and training settings, and the preset they start from."""

    preset: str = "default"
    model: ModelSettings = field(default_factory=ModelSettings)
    train: TrainSettings = field(default_factory=TrainSettings)

    def as_dict(self) -> dict:
        """``{"preset", "model": {...}, "train": {...}}`` with lists, for JSON."""
        return {
            "preset": self.preset,
            "model": _plain(dataclasses.asdict(self.model)),
            "train": _plain(dataclasses.asdict(self.train)),
        }


#: Overrides of the defaults, per preset: ``{"model": {...}, "train": {...}}``.
PRESETS: dict[str, dict[str, dict]] = {
    "default": {"model": {}, "train": {}},
    # A few seconds on a CPU: for tests only.
    "tiny": {
        "model": {
            "input_size": 32,
            "filters": (4, 8),
            "convs_per_block": 1,
            "dense_units": 16,
            "rr_units": 8,
        },
        "train": {
            "learning_rate": 0.003,
            "batch_size": 32,
            "epochs": 1,
            "samples_per_class": 32,
            "patience": 0,
        },
    },
    # The seed's network at 128 px (Jun et al. 2018), every image, no balancing: for a GPU.
    "paper": {
        "model": {
            "input_size": 128,
            "filters": (64, 128, 256),
            "convs_per_block": 2,
            "dense_units": 2048,
            "dropout": 0.5,
        },
        "train": {
            "learning_rate": 0.0001,
            "lr_schedule": "constant",
            "batch_size": 128,
            "epochs": 30,
            "balance": "none",
            "samples_per_class": None,
            "patience": 5,
            "label_smoothing": 0.0,
            "weight_decay": 0.0,
        },
    },
}

#: Fields of the model and training settings, in their order.
MODEL_KEYS = tuple(f.name for f in dataclasses.fields(ModelSettings))
TRAIN_KEYS = tuple(f.name for f in dataclasses.fields(TrainSettings))


def _plain(values: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def _typed(values: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def _section(cls, section: str, *layers: dict):
    keys = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for layer in layers:
        unknown = set(layer or {}) - keys
        if unknown:
            raise ValueError(f"{section}: unknown keys {sorted(unknown)}")
        values.update(_typed(dict(layer or {})))
    return cls(**values)


def preset_settings(name: str) -> Settings:
    """A preset's settings (``rr_features`` left as the preset has it)."""
    if name not in PRESETS:
        raise ValueError(f"preset: unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    preset = PRESETS[name]
    return Settings(
        preset=name,
        model=_section(ModelSettings, "model", preset["model"]),
        train=_section(TrainSettings, "train", preset["train"]),
    )


def preset_keys(name: str) -> dict:
    """The keys that preset ``name`` itself sets, as configuration (``{"model": {...},
    "train": {...}}``, lists for tuples). An experiment's own ``model:`` and ``train:`` keys win
    over its preset, so a configuration that means "this preset as defined" (config/paper.yaml,
    bench/gpu_paper.sh) sets these keys beside ``preset:``."""
    if name not in PRESETS:
        raise ValueError(f"preset: unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return {section: _plain(PRESETS[name][section]) for section in ("model", "train")}


def resolve_settings(experiment: dict) -> Settings:
    """An experiment's :class:`Settings`: its preset overridden by its ``model:`` and
    ``train:`` keys (unknown keys are a ValueError naming them).

    ``model.rr_features`` left at ``None`` becomes ``True`` for inter_patient experiments and
    ``False`` for intra_patient ones.
    """
    name = experiment.get("preset", "default")
    preset = preset_settings(name)
    model = _section(
        ModelSettings, "model", dataclasses.asdict(preset.model), experiment.get("model")
    )
    train = _section(
        TrainSettings, "train", dataclasses.asdict(preset.train), experiment.get("train")
    )
    if model.rr_features is None:
        model = dataclasses.replace(
            model, rr_features=experiment.get("protocol") == "inter_patient"
        )
    return Settings(preset=name, model=model, train=train)
