"""Evaluation of a trained classifier on an experiment's test split.

Metrics are computed from the confusion matrix (rows: true class, columns: predicted class) of
the test split's original beats -- crops never reach the test set -- extended by two kinds of
detector errors (experiments and datasets whose beats a QRS detector found):

- *missed* reference beats (no detection matched them): a miss (false negative) of their class,
  so sensitivity is over **all** reference beats of a class (ANSI/AAMI EC57);
- *unmatched* detections (no reference beat within 150 ms): counted, and false positives of
  their predicted class in the EC57 figures only.

Annotation-based experiments have neither. ``n_test`` counts the scored (classified) reference
beats, ``n_reference`` = ``n_test`` + ``n_missed``; accuracy is over ``n_reference`` (a missed
beat is not correctly classified).

Per class ``c`` (one-vs-rest, pooled over all reference beats of the test split, i.e. "gross"):

- sensitivity (Se, recall) = TP / (TP + FN), FN including the missed beats of ``c``
- positive predictivity (+P, PPV, precision) = TP / (TP + FP)
- specificity = TN / (TN + FP); false positive rate (FPR) = FP / (TN + FP) = 1 - specificity
- F1 = 2 TP / (2 TP + FP + FN)

A ratio whose denominator is zero is *undefined* and reported as ``null`` in JSON (``nan`` in
Python): the sensitivity of a class without test beats, the +P of a class never predicted, the
F1 of a class neither present nor predicted. Macro averages are the means over the classes
where the figure is defined. This is exactly scikit-learn's ``zero_division=np.nan``
(``precision_recall_fscore_support(..., average="macro", zero_division=np.nan)``). A class
with test beats that is never predicted thus has sensitivity 0, F1 0 and +P ``null``.

For AAMI experiments (classes N, S, V, F, Q) the gross figures of SVEB (S) and VEB (V) -- Se,
+P, FPR and the counts TP, FN, FP, TN -- are reported twice (:data:`CONVENTIONS`):

- ``aami_one_vs_rest``: one class against all others, over every reference beat of the test
  split, as the per-class figures above (an F beat called V is a false V; a Q beat called V too).
- ``aami_ec57``: ANSI/AAMI EC57 gross statistics as de Chazal et al. 2004 used them. Reference
  Q beats are excluded entirely; a beat predicted Q is a non-positive (a V beat called Q is a
  VEB false negative). VEB: TP = V called V, FN = the rest of the V row (missed beats
  included), FP = N and S beats and unmatched detections called V -- an F beat called V is
  *not* a false positive. SVEB: TP = S called S, FN = the rest of the S row (missed included),
  FP = N, V and F beats and unmatched detections called S. FPR = FP / (FP + TN), TN = the
  reference beats neither of the class nor Q that are not called the class.

Escape beats: labels come from the experiment's ``classes`` mapping; the shipped inter-patient
experiment maps ``e`` and ``j`` to N, as de Chazal did (some papers count them as SVEB, which
changes DS2's S count from 1,837 to 2,050).

Confidence intervals (:func:`bootstrap_matrices`): ``<figure>_ci95: [lo, hi]`` beside accuracy,
the macro Se/+P/F1, per-class Se/+P and both AAMI conventions' Se/+P/FPR -- 95 % percentile
bootstrap, ``n_boot`` seeded resamples of whole *records* (inter-patient: the beats of a record
are not independent) or of *beats* (intra-patient). A resample where a figure's denominator is
zero skips it; an interval is ``null`` if fewer than half the resamples define the figure.
Resampling works on per-record confusion matrices: a record draw is a multinomial count per
record, a beat draw a multinomial draw over the pooled matrix's cells, so 1,000 resamples of
the 49,668 DS2 beats take milliseconds.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from ecg2d.atomic import atomic_path, save_figure

AAMI_CLASSES = ("N", "S", "V", "F", "Q")
#: EC57 gross statistics: name -> (class, reference classes whose beats called it are FPs).
EC57 = {"SVEB": ("S", ("N", "V", "F")), "VEB": ("V", ("N", "S"))}
#: Reference classes left out of the EC57 statistics.
EC57_EXCLUDED = ("Q",)
#: Confidence level of the bootstrap intervals, and the least fraction of resamples that must
#: define a figure for its interval to be given.
CI_LEVEL, CI_MIN_DEFINED = 0.95, 0.5
BOOTSTRAP_UNITS = ("record", "beat")
#: The ``conventions`` key of metrics.json (see the module docstring).
CONVENTIONS = {
    "missed_beats": (
        "a reference beat no detection matched is a false negative of its class: Se is over "
        "all reference beats (n_reference = n_test + n_missed; accuracy over n_reference)"
    ),
    "unmatched_detections": (
        "detections with no reference beat: counted (n_unmatched_detections); false positives "
        "of their predicted class in aami_ec57 only"
    ),
    "one_vs_rest": (
        "per_class, macro and aami_one_vs_rest: one class against all others, over every "
        "reference beat of the test split (an F beat called V is a false V)"
    ),
    "ec57": (
        "aami_ec57: ANSI/AAMI EC57 gross statistics as de Chazal 2004: reference Q beats "
        "excluded, a beat called Q is a non-positive; VEB FP = N, S (and unmatched detections) "
        "called V, an F beat called V is not a FP; SVEB FP = N, V, F (and unmatched) called S; "
        "FN include missed beats; FPR = FP / (FP + TN), TN = reference beats neither of the "
        "class nor Q not called the class"
    ),
    "escape_beats": (
        "e and j count as N (the experiment's classes mapping, as de Chazal 2004); counting "
        "them as SVEB changes DS2's S count from 1,837 to 2,050"
    ),
}


def _codes(values, labels, what: str, records=None) -> np.ndarray:
    """Index of each value in ``labels``; a value not among them is a ValueError naming it
    (and its record, given the ``records`` of the values)."""
    values = np.asarray(values, dtype=object).astype(str)
    codes = pd.Index([str(x) for x in labels]).get_indexer(values).astype(np.int64)
    if (codes < 0).any():
        first = int(np.argmax(codes < 0))
        where = "" if records is None else f" (record {np.asarray(records)[first]})"
        raise ValueError(
            f"{what}: label {str(values[first])!r}{where} is not one of {list(labels)}"
        )
    return codes


def confusion_matrix(y_true, y_pred, labels) -> np.ndarray:
    """Counts of (true, predicted) pairs, rows and columns in the order of ``labels``."""
    labels = list(labels)
    n = len(labels)
    true = _codes(y_true, labels, "true")
    pred = _codes(y_pred, labels, "predicted")
    return np.bincount(true * n + pred, minlength=n * n).reshape(n, n).astype(np.int64)


def _divide(numerator, denominator) -> np.ndarray:
    """Elementwise ratio, ``nan`` where the denominator is zero."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast_shapes(num.shape, den.shape), np.nan)
    return np.divide(num, den, out=out, where=den != 0)


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else math.nan


