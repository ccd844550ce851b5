"""Classifying new recordings: a mitdb excerpt at 128 Hz whose leads are named ECG1/ECG2,
classified through the lead fallback by a small model trained on N and V beats of other records.
"""

import json
import logging

import numpy as np
import pytest
import wfdb
import yaml

from ecg2d.atomic import write_csv
from ecg2d.config import validate_config
from ecg2d.io import beat_mask, read_record, resample
from ecg2d.predict import (
    DATASET_KEYS,
    PredictConfigError,
    dataset_records,
    dataset_settings,
    label_symbols,
    model_settings,
    predict_record,
    read_new_record,
    read_table,
    score_tables,
    write_annotations,
)
from ecg2d.train import data_settings
from tests.conftest import REPO, run_snakemake, segmented, write_config

TEST_RECORD = "119"  # 156 N and 41 V beats in its first 3 minutes (ventricular bigeminy)
TRAIN_RECORDS = ("106", "208")  # N and V beats of other patients
SECONDS = 180
FS = 128
NAME = f"{TEST_RECORD}_{FS}"
CLASSES = ["N", "V"]
#: What the model was trained with (model.json "data", as the trainer writes it).
MODEL_DATA = data_settings(fs=360, window={"mode": "jun2018", "fixed_ms": [250, 400]},
                           image_size=128, crop={"size": 96, "offsets": [0, 16, 32]},
                           lead="MLII", fallback_channel=0)  # fmt: skip


def write_new_record(mitdb, record, fs, dest, seconds=SECONDS):
    """The first ``seconds`` of a mitdb record at ``fs`` Hz as a new WFDB record whose leads
    are named ECG1 (MLII) and ECG2 (V1), with its reference annotations."""
    leads = [read_record(mitdb, record, lead, None, fs=None) for lead in ("MLII", "V1")]
    n = int(seconds * leads[0].fs)
    keep = leads[0].ann_sample < n
    signals = []
    for lead in leads:
        signal, samples = resample(lead.signal[:n], lead.ann_sample[keep], lead.fs, fs)
        signals.append(signal)
    name = f"{record}_{fs}"
    wfdb.wrsamp(name, fs=fs, units=["mV", "mV"], sig_name=["ECG1", "ECG2"], fmt=["16", "16"],
                p_signal=np.stack(signals, axis=1).astype(np.float64),
                write_dir=str(dest))  # fmt: skip
    wfdb.wrann(name, "atr", samples, symbol=leads[0].ann_symbol[keep].tolist(), fs=fs,
               write_dir=str(dest))  # fmt: skip
    return name


def training_data(mitdb, per_record=600, seed=0):
    """Images (rendered at 128 px, as the workflow does), RR context and labels (0 N, 1 V) of
    up to ``per_record`` N and V beats of each training record."""
    from ecg2d.predict import render_images
    from ecg2d.rr import RR_COLUMNS

    rng = np.random.default_rng(seed)
    images, rr, labels = [], [], []
    for record in TRAIN_RECORDS:
        beats = segmented(record)
        for k, label in enumerate(CLASSES):
            index = np.flatnonzero(beats["symbol"] == label)
            index = np.sort(rng.choice(index, min(per_record, len(index)), replace=False))
            images.append(render_images(beats, MODEL_DATA["image_size"], index))
            rr.append(np.stack([beats[c][index] for c in RR_COLUMNS], axis=1))
            labels.append(np.full(len(index), k))
    return np.concatenate(images), np.concatenate(rr), np.concatenate(labels)


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory, mitdb):
    """A tiny CNN with RR input trained for seconds on N and V beats of 106 and 208; its
    model.json records the settings it was trained with."""
    import keras

    from ecg2d.images import resize_images
    from ecg2d.model import build_model
    from ecg2d.rr import RR_COLUMNS, rr_matrix
    from ecg2d.settings import ModelSettings
    from ecg2d.train import save_model

    images, rr, y = training_data(mitdb)
    x, features = resize_images(images, 32), rr_matrix(rr)
    keras.utils.set_random_seed(0)
    settings = ModelSettings(input_size=32, filters=(4, 8), convs_per_block=1, dense_units=16,
                             rr_features=True, rr_units=8)  # fmt: skip
    model = build_model(len(CLASSES), settings, rr_mean=features.mean(0),
                        rr_variance=features.var(0) + 1e-6)  # fmt: skip
    model.compile(keras.optimizers.Adam(0.003), "sparse_categorical_crossentropy")
    model.fit([x, features], y, batch_size=32, epochs=3, shuffle=True, verbose=0)
    info = {"classes": CLASSES, "input_size": 32, "rr_features": True,
            "rr_columns": list(RR_COLUMNS), "data": MODEL_DATA}  # fmt: skip
    path = tmp_path_factory.mktemp("model") / "model.h5"
    save_model(model, info, path)
    return path


