"""The rhythm expert: a logistic regression on record-relative beat features, fused with the CNN.

Beat shape does not carry rhythm, and a CNN trained on a few patients learns their shapes. A
premature supraventricular beat is, first of all, early *for its record*. The expert sees only
that: four features of each beat's RR context (:data:`EXPERT_FEATURES`), each relative to the
record's own mean RR interval, so that they mean the same on any recording, at any sampling
rate and heart rate:

- ``log(pre_rr / record_rr)``, ``log(post_rr / record_rr)``, ``log(local_rr / record_rr)``;
- ``log(rr_irregularity + 0.01)`` (:func:`ecg2d.segment.rr_irregularity`);
- with kind ``rr_shape``, also the beat's QRS shape relative to its record's usual beat
  (:mod:`ecg2d.shape`: correlation with the record's median QRS, log amplitude and width ratios);
- with kind ``gbm``, the ``rr_shape`` features and ``log(rhythm_irregularity + 0.01)``, the
  rhythm's irregularity over about a minute (:func:`ecg2d.segment.rhythm_irregularity`);
- with kind ``gbm_af``, also ``log(rhythm_cells + 0.01)``, how scattered the successive RR
  differences are over the same beats (:func:`ecg2d.segment.rhythm_cells`), which tells atrial
  fibrillation (scattered) from frequent ectopy (a few recurring patterns), both irregular;
- with kind ``gbm_2lead``, also the QRS shape in the record's other lead
  (:data:`ecg2d.shape.SHAPE2_COLUMNS`, whatever the lead), missing (NaN) for a one-lead record:
  the trees send missing values down the branch they learnt for them;
- with kind ``gbm_premature``, also the beat's prematurity against the rhythm around it, in a
  way that holds when ectopic beats are frequent (:data:`ecg2d.rr.PREMATURITY_COLUMNS`):
  ``log(pre_rr / prev_rr)``, the sudden shortening of the cycle, and ``log(pre_rr / upper_rr)``
  and ``log(post_rr / upper_rr)``, early and compensatory intervals against the dominant cycle
  (the upper quartile of RR over about a minute), which the record's mean RR stops being once
  premature beats are many;
- with kind ``gbm_unusual``, also how unusual the beat is for its own record
  (:data:`ecg2d.rr.UNUSUAL_COLUMNS`): robust z-scores, against all the record's beats, of
  ``log(pre_rr / upper_rr)``, ``log(pre_rr / prev_rr)`` and the QRS correlation, so that the
  trees need not learn from the rhythm columns how much a ratio means in each rhythm;
- with kind ``gbm_pwave``, also how unusual the atrial activity before the beat is for its
  record (:data:`ecg2d.rr.PWAVE_COLUMNS`): the robust z-score of its P-wave likeness
  (:func:`ecg2d.shape.p_wave_likeness`), low for an ectopic or missing P wave in a record whose
  P waves are alike, near 0 throughout atrial fibrillation;
- with kind ``gbm_psinus``, that score judged against the record's *sinus* beats instead
  (:data:`ecg2d.rr.PSINUS_COLUMNS`, in place of ``gbm_pwave``'s): the P-wave template, median
  and spread taken over the beats that are not premature against the dominant cycle
  (:func:`ecg2d.rr.sinus_reference`), so that it holds where premature beats are the majority;
- with kind ``gbm_gated``, ``gbm_psinus``'s features with how unusual the beat is judged
  against the rhythm the premature beats interrupt (:data:`ecg2d.rr.GATED_COLUMNS`, in place of
  :data:`ecg2d.rr.UNUSUAL_COLUMNS`): the z-scores with median and spread over the beats that
  are not premature, except in atrial fibrillation told from the intervals between those beats
  (:func:`ecg2d.fibrillation.fibrillation_between`), where they are the ones against all beats;
  a premature beat then stays unusual where premature beats are as many as sinus beats;
- with kind ``gbm_long``, ``gbm_gated``'s features judged against :mod:`ecg2d.regime`'s
  dominant cycle, the longer of two interval groups where the intervals fall into two
  (:data:`ecg2d.regime.LONG_COLUMNS` and ``z_p_long`` in place of :data:`ecg2d.rr.GATED_COLUMNS`
  and ``z_p_sinus``); ``gbm_long_robust`` gives the trees only those scores, the P wave and the
  QRS shape in both leads (:data:`FEATURE_SUBSETS`);
- kind ``gbm_regime`` is made of three of these (:data:`COMPOSITE_KINDS`, :func:`regime_proba`):
  where premature beats set the cycle (the longer group does) and the beats ending the longer
  group share a P wave (:data:`ecg2d.regime.REGIME_COLUMNS`), each beat takes the
  probabilities of whichever of ``gbm_long`` and ``gbm_long_robust`` gives S more; everywhere
  else ``gbm_gated``'s. Where runs of premature atrial cycles are most of a record's beats, the
  features against the record's mean and upper quartile call them sinus; there the other two
  read them against the sinus cycle the pauses show (issue 10's stress test,
  ``bench/ds1_stress.py``; chosen on DS1 by ``bench/ds1_coherent_gated_probe.py``).

Kinds ``rr`` and ``rr_shape`` are a multinomial logistic regression with balanced class
weights. Kinds ``gbm``, ``gbm_af``, ``gbm_2lead``, ``gbm_premature``, ``gbm_unusual``,
``gbm_pwave``, ``gbm_psinus``, ``gbm_gated``, ``gbm_long`` and ``gbm_long_robust`` (and so
``gbm_regime``) are gradient-boosted trees (scikit-learn's
``HistGradientBoostingClassifier``, balanced class weights): trees can learn that a short RR
interval means a premature beat in a regular rhythm and nothing in atrial fibrillation, which a
linear model cannot. Both are fitted with scikit-learn, applied with NumPy and stored as plain
numbers in ``model.json`` (never pickled). Their class probabilities are fused with the CNN's by
a weighted geometric mean (:func:`fuse`): ``p ∝ p_cnn^w · p_expert^(1-w)``, with ``w`` the
model setting ``fusion_weight``, chosen by cross-validation over DS1 records
(``bench/ds1_fusion.py``), never on DS2 (0: the expert alone).
"""

