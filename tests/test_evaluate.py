"""Metric functions of ecg2d.evaluate against scikit-learn, on hand-made confusion cases;
EC57 and one-vs-rest AAMI figures, missed beats, bootstrap intervals, per-record figures, and
the missed-beat accounting of detector experiments on real MIT-BIH beats."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from ecg2d.detect import detected_beats
from ecg2d.evaluate import (
    bootstrap_matrices,
    class_metrics,
    confusion_matrix,
    detector_errors,
    evaluation_rows,
    metrics_report,
    percentile_interval,
    predictions_table,
    record_matrices,
    to_json_value,
)
from ecg2d.io import beat_mask, read_record
from ecg2d.render import png_name
from ecg2d.segment import segment_record
from ecg2d.split import split_table
from tests.conftest import run_snakemake, shipped_prefix, write_config

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


def test_test_rows_are_test_originals_only():
    manifest = pd.DataFrame(
        {"split": ["train", "test", "test", "train"], "augmented": [0, 0, 1, 1]}
    )
    assert list(evaluation_rows(manifest).index) == [1]


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
    assert report["n_test"] == report["n_reference"] == len(Y_TRUE) and report["n_train"] == 7
    assert report["n_missed"] == report["n_unmatched_detections"] == 0
    assert report["confusion_matrix"]["labels"] == LABELS
    assert report["per_class"]["Q"]["sensitivity"] is None  # JSON null
    assert set(report["aami_ec57"]) == set(report["aami_one_vs_rest"]) == {"SVEB", "VEB"}
    assert "aami" not in report and report["bootstrap"] is None
    assert not any(key.endswith("_ci95") for key in report["macro"])  # no bootstrap asked
    assert set(report["macro"]) == {"sensitivity", "ppv", "f1"}
    assert {"ec57", "one_vs_rest", "escape_beats", "missed_beats"} <= set(report["conventions"])
    assert to_json_value({"a": [math.nan, np.float32(0.5), np.int64(2)]}) == {"a": [None, 0.5, 2]}
    with pytest.raises(ValueError, match="'record'"):
        metrics_report(table.drop(columns="record"), LABELS, "toy", "inter_patient")
    with pytest.raises(ValueError, match=r"missed true: label 'X' \(record 7\)"):
        metrics_report(table, LABELS, "t", "i", missed=pd.DataFrame({"record": [7], "true": ["X"]}))
    with pytest.raises(ValueError, match="bootstrap_unit 'patient'"):
        metrics_report(table, LABELS, "toy", "inter_patient", bootstrap_unit="patient")


# --- EC57 against one-vs-rest -----------------------------------------------------------------
# (true, predicted, count) of scored beats; missed reference beats; unmatched detections.
EC57_CASE = [
    ("N", "N", 20), ("N", "S", 2), ("N", "V", 3), ("N", "Q", 1),
    ("S", "S", 5), ("S", "N", 3), ("S", "V", 1),
    ("V", "V", 6), ("V", "N", 1), ("V", "Q", 2),  # a V beat called Q: a VEB miss
    ("F", "V", 4), ("F", "F", 1), ("F", "S", 1),  # F called V: no VEB false positive in EC57
    ("Q", "V", 2), ("Q", "S", 1), ("Q", "Q", 2),  # reference Q beats: outside EC57
]  # fmt: skip
EC57_MISSED = {"N": 4, "S": 2, "V": 1}
EC57_UNMATCHED = {"N": 5, "S": 1, "V": 3}


def beat_frames(case, missed, unmatched, records=("a", "b")):
    """The three tables of metrics_report, beats dealt to ``records`` in turn."""

    def deal(rows):
        frame = pd.DataFrame(rows)
        frame.insert(0, "record", [records[i % len(records)] for i in range(len(frame))])
        return frame

    scored = [{"true": t, "predicted": p} for t, p, n in case for _ in range(n)]
    return (
        deal(scored),
        deal([{"true": label} for label, n in missed.items() for _ in range(n)]),
        deal([{"predicted": label} for label, n in unmatched.items() for _ in range(n)]),
    )


def test_ec57_and_one_vs_rest_on_a_hand_made_case():
    scored, missed, unmatched = beat_frames(EC57_CASE, EC57_MISSED, EC57_UNMATCHED)
    report = metrics_report(
        scored, LABELS, "toy", "inter_patient", missed=missed, unmatched=unmatched
    )
    assert report["n_test"] == 55 and report["n_missed"] == 7
    assert report["n_reference"] == 62 and report["n_unmatched_detections"] == 9
    assert report["missed_per_class"] == {"N": 4, "S": 2, "V": 1, "F": 0, "Q": 0}
    ec57, ovr = report["aami_ec57"]["VEB"], report["aami_one_vs_rest"]["VEB"]
    # EC57 VEB: FN = V called N (1) or Q (2) + 1 missed; FP = N (3) and S (1) called V and 3
    # unmatched -- not the 4 F nor the 2 Q called V; TN = N 30 - 3, S 11 - 1, F 6 - 4.
    assert (ec57["TP"], ec57["FN"], ec57["FP"], ec57["TN"]) == (6, 4, 7, 39)
    assert ec57["Se"] == pytest.approx(6 / 10) and ec57["+P"] == pytest.approx(6 / 13)
    assert ec57["FPR"] == pytest.approx(7 / 46)
    # One-vs-rest VEB: every non-V reference beat called V is a FP (F and Q too), unmatched
    # detections are not counted; TN = 62 reference beats - 10 V - 10 FP.
    assert (ovr["TP"], ovr["FN"], ovr["FP"], ovr["TN"]) == (6, 4, 10, 42)
    assert ovr["+P"] == pytest.approx(6 / 16) and ovr["FPR"] == pytest.approx(10 / 52)
    assert ovr["+P"] == pytest.approx(report["per_class"]["V"]["ppv"])
    # EC57 SVEB: FP = N (2) and F (1) called S + 1 unmatched, not the Q called S; TN = N 30 - 2,
    # V 10, F 6 - 1.
    sveb = report["aami_ec57"]["SVEB"]
    assert (sveb["TP"], sveb["FN"], sveb["FP"], sveb["TN"]) == (5, 6, 4, 43)
    assert sveb["Se"] == pytest.approx(5 / 11) and sveb["FPR"] == pytest.approx(4 / 47)
    # Accuracy over all reference beats: a missed beat is not correctly classified.
    assert report["accuracy"] == pytest.approx((20 + 5 + 6 + 1 + 2) / 62)


def test_missed_beats_lower_sensitivity_but_not_positive_predictivity():
    scored, missed, _ = beat_frames(EC57_CASE, EC57_MISSED, {})
    without = metrics_report(scored, LABELS, "toy", "inter_patient")
    with_missed = metrics_report(scored, LABELS, "toy", "inter_patient", missed=missed)
    for label in EC57_MISSED:
        before, after = without["per_class"][label], with_missed["per_class"][label]
        assert after["sensitivity"] < before["sensitivity"]
        assert after["support"] == before["support"] + EC57_MISSED[label]
        assert after["ppv"] == before["ppv"]
    for name in ("SVEB", "VEB"):
        before, after = without["aami_ec57"][name], with_missed["aami_ec57"][name]
        assert after["Se"] < before["Se"] and after["+P"] == before["+P"]
    assert with_missed["confusion_matrix"]["matrix"] == without["confusion_matrix"]["matrix"]


def test_per_record_adds_up_to_the_totals():
    scored, missed, unmatched = beat_frames(
        EC57_CASE, EC57_MISSED, EC57_UNMATCHED, records=("a", "b", "c")
    )
    report = metrics_report(
        scored, LABELS, "toy", "inter_patient", missed=missed, unmatched=unmatched
    )
    rows = report["per_record"]
    assert sorted(rows) == ["a", "b", "c"]
    assert sum(r["beats"] for r in rows.values()) == report["n_reference"]
    assert sum(r["missed"] for r in rows.values()) == report["n_missed"]
    assert sum(r["unmatched_detections"] for r in rows.values()) == 9
    for name in ("SVEB", "VEB"):
        for key in ("TP", "FN", "FP"):
            total = sum(r["counts"][name][key] for r in rows.values())
            assert total == report["aami_ec57"][name][key], (name, key)
    record_a = scored[scored.record == "a"]
    assert rows["a"]["accuracy"] == pytest.approx(
        (record_a.true == record_a.predicted).sum() / (len(record_a) + (missed.record == "a").sum())
    )
    # Other classes: per-record counts of every class, one against the rest.
    other = metrics_report(scored, ["N", "S", "V", "F", "Q", "X"], "t", "intra_patient")
    assert set(other["per_record"]["a"]["counts"]) == {"N", "S", "V", "F", "Q", "X"}
    assert "aami_ec57" not in other and "ec57" not in other["conventions"]
    for label, row in other["per_class"].items():
        counts = [r["counts"][label] for r in other["per_record"].values()]
        assert sum(c["TP"] + c["FN"] for c in counts) == row["support"]


# --- bootstrap intervals ----------------------------------------------------------------------


def heterogeneous_records(n_records=10, beats=400, seed=3):
    """Records whose accuracy alternates between 50 % and 95 %: beats of a record are not
    independent, so record resampling must give wider intervals than beat resampling."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n_records):
        true = rng.choice(["N", "S", "V"], size=beats, p=[0.8, 0.1, 0.1])
        right = rng.random(beats) < (0.5 if k % 2 else 0.95)
        wrong = pd.Series(true).map({"N": "S", "S": "V", "V": "N"}).to_numpy()
        frames.append(
            pd.DataFrame(
                {"record": f"r{k}", "true": true, "predicted": np.where(right, true, wrong)}
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_bootstrap_is_seeded_contains_the_estimate_and_resamples_records():
    table = heterogeneous_records()
    args = (table, LABELS, "toy", "inter_patient")
    one = metrics_report(*args, bootstrap_unit="record", seed=5)
    assert one == metrics_report(*args, bootstrap_unit="record", seed=5)
    other = metrics_report(*args, bootstrap_unit="record", seed=6)
    assert one["accuracy_ci95"] != other["accuracy_ci95"]
    assert one["bootstrap"]["unit"] == "record" and one["bootstrap"]["n"] == 1000
    figures = [(one["accuracy"], one["accuracy_ci95"])]
    figures += [(one["macro"][k], one["macro"][f"{k}_ci95"]) for k in ("sensitivity", "ppv", "f1")]
    for label in ("N", "S", "V"):
        row = one["per_class"][label]
        figures += [(row[k], row[f"{k}_ci95"]) for k in ("sensitivity", "ppv")]
    for convention in ("aami_ec57", "aami_one_vs_rest"):
        for row in one[convention].values():
            figures += [(row[k], row[f"{k}_ci95"]) for k in ("Se", "+P", "FPR")]
    for value, (lo, hi) in figures:
        assert lo <= value <= hi and lo < hi
    # F and Q have no beats: Se undefined in every resample, so no interval.
    assert one["per_class"]["F"]["sensitivity_ci95"] is None
    beat = metrics_report(*args, bootstrap_unit="beat", seed=5)
    width = {r["bootstrap"]["unit"]: np.diff(r["accuracy_ci95"])[0] for r in (one, beat)}
    assert width["record"] > 3 * width["beat"], width


def test_record_resamples_are_whole_records_and_beat_resamples_keep_the_count():
    # Records of 1, 10, 100 and 1000 beats: a resample's beat count, written in decimal, says
    # how often each record was drawn (digits summing to the 4 records drawn).
    sizes = [1, 10, 100, 1000]
    table = pd.concat(
        [
            pd.DataFrame({"record": f"r{n}", "true": "N", "predicted": "N"}, index=range(n))
            for n in sizes
        ],
        ignore_index=True,
    )
    _, matrices = record_matrices(table, LABELS)
    resampled = bootstrap_matrices(matrices, "record", n_boot=200, seed=1)
    totals = resampled.sum((1, 2))
    assert all(sum(map(int, f"{t:04d}")) == 4 for t in totals)
    assert len(set(totals)) > 10
    beats = bootstrap_matrices(matrices, "beat", n_boot=50, seed=1)
    assert (beats.sum((1, 2)) == sum(sizes)).all()


def test_interval_is_null_when_fewer_than_half_the_resamples_define_it():
    values = np.r_[np.full(501, np.nan), np.linspace(0, 1, 499)]
    assert percentile_interval(values) is None
    lo, hi = percentile_interval(values[2:])  # 499 of 998 defined
    assert lo == pytest.approx(0.025, abs=1e-3) and hi == pytest.approx(0.975, abs=1e-3)
    # One record only: nothing to resample, intervals null rather than [x, x].
    single = metrics_report(
        heterogeneous_records(1), LABELS, "toy", "inter_patient", bootstrap_unit="record"
    )
    assert single["accuracy_ci95"] is None and single["bootstrap"]["units"] == 1


# --- missed beats and unmatched detections of detector experiments, on real beats -------------
AAMI = {"N": "N", "L": "N", "R": "N", "e": "N", "j": "N", "A": "S", "a": "S", "J": "S",
        "S": "S", "V": "V", "E": "V", "F": "F", "/": "Q", "f": "Q", "Q": "Q"}  # fmt: skip


@pytest.fixture(scope="module")
def record_100_detections(mitdb):
    """Record 100's annotation beats and "detector" beats at its reference beats, less some
    (missed), plus detections half-way between two beats (unmatched)."""
    record = read_record(mitdb, "100")
    reference = segment_record(record)
    peaks = record.ann_sample[beat_mask(record.ann_symbol)]
    symbols = record.ann_symbol[beat_mask(record.ann_symbol)]
    inner = np.arange(10, len(peaks) - 10)  # windows of these beats fit in the record
    dropped = np.r_[inner[symbols[inner] == "V"], inner[symbols[inner] == "A"][:5], inner[::100]]
    spurious = (peaks[inner[50::300]] + peaks[inner[50::300] + 1]) // 2
    kept = np.delete(peaks, dropped)
    detected = detected_beats(record, np.sort(np.r_[kept, spurious]), "hand")
    return reference, detected, symbols[dropped], peaks[dropped], spurious


def test_detector_errors_count_missed_beats_and_unmatched_detections(record_100_detections):
    reference, detected, dropped_symbols, dropped, spurious = record_100_detections
    experiment = {"protocol": "inter_patient", "classes": AAMI, "test_records": ["100"]}
    missed, unmatched = detector_errors(reference, detected, experiment, 42, "png/100")
    expected = pd.Series([AAMI[s] for s in dropped_symbols]).value_counts().to_dict()
    assert missed["true"].value_counts().to_dict() == expected
    assert expected["V"] == 1 and expected["S"] == 5  # record 100's one V beat and five A beats
    assert set(missed["record"]) == {"100"}
    assert sorted(unmatched["sample"]) == sorted(spurious.tolist())
    assert list(unmatched["path"]) == [f"png/100/{png_name('100', s)}" for s in unmatched["sample"]]
    assert unmatched["pre_rr"].notna().all()
    # Through metrics_report: a detector that classified every found beat right still loses
    # Se on the missed ones, and +P on the unmatched detections in EC57 only.
    found = detected["matched"] & np.isin(detected["symbol"], list(AAMI))
    labels = [AAMI[s] for s in detected["symbol"][found]]
    scored = pd.DataFrame({"record": "100", "true": labels, "predicted": labels})
    report = metrics_report(
        scored,
        LABELS,
        "detector",
        "inter_patient",
        missed=missed,
        unmatched=unmatched.assign(predicted="V"),
    )
    n_labelled = int(np.isin(reference["symbol"], list(AAMI)).sum())
    assert report["n_reference"] == n_labelled and report["n_missed"] == len(dropped)
    assert report["n_unmatched_detections"] == len(spurious) > 0
    assert report["aami_ec57"]["VEB"]["Se"] == 0.0  # the one V beat was missed
    assert report["aami_ec57"]["VEB"]["FP"] == len(spurious)
    assert report["aami_one_vs_rest"]["VEB"]["FP"] == 0
    assert report["per_class"]["N"]["sensitivity"] < 1 and report["per_class"]["N"]["ppv"] == 1


def test_detector_errors_intra_patient_draw_missed_beats_as_the_annotation_split(
    record_100_detections,
):
    reference, detected, _, dropped, spurious = record_100_detections
    experiment = {"protocol": "intra_patient", "classes": AAMI, "test_fraction": 0.25}
    missed, unmatched = detector_errors(reference, detected, experiment, 7, ".")
    # The missed beats are the dropped ones that the annotation experiment puts in test.
    split = split_table(reference, experiment, 7, ".").set_index("sample")["split"]
    in_test = [s for s in dropped if split.get(s) == "test"]
    assert len(missed) == len(in_test) and 0 < len(in_test) < len(dropped)
    assert set(unmatched["sample"]) <= set(spurious.tolist())
    with pytest.raises(ValueError, match="record 100: detector beats are of record 101"):
        detector_errors(reference, {**detected, "record": np.array("101")}, experiment, 7, ".")


def test_evaluate_job_of_a_detector_experiment_reads_the_test_records_beats(tmp_path):
    """Rule evaluate gets the reference and detector beats of the test records (not of the
    training records) for detector experiments, and none for annotation experiments."""
    tiny = {"preset": "tiny", "train": {"validation_records": ["118"]}}
    for segmentation, expected in (("detector", True), ("annotations", False)):
        config = write_config(
            tmp_path / f"{segmentation}.yaml",
            records=["100", "101", "118"],
            experiments={"inter_patient": {**tiny, "segmentation": segmentation}},
        )
        plan = run_snakemake(
            tmp_path, "-n", "results/inter_patient/metrics.json", configfile=config
        ).stdout
        inputs = plan.split("rule evaluate:", 1)[1].split("output:", 1)[0]
        own = f"results/{shipped_prefix('inter_patient')}"  # its window's folder
        assert (f"{own}beats/100.npz" in inputs) == expected, inputs
        assert (f"{own}beats_detected/xqrs/100.npz" in inputs) == expected, inputs
        assert (f"{own}png_detected/xqrs/100" in inputs) == expected, inputs
        assert "101.npz" not in inputs and "118.npz" not in inputs