@pytest.fixture(scope="module")
def newdb(tmp_path_factory, mitdb):
    """A folder holding 119's first 3 minutes at 128 Hz, leads ECG1/ECG2."""
    root = tmp_path_factory.mktemp("newdb")
    write_new_record(mitdb, TEST_RECORD, FS, root)
    return root


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def settings_for(config, **overrides):
    config = json.loads(json.dumps(config))
    config["predict"]["datasets"] = {"new": {"experiment": "inter_patient", **overrides}}
    validate_config(config, REPO / "config/schema.yaml")
    return config, dataset_settings(config, "new")


def predict(newdb, model, config, **overrides):
    """Prediction table of the 128 Hz record (xqrs segmentation) with the model's settings."""
    from ecg2d.classifier import Classifier

    config, settings = settings_for(config, path=str(newdb), **overrides)
    classifier = Classifier.load(model)
    data = model_settings(classifier.info, config, str(model))
    classes = config["experiments"]["inter_patient"]["classes"]
    table, _ = predict_record(newdb, NAME, settings, classifier, data["fs"], data["window"],
                              data["image_size"], classes)  # fmt: skip
    return table, settings


@pytest.fixture(scope="module")
def predicted(newdb, trained_model, config):
    return predict(newdb, trained_model, config)


def reference_beats(newdb):
    ann = wfdb.rdann(str(newdb / NAME), "atr")
    is_beat = beat_mask(np.asarray(ann.symbol))
    return np.asarray(ann.sample)[is_beat], np.asarray(ann.symbol)[is_beat]


def test_trained_model_classifies_a_128_hz_record_through_the_lead_fallback(predicted, newdb):
    table, settings = predicted
    assert (table["lead"] == "ECG1").all()  # no MLII: channel 0, named ECG1, was read
    beats = table[(table["detected"] == 1) & table["ref_label"].isin(CLASSES)]
    for label in CLASSES:
        ref = beats[beats["ref_label"] == label]
        assert len(ref) >= 30
        assert (ref["label"] == label).mean() > 0.7, label  # chance is 0.5
    report = score_tables([table], CLASSES, settings)
    for label in CLASSES:
        assert report["per_class"][label]["sensitivity"] > 0.7
    _, symbols = reference_beats(newdb)
    assert report["n_reference"] == int(np.isin(symbols, CLASSES).sum())


@pytest.fixture(scope="module")
def expert_model(tmp_path_factory, mitdb, trained_model):
    """The tiny CNN fused (weight 0.4) with a gbm_2lead expert fitted on the N and V beats of
    the training records: an expert that reads the QRS shape in the other lead."""
    import shutil

    from ecg2d.expert import KIND_COLUMNS, fit_expert

    columns = KIND_COLUMNS["gbm_2lead"]
    x, y = [], []
    for record in TRAIN_RECORDS:
        beats = segmented(record)
        keep = np.isin(beats["symbol"], CLASSES)
        x.append(np.stack([beats[c] for c in columns], axis=1)[keep])
        y.append(beats["symbol"][keep])
    expert = fit_expert(np.concatenate(x), np.concatenate(y), CLASSES, kind="gbm_2lead")
    folder = tmp_path_factory.mktemp("expert_model")
    shutil.copy(trained_model, folder / "model.h5")
    info = json.loads(trained_model.with_suffix(".json").read_text())
    info.update(expert=expert, fusion_weight=0.4)
    (folder / "model.json").write_text(json.dumps(info))
    return folder / "model.h5"