def nanmean(values) -> float:
    """Mean of the values that are not nan (nan if none)."""
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else math.nan


def _nanmean_last(values: np.ndarray) -> np.ndarray:
    """:func:`nanmean` over the last axis of an array."""
    defined = ~np.isnan(values)
    return _divide(np.where(defined, values, 0.0).sum(-1), defined.sum(-1))


def extended_matrix(matrix, missed=None, unmatched=None) -> np.ndarray:
    """(C+1) x (C+1) counts: ``matrix`` (C x C), ``missed`` reference beats per true class as a
    last column, ``unmatched`` detections per predicted class as a last row ("no beat")."""
    matrix = np.asarray(matrix, dtype=np.int64)
    n = len(matrix)
    ext = np.zeros((n + 1, n + 1), dtype=np.int64)
    ext[:n, :n] = matrix
    ext[:n, n] = 0 if missed is None else missed
    ext[n, :n] = 0 if unmatched is None else unmatched
    return ext


def one_vs_rest_counts(ext: np.ndarray):
    """TP, FN, FP, TN of each class (last axis) of extended matrices (..., C+1, C+1).

    Over reference beats only: missed beats are false negatives, unmatched detections are not
    counted.
    """
    scored = ext[..., :-1, :-1]
    tp = np.diagonal(scored, axis1=-2, axis2=-1)
    support = ext[..., :-1, :].sum(-1)
    fp = scored.sum(-2) - tp
    total = support.sum(-1, keepdims=True)
    return tp, support - tp, fp, total - support - fp


