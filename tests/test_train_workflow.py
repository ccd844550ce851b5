"""Training and evaluation end to end through Snakemake, tiny network, three real records."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml

from ecg2d.expert import COMPOSITE_KINDS, TREE_KINDS
from ecg2d.rr import rr_columns
from ecg2d.settings import resolve_settings
from tests.conftest import OWN_WINDOW, REPO, REPORT_RECORDS, TRAINED_OUTPUTS

RECORDS = REPORT_RECORDS  # inter_patient: 101 trains, 118 validates, 100 tests
EXPERIMENTS = ["jun2018", "inter_patient"]
#: inter_patient cuts its beats with a window of its own; jun2018 keeps the top-level one.
FIXED = OWN_WINDOW
OWN = "results/windows/fixed_250_400_record_hp0.5_lp40"


@pytest.fixture(scope="module")
def workdir(tiny_run):
    """Models and metrics of both experiments (tiny preset; conftest's ``tiny_run``, with
    inter_patient's own window), and the dry run of rule all made before it."""
    root, _, dry = tiny_run
    return root, dry


def test_rule_all_trains_and_evaluates_every_experiment(workdir):
    _, dry = workdir
    table = dry.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", table, re.M))
    assert counts["train"] == "2" and counts["evaluate"] == "2"


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_output_is_made(workdir, experiment):
    workdir, _ = workdir
    for name in TRAINED_OUTPUTS:
        assert (workdir / "results" / experiment / name).stat().st_size > 0, name
    for rule in ("train", "evaluate"):
        assert (workdir / f"logs/{experiment}/{rule}.log").is_file()
        assert (workdir / f"results/benchmarks/{experiment}/{rule}.tsv").is_file()
    log = (workdir / f"logs/{experiment}/train.log").read_text()
    assert "epoch 1/1 batch" in log  # progress is logged
    history = pd.read_csv(workdir / f"results/{experiment}/history.csv")
    assert list(history["epoch"]) == [1] and "val_macro_f1" in history


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_metrics_json(workdir, experiment):
    workdir, _ = workdir
    metrics = json.loads((workdir / f"results/{experiment}/metrics.json").read_text())
    info = json.loads((workdir / f"results/{experiment}/model.json").read_text())
    for key in (
        "experiment",
        "protocol",
        "classes",
        "n_train",
        "n_test",
        "accuracy",
        "macro",
        "per_class",
        "confusion_matrix",
    ):
        assert key in metrics, key
    assert metrics["experiment"] == experiment and metrics["classes"] == info["classes"]
    assert metrics["n_train"] == info["n_train"]
    assert ("aami_ec57" in metrics) == (experiment == "inter_patient")
    assert metrics["training"]["preset"] == "tiny"


def _same(value, expected) -> bool:
    """A metrics.json figure equals scikit-learn's (``null`` where scikit-learn gives nan)."""
    if value is None or np.isnan(expected):
        return value is None and np.isnan(expected)
    return value == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_metrics_equal_scikit_learns_on_the_predictions(workdir, experiment):
    """metrics.json, recomputed by scikit-learn from predictions.csv (one row per test beat)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    workdir, _ = workdir
    metrics = json.loads((workdir / f"results/{experiment}/metrics.json").read_text())
    predictions = pd.read_csv(workdir / f"results/{experiment}/predictions.csv")
    true, predicted, classes = predictions["true"], predictions["predicted"], metrics["classes"]
    assert metrics["n_test"] == len(predictions)
    assert metrics["accuracy"] == pytest.approx(accuracy_score(true, predicted), abs=1e-9)
    expected = confusion_matrix(true, predicted, labels=classes)
    assert metrics["confusion_matrix"]["matrix"] == expected.tolist()
    ppv, se, f1, support = precision_recall_fscore_support(
        true, predicted, labels=classes, zero_division=np.nan
    )
    for k, label in enumerate(classes):
        row = metrics["per_class"][label]
        assert row["support"] == support[k], label
        assert _same(row["sensitivity"], se[k]) and _same(row["ppv"], ppv[k]), label
        assert _same(row["f1"], f1[k]), label
    for key, values in (("sensitivity", se), ("ppv", ppv), ("f1", f1)):
        assert _same(metrics["macro"][key], np.nanmean(values)), key


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_predictions_are_the_test_originals(workdir, experiment):
    workdir, _ = workdir
    from ecg2d.split import read_table

    manifest = read_table(workdir / f"results/{experiment}/manifest.csv")
    predictions = pd.read_csv(
        workdir / f"results/{experiment}/predictions.csv", dtype={"record": str}
    )
    test = manifest[(manifest["split"] == "test") & (manifest["augmented"] == 0)]
    assert len(test) and manifest["augmented"].any()  # crops exist, and are left out
    assert list(zip(predictions["record"], predictions["sample"])) == list(
        zip(test["record"], test["sample"])
    )
    assert list(predictions["true"]) == list(test["label"])
    if experiment == "inter_patient":
        assert set(predictions["record"]) == {"100"}  # DS2 only; 118 validated, never tested


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_reloaded_model_reproduces_predictions(workdir, experiment):
    workdir, _ = workdir
    from ecg2d.classifier import Classifier
    from ecg2d.images import read_image
    from ecg2d.split import read_table

    classifier = Classifier.load(workdir / f"results/{experiment}/model.h5")
    predictions = pd.read_csv(
        workdir / f"results/{experiment}/predictions.csv", dtype={"record": str}
    )
    manifest = read_table(workdir / f"results/{experiment}/manifest.csv")
    rows = manifest[(manifest["split"] == "test") & (manifest["augmented"] == 0)].iloc[:300]
    images = np.stack([read_image(workdir / path) for path in rows["path"]])
    proba = classifier.predict_proba(images, rows[list(classifier.rr_columns)].to_numpy())
    expected = predictions.iloc[:300][[f"p_{c}" for c in classifier.classes]].to_numpy()
    assert np.allclose(proba, expected, atol=1e-5)
    assert list(np.array(classifier.classes)[proba.argmax(axis=1)]) == list(
        predictions["predicted"].iloc[:300]
    )


def test_inter_patient_model_uses_rr_and_held_out_records(workdir):
    workdir, _ = workdir
    info = json.loads((workdir / "results/inter_patient/model.json").read_text())
    assert info["rr_features"] is True and info["validation"] == {"records": ["118"]}
    # the RR columns and the expert follow config/config.yaml (chosen on the DS1 folds)
    shipped = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    model = resolve_settings(shipped["experiments"]["inter_patient"]).model
    assert info["rr_columns"] == list(rr_columns(model.rr_irregularity))
    assert ("log_rr_irregularity" in info["rr_feature_names"]) == model.rr_irregularity
    assert model.expert != "none" and info["expert"]["kind"] == model.expert
    assert info["fusion_weight"] == model.fusion_weight
    expert = info["expert"]
    assert expert["n_train"] > 0 and expert["classes"] == info["classes"]
    assert ("trees" in expert) == (model.expert in TREE_KINDS)  # trees, or coefficients
    # a composite kind (gbm_regime) holds its experts, each trees or coefficients
    parts = list(expert["experts"].values()) if model.expert in COMPOSITE_KINDS else [expert]
    for part in parts:
        assert ("trees" in part) == (part["kind"] in TREE_KINDS)
        assert len(part["trees"] if "trees" in part else part["coef"]) > 0
    jun = json.loads((workdir / "results/jun2018/model.json").read_text())
    assert jun["rr_features"] is False and jun["n_validation"] > 0


def test_an_experiment_cuts_beats_with_its_own_window(workdir):
    """inter_patient's fixed window with one amplitude scale per record: its own beats and
    images under results/windows/, 650 ms around every (aligned) R peak, recorded in its
    model.json;
    jun2018 keeps results/beats/."""
    workdir, _ = workdir
    from ecg2d.segment import load_beats

    own = workdir / OWN
    for record in RECORDS:
        fixed = load_beats(own / f"beats/{record}.npz")
        shared = load_beats(workdir / f"results/beats/{record}.npz")
        # 250 / 400 ms at 360 Hz (+1 end) around the beat's QRS aligned to the record's median
        # QRS: within 20 ms of its mark
        assert set(fixed["end"] - fixed["start"]) == {235}
        offset = fixed["sample"] - fixed["start"] - 90
        assert np.abs(offset).max() <= round(0.02 * 360) + 1 and np.any(offset != 0)
        widths = shared["end"] - shared["start"]
        assert widths.std() > 10  # jun2018 windows follow the rhythm
        assert (own / f"png/{record}").is_dir()
        log = (workdir / f"logs/{OWN.removeprefix('results/')}/png/{record}.log").read_text()
        assert f"record {record}: median QRS amplitude" in log
    manifest = pd.read_csv(workdir / "results/inter_patient/manifest.csv")
    originals = manifest.loc[manifest["augmented"] == 0, "path"]
    assert originals.str.startswith(f"{OWN}/png/").all()
    jun = pd.read_csv(workdir / "results/jun2018/manifest.csv")
    assert jun.loc[jun["augmented"] == 0, "path"].str.startswith("results/png/").all()
    info = json.loads((workdir / "results/inter_patient/model.json").read_text())
    assert info["data"]["window"] == FIXED
    jun_info = json.loads((workdir / "results/jun2018/model.json").read_text())
    # jun2018 draws the lead as recorded
    no_band = {"highpass_hz": None, "lowpass_hz": None}
    jun_window = {**FIXED, "mode": "jun2018", "amplitude": "beat", **no_band}
    assert jun_info["data"]["window"] == jun_window


def test_predict_renders_with_the_models_own_window(workdir, mitdb):
    """predict re-cuts and re-renders record 100 with inter_patient's window (fixed, one
    amplitude scale per record, from its model.json): on the reference beats it reproduces the
    workflow's test predictions."""
    workdir, _ = workdir
    from ecg2d.classifier import Classifier
    from ecg2d.config import validate_config
    from ecg2d.predict import dataset_settings, model_settings, predict_record

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["predict"]["datasets"] = {
        "own": {"experiment": "inter_patient", "segmentation": "annotations", "records": ["100"]}
    }
    validate_config(config, REPO / "config/schema.yaml")
    classifier = Classifier.load(workdir / "results/inter_patient/model.h5")
    data = model_settings(classifier.info, config)
    assert data["window"] == FIXED
    classes = config["experiments"]["inter_patient"]["classes"]
    table, _ = predict_record(mitdb, "100", dataset_settings(config, "own"), classifier,
                              data["fs"], data["window"], data["image_size"], classes)  # fmt: skip
    expected = pd.read_csv(workdir / "results/inter_patient/predictions.csv")
    merged = expected.merge(table, on="sample", suffixes=("", "_predict"))
    assert len(merged) == len(expected) > 1000
    for label in classifier.classes:
        diff = (merged[f"p_{label}"] - merged[f"p_{label}_predict"]).abs()
        # the same images: rendered per beat instead, the median differs by ~6e-4 here
        assert diff.median() < 2e-5 and diff.max() < 2e-3, label


def test_stage_seconds_sums_each_stages_benchmark_files(workdir):
    """bench/stage_seconds.py: a per-record stage sums its records' jobs; a single job beside
    such folders (an experiment's train) is a stage of its own."""
    from tests.conftest import load_bench

    root, _ = workdir
    table = load_bench("stage_seconds").stage_seconds(root)
    assert table["beats"]["jobs"] == len(RECORDS)
    bench = root / "results/benchmarks"
    beats = sum(pd.read_csv(p, sep="\t")["s"].iloc[0] for p in (bench / "beats").glob("*.tsv"))
    assert table["beats"]["seconds"] == pytest.approx(beats, abs=0.1)
    for experiment in EXPERIMENTS:
        train = pd.read_csv(bench / experiment / "train.tsv", sep="\t")["s"].iloc[0]
        assert table[f"{experiment}/train"]["jobs"] == 1
        assert table[f"{experiment}/train"]["seconds"] == pytest.approx(train, abs=0.051)
        assert table[f"{experiment}/crops"]["jobs"] >= 1