def test_the_other_lead_reaches_the_expert_and_one_lead_records_still_classify(
    newdb, expert_model, config, tmp_path
):
    """The 128 Hz record (leads ECG1, ECG2) and a copy with its first lead only: the expert
    reads ECG2's QRS shape where it exists (the probabilities differ), and the one-lead copy is
    classified through the trees' branches for a missing lead, not refused; both find the V
    beats."""
    rec = wfdb.rdrecord(str(newdb / NAME))
    ann = wfdb.rdann(str(newdb / NAME), "atr")
    wfdb.wrsamp(NAME, fs=FS, units=rec.units[:1], sig_name=rec.sig_name[:1], fmt=rec.fmt[:1],
                p_signal=rec.p_signal[:, :1], write_dir=str(tmp_path))  # fmt: skip
    wfdb.wrann(NAME, "atr", ann.sample, symbol=ann.symbol, fs=FS, write_dir=str(tmp_path))
    two, settings = predict(newdb, expert_model, config)
    one, _ = predict(tmp_path, expert_model, config)
    np.testing.assert_array_equal(two["sample"], one["sample"])  # the same beats
    p = [f"p_{c}" for c in CLASSES]
    found = two["detected"] == 1
    # images and RR context are the same, so without the other lead's shape the tables would be
    # equal to the last digit; the trees are sure of these N/V beats, so they differ little
    assert np.abs(two.loc[found, p].to_numpy() - one.loc[found, p].to_numpy()).max() > 0
    for table in (two, one):
        report = score_tables([table], CLASSES, settings)
        assert report["per_class"]["V"]["sensitivity"] > 0.7