def ec57_counts(ext: np.ndarray, labels, name: str):
    """TP, FN, FP, TN of EC57 gross statistic ``name`` (SVEB, VEB) of extended matrices."""
    index = {label: i for i, label in enumerate(labels)}
    label, fp_from = EC57[name]
    k, none = index[label], len(labels)
    excluded = {index[x] for x in EC57_EXCLUDED}
    tp = ext[..., k, k]
    fn = ext[..., k, :].sum(-1) - tp
    fp = ext[..., [index[x] for x in fp_from] + [none], k].sum(-1)
    others = [i for i in range(len(labels)) if i != k and i not in excluded]
    tn = ext[..., others, :].sum(-1).sum(-1) - ext[..., others, k].sum(-1)
    return tp, fn, fp, tn


def _gross(tp, fn, fp, tn) -> dict:
    return {
        "Se": _divide(tp, tp + fn),
        "+P": _divide(tp, tp + fp),
        "FPR": _divide(fp, fp + tn),
        "TP": tp,
        "FN": fn,
        "FP": fp,
        "TN": tn,
    }


def figures(ext: np.ndarray, labels) -> dict:
    """Every figure of extended matrices (..., C+1, C+1), as arrays over the leading axes.

    ``{"accuracy", "macro", "per_class": {label: {...}}}`` and, for AAMI classes,
    ``"aami_one_vs_rest"`` and ``"aami_ec57"`` (``{"SVEB", "VEB"}`` of :func:`_gross`).
    """
    labels = list(labels)
    ext = np.asarray(ext, dtype=np.int64)
    tp, fn, fp, tn = one_vs_rest_counts(ext)
    rates = {
        "sensitivity": _divide(tp, tp + fn),
        "ppv": _divide(tp, tp + fp),
        "specificity": _divide(tn, tn + fp),
        "fpr": _divide(fp, tn + fp),
        "f1": _divide(2 * tp, 2 * tp + fp + fn),
    }
    counts = {"support": tp + fn, "predicted": tp + fp, "tp": tp, "fp": fp, "fn": fn, "tn": tn}
    per_class = {
        label: {key: value[..., i] for key, value in {**rates, **counts}.items()}
        for i, label in enumerate(labels)
    }
    out = {
        "accuracy": _divide(tp.sum(-1), ext[..., :-1, :].sum((-2, -1))),
        "macro": {key: _nanmean_last(value) for key, value in rates.items()},
        "per_class": per_class,
    }
    if is_aami(labels):
        out["aami_one_vs_rest"] = {
            name: _gross(*(c[..., labels.index(label)] for c in (tp, fn, fp, tn)))
            for name, (label, _) in EC57.items()
        }
        out["aami_ec57"] = {name: _gross(*ec57_counts(ext, labels, name)) for name in EC57}
    return out


def _item(tree, i: int = 0):
    """Element ``i`` of every array of :func:`figures`, as Python numbers."""
    if isinstance(tree, dict):
        return {key: _item(value, i) for key, value in tree.items()}
    value = np.asarray(tree).reshape(-1)[i]
    return int(value) if np.issubdtype(value.dtype, np.integer) else float(value)