from __future__ import annotations

import numpy as np

from ecg2d.regime import LONG_COLUMNS, PLONG_COLUMNS, REGIME_COLUMNS, coherent_regime
from ecg2d.rr import (
    GATED_COLUMNS,
    IRREGULARITY_FLOOR,
    MIN_RR,
    PREMATURITY_COLUMNS,
    PSINUS_COLUMNS,
    PWAVE_COLUMNS,
    RHYTHM_COLUMNS,
    RR_CONTEXT,
    UNUSUAL_COLUMNS,
    check_finite,
)
from ecg2d.settings import ModelSettings
from ecg2d.shape import SHAPE2_COLUMNS, SHAPE_COLUMNS

#: RR context columns the ``rr`` expert reads (manifest and beats-file columns).
EXPERT_COLUMNS = RR_CONTEXT
#: Names of the ``rr`` expert's features (:func:`expert_features`).
EXPERT_FEATURES = (
    "log_pre_over_record",
    "log_post_over_record",
    "log_local_over_record",
    "log_rr_irregularity",
)
#: Columns each expert kind reads; ``rr_shape`` adds the QRS shape to the RR context, ``gbm``
#: also the rhythm's irregularity around the beat, ``gbm_af`` every rhythm column,
#: ``gbm_2lead`` also the QRS shape in the other lead, ``gbm_premature`` also the prematurity
#: columns, ``gbm_unusual`` also how unusual the beat is for its record, ``gbm_pwave`` also
#: how unusual its atrial activity is.
KIND_COLUMNS = {
    "rr": RR_CONTEXT,
    "rr_shape": (*RR_CONTEXT, *SHAPE_COLUMNS),
    "gbm": (*RR_CONTEXT, *SHAPE_COLUMNS, RHYTHM_COLUMNS[0]),
    "gbm_af": (*RR_CONTEXT, *SHAPE_COLUMNS, *RHYTHM_COLUMNS),
    "gbm_2lead": (*RR_CONTEXT, *SHAPE_COLUMNS, *RHYTHM_COLUMNS, *SHAPE2_COLUMNS),
    "gbm_premature": (
        *RR_CONTEXT,
        *SHAPE_COLUMNS,
        *RHYTHM_COLUMNS,
        *SHAPE2_COLUMNS,
        *PREMATURITY_COLUMNS,
    ),
}
KIND_COLUMNS["gbm_unusual"] = (*KIND_COLUMNS["gbm_premature"], *UNUSUAL_COLUMNS)
KIND_COLUMNS["gbm_pwave"] = (*KIND_COLUMNS["gbm_unusual"], *PWAVE_COLUMNS)
KIND_COLUMNS["gbm_psinus"] = (*KIND_COLUMNS["gbm_unusual"], *PSINUS_COLUMNS)
KIND_COLUMNS["gbm_gated"] = tuple(
    dict(zip(UNUSUAL_COLUMNS, GATED_COLUMNS)).get(c, c) for c in KIND_COLUMNS["gbm_psinus"]
)
KIND_COLUMNS["gbm_long"] = tuple(
    {**dict(zip(GATED_COLUMNS, LONG_COLUMNS)), **dict(zip(PSINUS_COLUMNS, PLONG_COLUMNS))}.get(c, c)
    for c in KIND_COLUMNS["gbm_gated"]
)
KIND_COLUMNS["gbm_long_robust"] = KIND_COLUMNS["gbm_long"]
#: Kinds made of other kinds' experts, each fitted on the same beats (:func:`fit_expert`) and
#: applied per beat by :func:`regime_proba`: ``gbm_regime``'s experts where premature beats set
#: the cycle (the first two) and everywhere else (the third).
COMPOSITE_KINDS = {"gbm_regime": ("gbm_long", "gbm_long_robust", "gbm_gated")}
KIND_COLUMNS["gbm_regime"] = tuple(
    dict.fromkeys((*KIND_COLUMNS["gbm_long"], *REGIME_COLUMNS, *KIND_COLUMNS["gbm_gated"]))
)
#: Columns that may be missing (NaN): the other lead's, which a one-lead record lacks.
MAY_BE_MISSING = SHAPE2_COLUMNS