def test_lead_fallback_and_nan_samples_are_logged(newdb, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    record = read_new_record(newdb, NAME, "MLII", 0, "atr")
    assert record.lead == "ECG1" and record.fs == FS
    fallback = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(NAME in m and "MLII" in m and "ECG1" in m for m in fallback), fallback
    caplog.clear()
    # The same record with 7 samples lost (WFDB's "no data" value, read back as NaN).
    rec = wfdb.rdrecord(str(newdb / NAME))
    signal = rec.p_signal.copy()
    signal[1000:1007, 0] = np.nan
    wfdb.wrsamp("gaps", fs=FS, units=rec.units, sig_name=rec.sig_name, fmt=rec.fmt,
                p_signal=signal, write_dir=str(tmp_path))  # fmt: skip
    gaps = read_new_record(tmp_path, "gaps", "ECG1", None)
    assert np.isfinite(gaps.signal).all() and (gaps.signal[1000:1007] == 0).all()
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("gaps" in m and " 7 " in m for m in warned), warned


def test_every_reference_beat_is_in_the_table_once(predicted, newdb):
    table, _ = predicted
    samples, symbols = reference_beats(newdb)
    referenced = table[table["ref_sample"] >= 0]
    assert sorted(referenced["ref_sample"]) == sorted(samples)  # each once: found or missed
    by_sample = dict(zip(samples, symbols))
    assert (referenced["ref_symbol"] == referenced["ref_sample"].map(by_sample)).all()
    missed = table[table["detected"] == 0]
    assert (missed["sample"] == -1).all() and (missed["label"] == "").all()
    assert missed[[f"p_{c}" for c in CLASSES]].isna().all().all()
    assert (missed["matched"] == 0).all() and (missed["ref_sample"] >= 0).all()
    detected = table[table["detected"] == 1]
    assert not detected[[f"p_{c}" for c in CLASSES]].isna().any().any()
    # Rows are in time order.
    position = np.where(table["sample"] >= 0, table["sample"], table["ref_sample"])
    assert (np.diff(position) > 0).all()


def test_predicted_annotations_round_trip_through_rdann(predicted, newdb, tmp_path):
    table, _ = predicted
    write_csv(table, tmp_path / f"{NAME}.csv")
    again = read_table(tmp_path / f"{NAME}.csv")
    assert again["label"].tolist() == table["label"].tolist()
    assert again["p_V"].isna().tolist() == table["p_V"].isna().tolist()
    write_annotations(again, NAME, FS, tmp_path / f"{NAME}.cnn")
    ann = wfdb.rdann(str(tmp_path / NAME), "cnn")
    detected = table[table["detected"] == 1]
    assert ann.fs == FS
    np.testing.assert_array_equal(ann.sample, detected["sample"])  # missed beats are not in it
    assert ann.symbol == detected["symbol"].tolist() and set(ann.symbol) <= set(CLASSES)
    # Samples are in the record's own rate: each matched beat lies near its reference beat.
    matched = detected[detected["matched"] == 1]
    assert np.all(np.abs(matched["sample"] - matched["ref_sample"]) <= 0.15 * FS)


def test_missed_beats_count_as_misses_of_their_class(predicted, newdb, trained_model, config,
                                                     monkeypatch):  # fmt: skip
    """Delete the detections of every second V beat: each becomes a missed V beat, and V
    sensitivity is over all reference V beats."""
    import ecg2d.predict

    samples, symbols = reference_beats(newdb)
    found_before = predicted[0].query("detected == 1")["ref_sample"]
    deleted = samples[1:-1][symbols[1:-1] == "V"][::2]
    v_beats = deleted * MODEL_DATA["fs"] / FS  # at the model's rate
    detect = ecg2d.predict.detect_peaks

    def missing_some(signal, fs, *args):
        peaks = detect(signal, fs, *args)
        near = np.abs(peaks[:, None] - v_beats[None, :]).min(axis=1) <= 0.1 * fs
        return peaks[~near]

    monkeypatch.setattr(ecg2d.predict, "detect_peaks", missing_some)
    table, settings = predict(newdb, trained_model, config)
    before = score_tables([predicted[0]], CLASSES, settings)
    after = score_tables([table], CLASSES, settings)
    assert after["n_reference"] == before["n_reference"]
    newly_missed = int(np.isin(deleted, found_before).sum())
    assert newly_missed >= 10 and after["n_missed"] == before["n_missed"] + newly_missed
    v = table[table["ref_label"] == "V"]
    found = ((v["detected"] == 1) & (v["label"] == "V")).sum()
    assert after["per_class"]["V"]["sensitivity"] == pytest.approx(found / len(v), abs=1e-3)
    assert after["per_class"]["V"]["sensitivity"] < before["per_class"]["V"]["sensitivity"] - 0.3


def test_model_settings_come_from_the_model(caplog):
    config = {"fs": 250, "window": {"mode": "jun2018", "fixed_ms": [100, 100]}, "image_size": 64}
    caplog.set_level(logging.WARNING)
    data = model_settings({"data": MODEL_DATA}, config, "m.h5")
    assert data == {"fs": 360.0, "window": MODEL_DATA["window"], "image_size": 128}
    warned = [r.getMessage() for r in caplog.records]
    assert "m.h5: fs differs (model 360, config 250): using the model's" in warned
    assert "m.h5: image_size differs (model 128, config 64): using the model's" in warned
    assert len(warned) == 2  # fixed_ms does not matter for the jun2018 window
    caplog.clear()
    assert model_settings({"data": MODEL_DATA}, data) == data and not caplog.records
    assert model_settings({"classes": CLASSES}, config, "old.h5") == config
    assert any("old.h5 does not record its settings" in r.getMessage() for r in caplog.records)


def test_a_dataset_without_records_is_an_error(config, tmp_path):
    _, settings = settings_for(config, path=str(tmp_path / "empty"))
    with pytest.raises(PredictConfigError, match=r"datasets.new: no records in .*empty"):
        dataset_records(settings, "")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PredictConfigError, match="no .hea file"):
        dataset_records(settings, "")
    with pytest.raises(PredictConfigError, match="datasets.new: no prediction tables"):
        score_tables([], CLASSES, settings)
    (tmp_path / "old.csv").write_text("record,sample,label\n100,5,N\n")
    with pytest.raises(ValueError, match="old.csv: not a prediction table.*detected"):
        read_table(tmp_path / "old.csv")