def class_metrics(matrix, labels=None, missed=None) -> dict:
    """Accuracy, per-class and macro figures of a confusion matrix (see the module doc).

    ``missed``: reference beats per true class that no detection matched (false negatives).
    Returns ``{"accuracy", "per_class": {label: {...}}, "macro": {"sensitivity", "ppv",
    "specificity", "fpr", "f1"}}``; undefined figures are ``nan``. ``labels`` default to
    0..C-1.
    """
    matrix = np.asarray(matrix, dtype=np.int64)
    labels = list(range(len(matrix))) if labels is None else list(labels)
    scores = _item(figures(extended_matrix(matrix, missed)[None], labels))
    return {key: scores[key] for key in ("accuracy", "per_class", "macro")}


def is_aami(classes) -> bool:
    """Whether an experiment's classes are the five AAMI classes."""
    return set(classes) == set(AAMI_CLASSES)


def _rows(frame) -> bool:
    return frame is not None and len(frame) > 0


def _require(frame: pd.DataFrame, what: str, columns) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: no column {', '.join(map(repr, missing))}")


def record_matrices(predictions, classes, missed=None, unmatched=None):
    """Records (sorted) and their extended matrices (R x (C+1) x (C+1), :func:`extended_matrix`).

    ``predictions`` has columns ``record``, ``true``, ``predicted``; ``missed`` (optional)
    ``record``, ``true``; ``unmatched`` (optional) ``record``, ``predicted``.
    """
    classes = list(classes)
    none, k = len(classes), len(classes) + 1
    frames = [("predictions", predictions, "true", "predicted")]
    if _rows(missed):
        frames.append(("missed", missed, "true", None))
    if _rows(unmatched):
        frames.append(("unmatched", unmatched, None, "predicted"))
    for what, frame, true, pred in frames:
        _require(frame, what, ["record", *filter(None, (true, pred))])
    records = sorted(set().union(*(set(f["record"].astype(str)) for _, f, _, _ in frames)))
    cells = np.zeros(len(records) * k * k, dtype=np.int64)
    for what, frame, true, pred in frames:
        names = frame["record"].astype(str).to_numpy()
        r = _codes(names, records, f"{what} record")
        t, p = (
            _codes(frame[column], classes, f"{what} {column}", names)
            if column
            else np.full(len(frame), none)
            for column in (true, pred)
        )
        cells += np.bincount((r * k + t) * k + p, minlength=len(cells))
    return records, cells.reshape(len(records), k, k)


def bootstrap_matrices(matrices, unit: str, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """``n_boot`` resampled extended matrices (n_boot x K x K) of per-record ``matrices``.

    ``unit`` "record": each resample draws as many records as there are, with replacement (a
    multinomial count per record); "beat": as many beats as there are, with replacement (a
    multinomial draw over the cells of the pooled matrix).
    """
    if unit not in BOOTSTRAP_UNITS:
        raise ValueError(f"bootstrap_unit {unit!r}: choose one of {BOOTSTRAP_UNITS} or None")
    if n_boot < 1:
        raise ValueError(f"n_boot {n_boot}: at least 1 resample is needed")
    rng = np.random.default_rng(seed)
    matrices = np.asarray(matrices, dtype=np.int64)
    pooled = matrices.sum(0)
    n = len(matrices) if unit == "record" else int(pooled.sum())
    if n == 0:
        return np.zeros((n_boot, *pooled.shape), dtype=np.int64)
    if unit == "record":
        draws = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot)
        return np.einsum("br,rij->bij", draws, matrices)
    draws = rng.multinomial(n, pooled.ravel() / n, size=n_boot)
    return draws.reshape(n_boot, *pooled.shape)


def percentile_interval(values) -> list[float] | None:
    """Central :data:`CI_LEVEL` percentile interval of the defined (not nan) ``values``;
    ``None`` if fewer than :data:`CI_MIN_DEFINED` of them are defined."""
    values = np.asarray(values, dtype=np.float64)
    defined = values[~np.isnan(values)]
    if not len(defined) or len(defined) < CI_MIN_DEFINED * len(values):
        return None
    tail = 50.0 * (1.0 - CI_LEVEL)
    return [float(x) for x in np.percentile(defined, [tail, 100.0 - tail])]