#: The features an expert makes of the prematurity columns (:func:`expert_features`).
PREMATURITY_FEATURES = {
    "prev_rr": ("log_pre_over_prev",),
    "upper_rr": ("log_pre_over_upper", "log_post_over_upper"),
}


def _feature_names(column: str) -> tuple[str, ...]:
    """The features an expert makes of a column (:func:`expert_features`)."""
    if column in RHYTHM_COLUMNS:
        return (f"log_{column}",)
    if column in PREMATURITY_FEATURES:
        return PREMATURITY_FEATURES[column]
    return (column,)  # QRS shape: already record-relative


def _features_of(columns) -> tuple[str, ...]:
    """The features :func:`expert_features` makes of ``columns`` (the RR context first)."""
    return (
        *EXPERT_FEATURES,
        *(name for c in columns[len(RR_CONTEXT) :] for name in _feature_names(c)),
    )


KIND_FEATURES = {kind: _features_of(columns) for kind, columns in KIND_COLUMNS.items()}
#: Kinds given only some of the features of their columns: ``gbm_long_robust`` only what
#: holds where premature beats set the cycle (the QRS shape in both leads, the scores against
#: the longer interval group and the P wave against the beats ending it), not the intervals
#: against the record's mean or upper quartile or the rhythm's irregularity, which mislead
#: there.
FEATURE_SUBSETS = {
    "gbm_long_robust": (*SHAPE_COLUMNS, *SHAPE2_COLUMNS, *LONG_COLUMNS, *PLONG_COLUMNS),
}
KIND_FEATURES.update(FEATURE_SUBSETS)
KIND_FEATURES["gbm_regime"] = KIND_COLUMNS["gbm_regime"]  # its experts make their own
#: Expert kinds that are gradient-boosted trees (the others are logistic regressions).
TREE_KINDS = (
    "gbm",
    "gbm_af",
    "gbm_2lead",
    "gbm_premature",
    "gbm_unusual",
    "gbm_pwave",
    "gbm_psinus",
    "gbm_gated",
    "gbm_long",
    "gbm_long_robust",
)
#: The trees' settings (scikit-learn's ``HistGradientBoostingClassifier``): a fixed number of
#: iterations, no early stopping (whose internal split needs two beats of every class).
TREE_SETTINGS = {
    "max_iter": 200,
    "learning_rate": 0.1,
    "max_leaf_nodes": 15,
    "early_stopping": False,
}
#: The trees' fewest training beats per leaf, where no ``min_leaf`` is given: the default of
#: ``model.expert_min_leaf`` (its home is :class:`ecg2d.settings.ModelSettings`).
MIN_LEAF = ModelSettings.expert_min_leaf
#: How the expert weighs its training beats, the ``model.expert_weights`` setting
#: (:func:`beat_weights`).
WEIGHTINGS = ("class", "record", "record_sqrt")
#: Expert kinds of the ``model.expert`` setting.
EXPERTS = ("none", *KIND_COLUMNS)
#: Inverse L2 regularisation of the logistic regression (features are standardised).
C = 1.0
#: Probability floor before logarithms in :func:`fuse`.
EPS = 1e-6


