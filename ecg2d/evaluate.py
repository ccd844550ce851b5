"""Evaluation of a trained classifier on an experiment's test split.

Metrics are computed from the confusion matrix (rows: true class, columns: predicted class) of
the test split's original beats -- crops never reach the test set.

Per class ``c`` (one-vs-rest, pooled over all test beats, i.e. "gross" statistics):

- sensitivity (Se, recall) = TP / (TP + FN)
- positive predictivity (+P, PPV, precision) = TP / (TP + FP)
- specificity = TN / (TN + FP); false positive rate (FPR) = FP / (TN + FP) = 1 - specificity
- F1 = 2 TP / (2 TP + FP + FN)

A ratio whose denominator is zero is *undefined* and reported as ``null`` in JSON (``nan`` in
Python): the sensitivity of a class without test beats, the +P of a class never predicted, the
F1 of a class neither present nor predicted. Macro averages are the means over the classes
where the figure is defined. This is exactly scikit-learn's ``zero_division=np.nan``
(``precision_recall_fscore_support(..., average="macro", zero_division=np.nan)``). A class
with test beats that is never predicted thus has sensitivity 0, F1 0 and +P ``null``.

For AAMI experiments (classes N, S, V, F, Q) the EC57-style gross figures of SVEB (S) and VEB
(V) -- Se, +P, FPR -- are reported under ``"aami"``, computed one-vs-rest on the 5-class
matrix as above (no EC57 exemptions: an F beat called V counts as a V false positive).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

AAMI_CLASSES = ("N", "S", "V", "F", "Q")


def confusion_matrix(y_true, y_pred, labels) -> np.ndarray:
    """Counts of (true, predicted) pairs, rows and columns in the order of ``labels``."""
    labels = list(labels)
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for true, pred in zip(y_true, y_pred):
        if true not in index or pred not in index:
            raise ValueError(f"label {true!r} or {pred!r} is not one of {labels}")
        matrix[index[true], index[pred]] += 1
    return matrix


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else math.nan


def nanmean(values) -> float:
    """Mean of the values that are not nan (nan if none)."""
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else math.nan


def class_metrics(matrix, labels=None) -> dict:
    """Accuracy, per-class and macro figures of a confusion matrix (see the module doc).

    Returns ``{"accuracy", "per_class": {label: {...}}, "macro": {"sensitivity", "ppv",
    "specificity", "f1"}}``; undefined figures are ``nan``. ``labels`` default to 0..C-1.
    """
    matrix = np.asarray(matrix, dtype=np.int64)
    labels = list(range(len(matrix))) if labels is None else list(labels)
    total = int(matrix.sum())
    per_class = {}
    for i, label in enumerate(labels):
        tp = int(matrix[i, i])
        fn = int(matrix[i, :].sum()) - tp
        fp = int(matrix[:, i].sum()) - tp
        tn = total - tp - fn - fp
        per_class[label] = {
            "sensitivity": _ratio(tp, tp + fn),
            "ppv": _ratio(tp, tp + fp),
            "specificity": _ratio(tn, tn + fp),
            "fpr": _ratio(fp, tn + fp),
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
            "support": tp + fn,
            "predicted": tp + fp,
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "tn": tn,
        }
    macro = {
        key: nanmean([row[key] for row in per_class.values()])
        for key in ("sensitivity", "ppv", "specificity", "f1")
    }
    accuracy = _ratio(np.trace(matrix), total)
    return {"accuracy": accuracy, "per_class": per_class, "macro": macro}


def aami_gross(per_class: dict) -> dict:
    """EC57-style gross Se, +P and FPR of SVEB (S) and VEB (V) from :func:`class_metrics`."""
    out = {}
    for name, label in (("SVEB", "S"), ("VEB", "V")):
        row = per_class[label]
        out[name] = {"Se": row["sensitivity"], "+P": row["ppv"], "FPR": row["fpr"]}
    return out


def is_aami(classes) -> bool:
    """Whether an experiment's classes are the five AAMI classes."""
    return set(classes) == set(AAMI_CLASSES)


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
    """Class probabilities (N x C) of manifest rows, reading their PNGs batch by batch."""
    from ecg2d.model import RR_COLUMNS
    from ecg2d.train import read_image

    columns = list(getattr(classifier, "rr_columns", RR_COLUMNS))
    if not getattr(classifier, "rr_features", True):
        columns = [c for c in columns if c in rows.columns]

    n = len(rows)
    out = np.zeros((n, len(classifier.classes)), dtype=np.float32)
    paths = rows["path"].to_numpy(dtype=object)
    rr = rows[columns].to_numpy(dtype=np.float64)
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        images = np.stack([read_image(f"{root}/{p}") for p in paths[start:stop]])
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


def metrics_report(
    predictions: pd.DataFrame, classes, experiment: str, protocol: str, info: dict | None = None
) -> dict:
    """The content of metrics.json from a predictions table (see the module doc)."""
    classes = list(classes)
    matrix = confusion_matrix(predictions["true"], predictions["predicted"], classes)
    scores = class_metrics(matrix, classes)
    info = info or {}
    per_class = {
        label: {
            key: row[key] for key in ("sensitivity", "ppv", "specificity", "fpr", "f1", "support")
        }
        for label, row in scores["per_class"].items()
    }
    report = {
        "experiment": experiment,
        "protocol": protocol,
        "classes": classes,
        "n_train": info.get("n_train"),
        "n_train_images": info.get("n_train_images"),
        "n_validation": info.get("n_validation"),
        "n_test": int(matrix.sum()),
        "accuracy": scores["accuracy"],
        "macro": {k: scores["macro"][k] for k in ("sensitivity", "ppv", "f1")},
        "per_class": per_class,
        "confusion_matrix": {"labels": classes, "matrix": matrix.tolist()},
        "undefined_values": (
            "null: ratio with a zero denominator (no test beats, or never predicted); macro "
            "averages skip them (scikit-learn zero_division=nan)"
        ),
    }
    if is_aami(classes):
        report["aami"] = aami_gross(scores["per_class"])
    if info:
        report["training"] = {
            key: info.get(key)
            for key in (
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
        }
        train = info.get("train") or {}
        if train.get("balance") == "sampling":
            report["training"]["note"] = (
                f"balanced sampling: {train.get('samples_per_class')} training images per "
                "class per epoch (not every training image is seen)"
            )
        if train.get("max_per_class"):
            report["training"]["cap"] = f"at most {train['max_per_class']} images per class"
    return to_json_value(report)


def write_json(data: dict, path) -> None:
    """JSON, atomically."""
    from ecg2d.io import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")


def plot_confusion(matrix, labels, path, title: str = "") -> None:
    """Confusion matrix as a PNG: counts, coloured by row-normalised fraction."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ecg2d.io import atomic_path

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
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def evaluate_experiment(
    manifest_path,
    model_path,
    name: str,
    metrics_path,
    predictions_path,
    confusion_path,
    root=".",
    batch_size: int = 256,
) -> dict:
    """Predict the test originals of a manifest with a trained model; write the three outputs.

    Returns the metrics (as written to ``metrics_path``).
    """
    import logging

    from ecg2d.io import atomic_path
    from ecg2d.model import Classifier
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
    info = classifier.info
    metrics = metrics_report(table, classifier.classes, name, info.get("protocol", ""), info)
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