def interval_paths(labels) -> list[tuple[str, ...]]:
    """Where metrics.json has a ``<figure>_ci95`` (paths into :func:`figures`)."""
    paths = [("accuracy",), *(("macro", key) for key in ("sensitivity", "ppv", "f1"))]
    paths += [("per_class", label, key) for label in labels for key in ("sensitivity", "ppv")]
    if is_aami(labels):
        paths += [
            (convention, name, key)
            for convention in ("aami_one_vs_rest", "aami_ec57")
            for name in EC57
            for key in ("Se", "+P", "FPR")
        ]
    return paths


def add_intervals(report: dict, resampled: dict | None, labels) -> None:
    """Insert ``<figure>_ci95`` right after each figure of ``report``: the interval of the
    figure over the :func:`figures` of the resamples, or ``None`` if ``resampled`` is."""
    for path in interval_paths(labels):
        parent, source = report, resampled
        for key in path[:-1]:
            parent = parent[key]
            source = None if source is None else source[key]
        key = path[-1]
        items = list(parent.items())
        parent.clear()
        for name, value in items:
            parent[name] = value
            if name == key:
                parent[f"{key}_ci95"] = None if source is None else percentile_interval(source[key])


def per_record(records, matrices, labels) -> dict:
    """Per record: reference beats, scored, missed, unmatched detections, accuracy and counts
    (TP, FN, FP, Se, +P) of SVEB and VEB (EC57) for AAMI classes, else of every class."""
    labels = list(labels)
    stats = figures(matrices, labels)
    if is_aami(labels):
        groups = stats["aami_ec57"]
    else:
        groups = {
            label: {
                "TP": row["tp"],
                "FN": row["fn"],
                "FP": row["fp"],
                "Se": row["sensitivity"],
                "+P": row["ppv"],
            }
            for label, row in stats["per_class"].items()
        }
    counts = {
        "beats": matrices[:, :-1, :].sum((1, 2)),
        "scored": matrices[:, :-1, :-1].sum((1, 2)),
        "missed": matrices[:, :-1, -1].sum(1),
        "unmatched_detections": matrices[:, -1, :].sum(1),
        "accuracy": stats["accuracy"],
    }
    keys = ("TP", "FN", "FP", "Se", "+P")
    return {
        record: {
            **_item(counts, i),
            "counts": {name: _item({k: g[k] for k in keys}, i) for name, g in groups.items()},
        }
        for i, record in enumerate(records)
    }


def to_json_value(value):
    """Replace ``nan`` by ``None`` (JSON ``null``) throughout nested dicts and lists."""
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def evaluation_rows(manifest: pd.DataFrame) -> pd.DataFrame:
    """The manifest's test beats: originals only (``augmented == 0``), in manifest order."""
    return manifest[(manifest["split"] == "test") & (manifest["augmented"] == 0)]


def predict_rows(classifier, rows: pd.DataFrame, root=".", batch_size: int = 256, progress=None):
    """Class probabilities (N x C) of manifest rows, reading their images batch by batch
    (:class:`ecg2d.images.ImageReader`)."""
    from ecg2d.images import ImageReader
    from ecg2d.rr import RR_COLUMNS

    columns = list(getattr(classifier, "rr_columns", RR_COLUMNS))
    if not getattr(classifier, "uses_rr", True):
        columns = [c for c in columns if c in rows.columns]

    n = len(rows)
    out = np.zeros((n, len(classifier.classes)), dtype=np.float32)
    paths = rows["path"].to_numpy(dtype=object)
    rr = rows[columns].to_numpy(dtype=np.float64)
    reader = ImageReader(root)
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        images = np.stack([reader.read(p) for p in paths[start:stop]])
        out[start:stop] = classifier.predict_proba(images, rr[start:stop], batch_size)
        if progress is not None:
            progress(stop, n)
    return out