def expert_features(rr, kind: str = "rr") -> np.ndarray:
    """N x len(``KIND_FEATURES[kind]``) features of beats' columns ``rr``
    (N x len(``KIND_COLUMNS[kind]``): the RR context, then the kind's other columns). Only the
    other lead's columns (:data:`MAY_BE_MISSING`) may be NaN."""
    if kind not in KIND_COLUMNS:
        raise ValueError(f"model.expert: unknown expert {kind!r}; one of {EXPERTS}")
    if kind in COMPOSITE_KINDS:
        raise ValueError(f"expert {kind!r} is made of {COMPOSITE_KINDS[kind]}, with no features")
    columns = KIND_COLUMNS[kind]
    rr = np.asarray(rr, dtype=np.float64)
    if rr.ndim != 2 or rr.shape[1] != len(columns):
        raise ValueError(f"rr must be N x {len(columns)} {columns}, got {rr.shape}")
    optional = np.isin(columns, MAY_BE_MISSING)
    check_finite(rr[:, ~optional], tuple(np.asarray(columns)[~optional]))
    if np.isinf(rr[:, optional]).any():
        raise ValueError(f"rr has infinite values in {list(np.asarray(columns)[optional])}")
    pre, post, local, record = np.maximum(rr[:, :4], MIN_RR).T
    irregularity = np.maximum(rr[:, 4], 0.0) + IRREGULARITY_FLOOR
    features = [
        np.log(pre / record),
        np.log(post / record),
        np.log(local / record),
        np.log(irregularity),
    ]
    for column, values in zip(columns[len(RR_CONTEXT) :], rr[:, len(RR_CONTEXT) :].T):
        if column in RHYTHM_COLUMNS:
            features.append(np.log(np.maximum(values, 0.0) + IRREGULARITY_FLOOR))
        elif column == "prev_rr":
            features.append(np.log(pre / np.maximum(values, MIN_RR)))
        elif column == "upper_rr":
            upper = np.maximum(values, MIN_RR)
            features.extend([np.log(pre / upper), np.log(post / upper)])
        else:
            features.append(values)  # QRS shape, either lead: already record-relative
    x = np.stack(features, axis=1)
    if kind in FEATURE_SUBSETS:
        names = _features_of(columns)
        x = x[:, [names.index(f) for f in FEATURE_SUBSETS[kind]]]
    return x