def test_dataset_settings_name_the_bad_key(config):
    with pytest.raises(PredictConfigError, match="predict.datasets.new.annotator"):
        settings_for(config, segmentation="annotations", annotator=None)
    with pytest.raises(PredictConfigError, match="predict.datasets.new.experiment"):
        settings_for(config, experiment="nope")
    with pytest.raises(PredictConfigError, match="predict.datasets.new.extension"):
        settings_for(config, extension="atr")
    raw = {**config, "predict": {"datasets": {"new": {"experiment": "inter_patient"}}}}
    with pytest.raises(PredictConfigError, match="new: no path, records.*validate"):
        dataset_settings(raw, "new")
    # the keys are the schema's, whose defaults the validation fills in
    schema = yaml.safe_load((REPO / "config/schema.yaml").read_text())
    props = schema["properties"]["predict"]["properties"]["datasets"]["additionalProperties"]
    assert set(props["properties"]) == set(DATASET_KEYS)
    _, settings = settings_for(config)
    assert settings["detector"] == props["properties"]["detector"]["default"] == "xqrs"


def test_labels_become_wfdb_beat_codes():
    assert label_symbols(["N", "S", "/", "!"], {}).tolist() == ["N", "S", "/", "!"]
    assert label_symbols(["NOR", "PVC"], {"NOR": "N", "PVC": "V"}).tolist() == ["N", "V"]
    with pytest.raises(PredictConfigError, match="'NOR' is not a WFDB beat code"):
        label_symbols(["NOR"], {})


def test_predict_rules_use_the_models_settings(tmp_path, newdb, trained_model):
    """The workflow with a config whose fs and image_size differ from the model's: reference
    segmentation at 128 Hz, annotation file, metrics.json with the missed end beats."""
    datasets = {"new128": {"path": str(newdb), "records": "all", "experiment": "inter_patient",
                           "model": str(trained_model), "segmentation": "annotations"}}  # fmt: skip
    config = write_config(tmp_path / "config.yaml", fs=250, image_size=160,
                          predict={"datasets": datasets})  # fmt: skip
    targets = [f"results/predict/new128/{NAME}.cnn", "results/predict/new128/metrics.json"]
    run_snakemake(tmp_path, "--cores", "1", *targets, configfile=config)
    log = (tmp_path / f"logs/predict/new128/{NAME}.log").read_text()
    assert "fs differs (model 360, config 250): using the model's" in log
    assert "image_size differs (model 128, config 160)" in log
    assert "360 Hz" in log and "ECG1" in log
    table = read_table(tmp_path / f"results/predict/new128/{NAME}.csv")
    ann = wfdb.rdann(str(tmp_path / f"results/predict/new128/{NAME}"), "cnn")
    samples, symbols = reference_beats(newdb)
    # Reference segmentation: the beats are the reference beats at exactly their samples,
    # less the first and the last (no window): those two are missed.
    detected = table[table["detected"] == 1]
    assert ann.sample.tolist() == detected["sample"].tolist() == samples[1:-1].tolist()
    assert table.loc[table["detected"] == 0, "ref_sample"].tolist() == [samples[0], samples[-1]]
    metrics = json.loads((tmp_path / "results/predict/new128/metrics.json").read_text())
    assert metrics["predict"]["unmatched"] == metrics["n_unmatched_detections"] == 0
    assert metrics["n_missed"] == int(np.isin(symbols[[0, -1]], CLASSES).sum())
    assert metrics["n_reference"] == int(np.isin(symbols, CLASSES).sum())
    assert metrics["n_test"] == metrics["predict"]["n_scored"] > 150
    assert metrics["per_class"]["V"]["sensitivity"] > 0.7