def predictions_table(rows: pd.DataFrame, proba: np.ndarray, classes) -> pd.DataFrame:
    """predictions.csv: record, sample, true and predicted label, one probability per class."""
    classes = list(classes)
    table = pd.DataFrame(
        {
            "record": rows["record"].astype(str).to_numpy(),
            "sample": rows["sample"].to_numpy(),
            "true": rows["label"].astype(str).to_numpy(),
            "predicted": np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
            if len(rows)
            else [],
        }
    )
    for k, label in enumerate(classes):
        table[f"p_{label}"] = np.round(proba[:, k], 6)
    return table


def _summary(total: np.ndarray, classes: list) -> dict:
    """Counts, accuracy, macro and per-class figures, confusion matrix of a pooled matrix."""
    stats = _item(figures(total, classes))
    shown = ("sensitivity", "ppv", "specificity", "fpr", "f1", "support")
    out = {
        "n_test": int(total[:-1, :-1].sum()),
        "n_reference": int(total[:-1, :].sum()),
        "n_missed": int(total[:-1, -1].sum()),
        "n_unmatched_detections": int(total[-1, :].sum()),
        "missed_per_class": dict(zip(classes, total[:-1, -1].tolist())),
        "accuracy": stats["accuracy"],
        "macro": {k: stats["macro"][k] for k in ("sensitivity", "ppv", "f1")},
        "per_class": {
            label: {k: row[k] for k in shown} for label, row in stats["per_class"].items()
        },
        "confusion_matrix": {
            "labels": classes,
            "matrix": total[:-1, :-1].tolist(),
            "missed": total[:-1, -1].tolist(),
            "unmatched_detections": total[-1, :-1].tolist(),
        },
    }
    for convention in ("aami_one_vs_rest", "aami_ec57"):
        if convention in stats:
            out[convention] = stats[convention]
    return out


#: The model sidecar keys copied under metrics.json ``training``.
TRAINING_KEYS = (
    "preset",
    "model",
    "train",
    "rr_features",
    "n_train_per_class",
    "validation",
    "epochs_run",
    "best_epoch",
    "monitor",
    "images_per_epoch",
    "images_seen",
    "training_seconds",
    "backend",
)


def _training(info: dict) -> dict:
    training = {key: info.get(key) for key in TRAINING_KEYS}
    train = info.get("train") or {}
    if train.get("balance") == "sampling":
        training["note"] = (
            f"balanced sampling: {train.get('samples_per_class')} training images per "
            "class per epoch (not every training image is seen)"
        )
    elif train.get("balance") == "sqrt":
        training["note"] = (
            f"square-root sampling: {train.get('samples_per_class')} training images per class "
            "per epoch on average, shared in proportion to the square root of each class's "
            "number of images (not every training image is seen)"
        )
    if train.get("max_per_class"):
        training["cap"] = f"at most {train['max_per_class']} images per class"
    expert = info.get("expert")
    training["expert"] = expert["kind"] if expert else "none"
    training["fusion_weight"] = info.get("fusion_weight", 1.0) if expert else 1.0
    return training


def _bootstrap(report, matrices, classes, unit: str, n_boot: int, seed: int) -> dict:
    """Add the intervals to ``report``; return the ``bootstrap`` key. Fewer than two records
    (or beats) to resample give null intervals: one unit says nothing of the spread."""
    units = len(matrices) if unit == "record" else int(matrices.sum())
    resampled = None
    if units >= 2:
        resampled = figures(bootstrap_matrices(matrices, unit, n_boot, seed), classes)
    add_intervals(report, resampled, classes)
    return {
        "unit": unit,
        "n": n_boot,
        "seed": seed,
        "units": units,
        "method": (
            f"percentile, {CI_LEVEL:.0%}; resampling {unit}s with replacement; null if fewer "
            f"than {CI_MIN_DEFINED:.0%} of the resamples define the figure, or fewer than 2 "
            f"{unit}s"
        ),
    }