def beat_weights(labels, records, weighting: str) -> np.ndarray | None:
    """Training weights of beats of ``labels`` from ``records``, by ``model.expert_weights``.

    Every class present weighs the same in total (balanced class weights) in every mode. With
    ``class`` that is all, and ``None`` is returned: the estimators' own balanced class weights.
    Within each class, ``record`` gives every record the same share, and ``record_sqrt`` gives
    each a share in proportion to the square root of its beats of that class (between the
    beats' count and equal shares), so that a class's rule is not one patient's when one
    record holds most of the class's beats. The weights average 1.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"model.expert_weights: unknown {weighting!r}; one of {WEIGHTINGS}")
    if weighting == "class":
        return None
    labels = np.asarray(labels, dtype=str)
    if records is None or len(records) != len(labels):
        raise ValueError(f"model.expert_weights {weighting!r} needs each beat's record")
    records = np.asarray(records, dtype=str)
    weights = np.zeros(len(labels))
    present = np.unique(labels)
    for label in present:
        in_class = labels == label
        names, index, counts = np.unique(records[in_class], return_inverse=True, return_counts=True)
        share = np.ones(len(names)) if weighting == "record" else np.sqrt(counts)
        share = share / share.sum()  # each record's share of its class
        weights[in_class] = share[index] / counts[index]
    return weights * len(labels) / len(present)


def fit_expert(
    rr,
    labels,
    classes,
    seed: int = 0,
    kind: str = "rr",
    min_leaf: int = MIN_LEAF,
    records=None,
    weighting: str = "class",
) -> dict:
    """Fit the expert on beats' RR context and labels; return its JSON-ready parameters.

    ``{"kind": "rr", "features", "classes", "mean", "scale", "coef", "intercept", "n_train"}``
    for the logistic regressions; the trees' kinds (:data:`TREE_KINDS`) have ``"trees"`` and
    ``"baseline"`` instead of ``coef`` and ``intercept`` (:func:`fit_trees`, at least
    ``min_leaf`` beats per leaf, recorded as ``"min_leaf"``). The beats are weighed by
    ``weighting`` (:func:`beat_weights`, with ``records`` each beat's record), recorded as
    ``"weighting"``. Classes absent from the training beats get no weight and a very low
    intercept (probability 0 for trees), so they are never chosen by the expert alone.
    """
    if kind in COMPOSITE_KINDS:
        return fit_composite(rr, labels, classes, seed, kind, min_leaf, records, weighting)
    x = expert_features(rr, kind)
    labels = np.asarray(labels, dtype=str)
    classes = [str(c) for c in classes]
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        raise ValueError(f"labels {unknown} are not among the classes {classes}")
    present = [c for c in classes if c in set(labels)]
    if len(present) < 2:
        raise ValueError(f"the rhythm expert needs beats of two classes at least, got {present}")
    weights = beat_weights(labels, records, weighting)
    fitted = (
        fit_trees(x, labels, seed, min_leaf, weights)
        if kind in TREE_KINDS
        else fit_logistic(x, labels, classes, seed, weights)
    )
    return {
        "kind": kind,
        "weighting": weighting,
        "features": list(KIND_FEATURES[kind]),
        "columns": list(KIND_COLUMNS[kind]),
        "classes": classes,
        **fitted,
        "n_train": int(len(labels)),
    }


def _columns_of(rr, kind: str, part: str) -> np.ndarray:
    """The columns of expert ``part`` taken by name from ``rr`` (N x ``KIND_COLUMNS[kind]``)."""
    rr = np.asarray(rr, dtype=np.float64)
    columns = KIND_COLUMNS[kind]
    if rr.ndim != 2 or rr.shape[1] != len(columns):
        raise ValueError(f"rr must be N x {len(columns)} {columns}, got {rr.shape}")
    return rr[:, [columns.index(c) for c in KIND_COLUMNS[part]]]


def fit_composite(rr, labels, classes, seed, kind, min_leaf, records, weighting) -> dict:
    """A composite kind (:data:`COMPOSITE_KINDS`): each of its experts fitted by
    :func:`fit_expert` on the same beats, ``{"kind", "weighting", "columns", "classes",
    "experts": {part: expert}, "n_train"}``. ``gbm_regime`` needs a class ``S``."""
    classes = [str(c) for c in classes]
    if "S" not in classes:
        raise ValueError(
            f"model.expert {kind!r} chooses between its experts by class S, and the classes "
            f"{classes} have none: use it with AAMI classes (the inter_patient protocol's)"
        )
    experts = {
        part: fit_expert(
            _columns_of(rr, kind, part), labels, classes, seed, part, min_leaf, records, weighting
        )
        for part in COMPOSITE_KINDS[kind]
    }
    return {
        "kind": kind,
        "weighting": weighting,
        "columns": list(KIND_COLUMNS[kind]),
        "classes": classes,
        "experts": experts,
        "n_train": int(len(labels)),
    }


def regime_proba(expert: dict, rr) -> np.ndarray:
    """``gbm_regime``'s class probabilities: where premature beats set the cycle and the beats
    ending the longer interval group share a P wave (:func:`ecg2d.regime.coherent_regime` of
    the beats' :data:`ecg2d.regime.REGIME_COLUMNS`), those of whichever of its first two
    experts gives class S more; elsewhere its third's (``gbm_gated``)."""
    kind = expert["kind"]
    inside, robust, outside = (
        expert_proba(expert["experts"][part], _columns_of(rr, kind, part))
        for part in COMPOSITE_KINDS[kind]
    )
    columns = KIND_COLUMNS[kind]
    rr = np.asarray(rr, dtype=np.float64)
    regime = coherent_regime(*(rr[:, columns.index(c)] for c in REGIME_COLUMNS))
    s = list(expert["classes"]).index("S")
    inside = np.where((robust[:, s] > inside[:, s])[:, None], robust, inside)
    return np.where(regime[:, None], inside, outside)


def fit_logistic(
    x: np.ndarray, labels: np.ndarray, classes: list[str], seed: int, weights=None
) -> dict:
    """The logistic regression of standardised features ``x``, with balanced class weights or
    the beats' ``weights`` (:func:`beat_weights`), as plain numbers: ``{"mean", "scale",
    "coef", "intercept"}`` (a row per class of ``classes``)."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)
    model = LogisticRegression(
        class_weight="balanced" if weights is None else None,
        C=C,
        max_iter=5000,
        random_state=seed,
    )
    model.fit((x - mean) / scale, labels, sample_weight=weights)
    coef = np.zeros((len(classes), x.shape[1]))
    intercept = np.full(len(classes), -30.0)
    fitted = [str(c) for c in model.classes_]
    for i, c in enumerate(fitted):
        k = classes.index(c)
        if len(fitted) == 2:  # binary: one row of coefficients for the second class
            sign = 1.0 if i == 1 else -1.0
            coef[k], intercept[k] = sign * model.coef_[0] / 2, sign * model.intercept_[0] / 2
        else:
            coef[k], intercept[k] = model.coef_[i], model.intercept_[i]
    return {
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "coef": coef.tolist(),
        "intercept": intercept.tolist(),
    }


def fit_trees(
    x: np.ndarray, labels: np.ndarray, seed: int, min_leaf: int = MIN_LEAF, weights=None
) -> dict:
    """Gradient-boosted trees (:data:`TREE_SETTINGS`, at least ``min_leaf`` training beats per
    leaf, balanced class weights or the beats' ``weights``, :func:`beat_weights`) of features
    ``x``, as plain numbers:
    ``{"tree_classes", "baseline", "trees", "min_leaf"}``.

    ``trees`` holds, per boosting iteration, one tree per class (one for two classes), each
    ``{"feature", "threshold", "missing_left", "left", "right", "leaf", "value"}`` node arrays:
    a row goes left where ``x[feature] <= threshold``, or where ``x[feature]`` is missing (NaN)
    and ``missing_left`` (as scikit-learn routes it), and the leaves' values (already scaled by
    the learning rate) add up to the class's raw score, which starts at ``baseline``.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        class_weight="balanced" if weights is None else None,
        random_state=seed,
        min_samples_leaf=min_leaf,
        **TREE_SETTINGS,
    )
    model.fit(x, labels, sample_weight=weights)
    # The fitted trees are read from the estimator's predictors (sklearn's own layout, checked
    # against its predict_proba by the tests), and stored as JSON numbers, never pickled.
    trees = [
        [
            {
                "feature": predictor.nodes["feature_idx"].tolist(),
                "threshold": predictor.nodes["num_threshold"].tolist(),
                "missing_left": predictor.nodes["missing_go_to_left"].astype(bool).tolist(),
                "left": predictor.nodes["left"].tolist(),
                "right": predictor.nodes["right"].tolist(),
                "leaf": predictor.nodes["is_leaf"].astype(bool).tolist(),
                "value": predictor.nodes["value"].tolist(),
            }
            for predictor in iteration
        ]
        for iteration in model._predictors
    ]
    return {
        "tree_classes": [str(c) for c in model.classes_],
        "baseline": np.asarray(model._baseline_prediction, dtype=np.float64).ravel().tolist(),
        "trees": trees,
        "min_leaf": int(min_leaf),
    }


def _tree_values(tree: dict, x: np.ndarray) -> np.ndarray:
    """The leaf value each row of ``x`` reaches in one tree of :func:`fit_trees`."""
    feature, threshold = np.asarray(tree["feature"]), np.asarray(tree["threshold"])
    left, right = np.asarray(tree["left"]), np.asarray(tree["right"])
    leaf, value = np.asarray(tree["leaf"], dtype=bool), np.asarray(tree["value"])
    # trees stored before missing values existed had none to route
    missing_left = np.asarray(tree["missing_left"], dtype=bool) if "missing_left" in tree else None
    node = np.zeros(len(x), dtype=np.int64)
    rows = np.arange(len(x))
    for _ in range(len(feature)):  # a path is never longer than the tree has nodes
        inner = ~leaf[node]
        if not inner.any():
            break
        value_at = x[rows, feature[node]]
        go_left = value_at <= threshold[node]
        if missing_left is not None:  # NaN compares False: its own branch
            go_left |= np.isnan(value_at) & missing_left[node]
        node = np.where(inner, np.where(go_left, left[node], right[node]), node)
    return value[node]


def _tree_proba(expert: dict, x: np.ndarray) -> np.ndarray:
    raw = np.tile(np.asarray(expert["baseline"], dtype=np.float64), (len(x), 1))
    for iteration in expert["trees"]:
        for k, tree in enumerate(iteration):
            raw[:, k] += _tree_values(tree, x)
    if raw.shape[1] == 1:  # two classes: the score is the second one's log-odds
        raw = np.concatenate([np.zeros_like(raw), raw], axis=1)
    raw -= raw.max(axis=1, keepdims=True)
    p = np.exp(raw)
    p /= p.sum(axis=1, keepdims=True)
    out = np.zeros((len(x), len(expert["classes"])))
    out[:, [list(expert["classes"]).index(c) for c in expert["tree_classes"]]] = p
    return out


def expert_proba(expert: dict, rr) -> np.ndarray:
    """Class probabilities (N x classes, in ``expert["classes"]`` order) of the expert."""
    if expert.get("kind") in COMPOSITE_KINDS:
        return regime_proba(expert, rr)
    x = expert_features(rr, expert.get("kind", "rr"))
    if "trees" in expert:
        return _tree_proba(expert, x)
    x = (x - np.asarray(expert["mean"])) / np.asarray(expert["scale"])
    logits = x @ np.asarray(expert["coef"]).T + np.asarray(expert["intercept"])
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def fuse(p_cnn, p_expert, weight: float) -> np.ndarray:
    """Weighted geometric mean ``p_cnn^weight · p_expert^(1-weight)``, renormalised per row."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"fusion_weight must be within 0..1, got {weight}")
    log_p = weight * np.log(np.asarray(p_cnn, dtype=np.float64) + EPS) + (1.0 - weight) * np.log(
        np.asarray(p_expert, dtype=np.float64) + EPS
    )
    log_p -= log_p.max(axis=1, keepdims=True)
    p = np.exp(log_p)
    return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
