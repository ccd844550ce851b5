"""Metric functions of ecg2d.evaluate against scikit-learn, on hand-made confusion cases."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from ecg2d.evaluate import (
    aami_gross,
    class_metrics,
    confusion_matrix,
    evaluation_rows,
    metrics_report,
    predictions_table,
    to_json_value,
)

LABELS = ["N", "S", "V", "F", "Q"]
# Hand-made case: Q has no test beats but is predicted once; F has test beats but is never
# predicted; every other kind of error occurs.
Y_TRUE = ["N"] * 10 + ["S"] * 4 + ["V"] * 5 + ["F"] * 2
Y_PRED = (
    ["N"] * 7
    + ["S", "V", "Q"]  # N: 7 right, one called S, V, Q
    + ["S", "S", "N", "V"]  # S: 2 right
    + ["V"] * 4
    + ["N"]  # V: 4 right
    + ["V", "N"]  # F: never predicted
)


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b)


def test_confusion_matrix_agrees_with_sklearn():
    ours = confusion_matrix(Y_TRUE, Y_PRED, LABELS)
    assert (ours == skm.confusion_matrix(Y_TRUE, Y_PRED, labels=LABELS)).all()
    assert ours.sum() == len(Y_TRUE)
    with pytest.raises(ValueError, match="'X'"):
        confusion_matrix(["N"], ["X"], LABELS)


def test_per_class_and_macro_agree_with_sklearn_zero_division_nan():
    scores = class_metrics(confusion_matrix(Y_TRUE, Y_PRED, LABELS), LABELS)
    ppv, se, f1, support = skm.precision_recall_fscore_support(
        Y_TRUE, Y_PRED, labels=LABELS, zero_division=np.nan
    )
    for k, label in enumerate(LABELS):
        row = scores["per_class"][label]
        assert same(row["sensitivity"], se[k]) and same(row["ppv"], ppv[k])
        assert same(row["f1"], f1[k]) and row["support"] == support[k]
    macro = skm.precision_recall_fscore_support(
        Y_TRUE, Y_PRED, labels=LABELS, average="macro", zero_division=np.nan
    )
    assert scores["macro"]["ppv"] == pytest.approx(macro[0])
    assert scores["macro"]["sensitivity"] == pytest.approx(macro[1])
    assert scores["macro"]["f1"] == pytest.approx(macro[2])
    assert scores["accuracy"] == pytest.approx(skm.accuracy_score(Y_TRUE, Y_PRED))
    # The documented undefined values: Q has no beats, F is never predicted.
    assert math.isnan(scores["per_class"]["Q"]["sensitivity"])
    assert scores["per_class"]["Q"]["support"] == 0 and scores["per_class"]["Q"]["f1"] == 0
    assert math.isnan(scores["per_class"]["F"]["ppv"])
    assert scores["per_class"]["F"]["sensitivity"] == 0 and scores["per_class"]["F"]["f1"] == 0


def test_specificity_and_fpr_one_vs_rest():
    scores = class_metrics(confusion_matrix(Y_TRUE, Y_PRED, LABELS), LABELS)["per_class"]
    for label in LABELS:
        negatives = [t != label for t in Y_TRUE]
        called = [p == label for p in Y_PRED]
        tn = sum(n and not c for n, c in zip(negatives, called))
        fp = sum(n and c for n, c in zip(negatives, called))
        assert scores[label]["specificity"] == pytest.approx(tn / (tn + fp))
        assert scores[label]["fpr"] == pytest.approx(fp / (tn + fp))
    # Binary one-vs-rest recall of the negatives is the specificity.
    binary = [t != "V" for t in Y_TRUE], [p != "V" for p in Y_PRED]
    assert scores["V"]["specificity"] == pytest.approx(skm.recall_score(*binary))


def test_aami_gross_figures_and_json_nulls():
    scores = class_metrics(confusion_matrix(Y_TRUE, Y_PRED, LABELS), LABELS)
    gross = aami_gross(scores["per_class"])
    assert gross["SVEB"]["Se"] == pytest.approx(2 / 4)  # 2 of 4 S found
    assert gross["SVEB"]["+P"] == pytest.approx(2 / 3)  # S called 3 times
    assert gross["VEB"]["+P"] == pytest.approx(4 / 7)  # V called 7 times, 4 right
    assert gross["VEB"]["FPR"] == pytest.approx(3 / 16)  # 3 of 16 non-V called V
    assert to_json_value({"a": [math.nan, np.float32(0.5), np.int64(2)]}) == {"a": [None, 0.5, 2]}


def test_metrics_report_layout():
    rows = pd.DataFrame(
        {"record": ["100"] * len(Y_TRUE), "sample": range(len(Y_TRUE)), "label": Y_TRUE}
    )
    proba = np.eye(len(LABELS))[[LABELS.index(p) for p in Y_PRED]]
    table = predictions_table(rows, proba, LABELS)
    assert list(table.columns) == ["record", "sample", "true", "predicted"] + [
        f"p_{label}" for label in LABELS
    ]
    assert list(table["predicted"]) == Y_PRED
    report = metrics_report(table, LABELS, "toy", "inter_patient", {"n_train": 7})
    assert report["n_test"] == len(Y_TRUE) and report["n_train"] == 7
    assert report["confusion_matrix"]["labels"] == LABELS
    assert report["per_class"]["Q"]["sensitivity"] is None  # JSON null
    assert set(report["aami"]) == {"SVEB", "VEB"}
    assert set(report["macro"]) == {"sensitivity", "ppv", "f1"}


def test_test_rows_are_test_originals_only():
    manifest = pd.DataFrame(
        {"split": ["train", "test", "test", "train"], "augmented": [0, 0, 1, 1]}
    )
    assert list(evaluation_rows(manifest).index) == [1]