def metrics_report(
    predictions: pd.DataFrame,
    classes,
    experiment: str,
    protocol: str,
    info: dict | None = None,
    *,
    missed: pd.DataFrame | None = None,
    unmatched: pd.DataFrame | None = None,
    bootstrap_unit: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict:
    """The content of metrics.json (see the module doc).

    ``predictions``: one row per scored beat, columns ``record``, ``true``, ``predicted``.
    ``missed``: reference beats no detection matched (``record``, ``true``); ``unmatched``:
    detections with no reference beat (``record``, ``predicted``); ``None`` or empty for
    annotation-based beats. ``bootstrap_unit``: "record" (inter-patient), "beat"
    (intra-patient) or ``None`` (no intervals); ``n_boot`` resamples drawn with ``seed``.
    """
    classes = list(classes)
    if bootstrap_unit is not None and bootstrap_unit not in BOOTSTRAP_UNITS:
        raise ValueError(f"bootstrap_unit {bootstrap_unit!r}: choose one of {BOOTSTRAP_UNITS}")
    info = info or {}
    records, matrices = record_matrices(predictions, classes, missed, unmatched)
    report = {
        "experiment": experiment,
        "protocol": protocol,
        "classes": classes,
        "n_train": info.get("n_train"),
        "n_train_images": info.get("n_train_images"),
        "n_validation": info.get("n_validation"),
        **_summary(matrices.sum(0), classes),
    }
    report["bootstrap"] = None
    if bootstrap_unit is not None:
        report["bootstrap"] = _bootstrap(report, matrices, classes, bootstrap_unit, n_boot, seed)
    report["per_record"] = per_record(records, matrices, classes)
    report["conventions"] = {
        key: text
        for key, text in CONVENTIONS.items()
        if is_aami(classes) or key not in ("ec57", "escape_beats")
    }
    report["conventions"]["per_record"] = (
        "counts: EC57 SVEB and VEB" if is_aami(classes) else "counts: one class against the rest"
    )
    report["undefined_values"] = (
        "null: ratio with a zero denominator (no test beats, or never predicted); macro "
        "averages skip them (scikit-learn zero_division=nan)"
    )
    if info:
        report["training"] = _training(info)
    return to_json_value(report)


def write_json(data: dict, path) -> None:
    """JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")


def plot_confusion(matrix, labels, path, title: str = "") -> None:
    """Confusion matrix as a PNG: counts, coloured by row-normalised fraction."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix)
    rows = matrix.sum(axis=1, keepdims=True)
    fraction = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)
    size = 1.2 + 0.6 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(fraction, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if fraction[i, j] > 0.5 else "black",
            )
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or "confusion matrix")
    fig.colorbar(image, ax=ax, label="fraction of the true class")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def detector_errors(
    reference: dict, detected: dict, experiment: dict, seed: int, png_dir
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Missed reference beats and unmatched detections of one record, in the test split.

    ``reference``: the record's annotation beats (:func:`ecg2d.segment.segment_record`);
    ``detected``: its detector beats (:func:`ecg2d.detect.detected_beats`, with ``matched``
    and ``ref_sample``); ``experiment``: its split settings (:func:`ecg2d.split.split_settings`).
    A labelled reference beat is missed if no matched detection has its sample. Both are
    split as :func:`ecg2d.split.split_table` splits beats: all of a test record's
    (inter-patient), a seeded ``test_fraction`` of each record's (intra-patient; the missed
    beats drawn as the annotation experiment draws its test beats).
    Returns ``missed`` (``record``, ``true``) and the unmatched detections as manifest rows
    (``record``, ``sample``, ``path``, RR columns) to classify.
    """
    from ecg2d.detect import UNMATCHED
    from ecg2d.split import split_table

    record = str(reference["record"])
    if "matched" not in detected or "ref_sample" not in detected:
        raise ValueError(f"record {record}: detector beats without 'matched'/'ref_sample'")
    if str(detected["record"]) != record:
        raise ValueError(f"record {record}: detector beats are of record {detected['record']}")
    matched = detected["matched"].astype(bool)
    rows = split_table(reference, experiment, seed, ".")
    found = np.isin(rows["sample"], detected["ref_sample"][matched])
    missed = rows[(rows["split"] == "test") & ~found]
    only_unmatched = {**detected, "symbol": np.where(matched, "", UNMATCHED)}
    label_unmatched = {**experiment, "classes": {UNMATCHED: UNMATCHED}}
    unmatched = split_table(only_unmatched, label_unmatched, seed, png_dir)
    return (
        pd.DataFrame({"record": record, "true": missed["label"].to_numpy()}),
        unmatched[unmatched["split"] == "test"].reset_index(drop=True),
    )


def detection_errors(detection: dict, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`detector_errors` of every test record of a detector experiment, concatenated.

    ``detection``: ``reference`` and ``detected`` (beats files), ``png_dirs`` (the detector
    beats' image folders), one per record in the same order, and ``experiment`` (split
    settings).
    """
    from ecg2d.segment import load_beats

    paths = zip(detection["reference"], detection["detected"], detection["png_dirs"], strict=True)
    missed, unmatched = [], []
    for reference, detected, png_dir in paths:
        one = detector_errors(
            load_beats(reference), load_beats(detected), detection["experiment"], seed, png_dir
        )
        missed.append(one[0])
        unmatched.append(one[1])
    if not missed:
        return None, None
    return pd.concat(missed, ignore_index=True), pd.concat(unmatched, ignore_index=True)


def _classify_unmatched(classifier, rows, root, batch_size) -> pd.DataFrame | None:
    """``record``, ``predicted`` (and probabilities) of unmatched detections' manifest rows."""
    if rows is None or not len(rows):
        return None
    proba = predict_rows(classifier, rows, root, batch_size)
    return predictions_table(rows.assign(label=""), proba, classifier.classes)


def evaluate_experiment(
    manifest_path,
    model_path,
    name: str,
    metrics_path,
    predictions_path,
    confusion_path,
    root=".",
    batch_size: int = 256,
    *,
    seed: int = 0,
    detection: dict | None = None,
) -> dict:
    """Predict the test originals of a manifest with a trained model; write the three outputs.

    ``detection`` (experiments with ``segmentation: detector``, see :func:`detection_errors`):
    missed reference beats and unmatched detections (classified too) enter the metrics.
    Intervals: :func:`metrics_report` bootstrap over records (inter-patient) or beats, with
    ``seed``. Returns the metrics (as written to ``metrics_path``).
    """
    import logging

    from ecg2d.classifier import Classifier
    from ecg2d.split import read_table

    log = logging.getLogger("ecg2d.evaluate")
    classifier = Classifier.load(model_path)
    rows = evaluation_rows(read_table(manifest_path))
    unknown = sorted(set(rows["label"]) - set(classifier.classes))
    if unknown:
        raise ValueError(f"test labels {unknown} are not classes of the model {model_path}")
    every = max(1, len(rows) // 10)

    def progress(done, total):
        if done % every < batch_size or done == total:
            log.info("predicted %d/%d test beats", done, total)

    proba = predict_rows(classifier, rows, root, batch_size, progress)
    table = predictions_table(rows, proba, classifier.classes)
    missed, unmatched = detection_errors(detection, seed) if detection else (None, None)
    unmatched = _classify_unmatched(classifier, unmatched, root, batch_size)
    info = classifier.info
    protocol = info.get("protocol", "")
    metrics = metrics_report(
        table,
        classifier.classes,
        name,
        protocol,
        info,
        missed=missed,
        unmatched=unmatched,
        bootstrap_unit="record" if protocol == "inter_patient" else "beat",
        seed=seed,
    )
    with atomic_path(predictions_path) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")
    write_json(metrics, metrics_path)
    plot_confusion(
        metrics["confusion_matrix"]["matrix"],
        classifier.classes,
        confusion_path,
        title=f"{name}: accuracy {metrics['accuracy']:.4f}" if metrics["accuracy"] else name,
    )
    return metrics
