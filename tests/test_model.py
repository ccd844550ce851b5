"""The CNN, its settings and presets, RR features, the Classifier interface and the training
data helpers."""

import dataclasses
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from ecg2d.classifier import Classifier, sidecar_path
from ecg2d.config import experiment_classes
from ecg2d.feed import BeatBatches
from ecg2d.images import resize_images
from ecg2d.model import build_model
from ecg2d.rr import (
    MIN_RR,
    RR_COLUMNS_IRREGULARITY,
    RR_FEATURES,
    RR_FEATURES_IRREGULARITY,
    rr_matrix,
)
from ecg2d.settings import (
    MODEL_KEYS,
    PRESETS,
    TRAIN_KEYS,
    ModelSettings,
    TrainSettings,
    preset_keys,
    preset_settings,
    resolve_settings,
)
from ecg2d.train import (
    cap_per_class,
    class_weights,
    data_settings,
    fit_model,
    save_model,
    validation_split,
)

REPO = Path(__file__).resolve().parents[1]
RR = np.array([[0.8, 0.8, 0.8, 0.8], [0.5, 1.1, 0.8, 0.9], [0.0, 0.7, 0.8, 0.8]])


def test_rr_matrix_features():
    features = rr_matrix(RR)
    assert features.shape == (3, len(RR_FEATURES)) and features.dtype == np.float32
    assert np.allclose(features[0, 4:], 0)  # a regular beat: every log ratio is 0
    assert features[1, 4] == pytest.approx(np.log(0.5 / 0.8))  # premature against local
    assert features[1, 5] == pytest.approx(np.log(1.1 / 0.5))  # compensatory pause
    # A zero interval is clipped to MIN_RR, never divides.
    assert features[2, 0] == pytest.approx(MIN_RR)
    assert features[2, 4] == pytest.approx(np.log(MIN_RR / 0.8))
    with pytest.raises(ValueError, match="N x 4"):
        rr_matrix(RR[:, :3])


def test_rr_matrix_refuses_missing_rr_naming_the_records():
    rr = np.vstack([RR, RR])
    rr[1, 0] = rr[4, 0] = np.nan
    rr[4, 2] = np.inf
    records = ["100", "101", "102", "200", "201", "202"]
    with pytest.raises(
        ValueError,
        match=r"2 beats of records \['101', '201'\] with NaN or infinite values "
        r"\(pre_rr 2, local_rr 1\)",
    ):
        rr_matrix(rr, records=records)
    with pytest.raises(ValueError, match=r"RR context has 2 beats with NaN"):
        rr_matrix(rr)


def test_rr_matrix_with_irregularity():
    rr5 = np.column_stack([RR, [0.0, 0.09, 0.3]])
    features = rr_matrix(rr5, RR_COLUMNS_IRREGULARITY)
    assert features.shape == (3, len(RR_FEATURES_IRREGULARITY)) == (3, 10)
    assert np.allclose(features[:, :9], rr_matrix(RR))  # the first nine are unchanged
    assert np.allclose(features[:, 9], np.log([0.01, 0.1, 0.31]))
    with pytest.raises(ValueError, match="N x 5"):
        rr_matrix(RR, RR_COLUMNS_IRREGULARITY)
    with pytest.raises(ValueError, match="rr columns"):
        rr_matrix(RR, ("pre_rr", "post_rr", "local_rr", "rr_irregularity"))


def test_presets_and_overrides():
    inter = resolve_settings({"protocol": "inter_patient", "train": {"epochs": 2}})
    assert inter.preset == "default" and inter.model.rr_features is True
    assert inter.train.epochs == 2
    assert inter.model.input_size == ModelSettings().input_size
    intra = resolve_settings({"protocol": "intra_patient", "preset": "paper"})
    assert intra.model.rr_features is False
    assert intra.model.filters == (64, 128, 256) and intra.model.dense_units == 2048
    assert intra.model.input_size == 128 and intra.model.convs_per_block == 2
    # an experiment's key overrides its preset's; lists from YAML become tuples
    tiny = resolve_settings(
        {"protocol": "inter_patient", "preset": "tiny", "model": {"filters": [3]}}
    )
    assert tiny.model.filters == (3,) and tiny.model.input_size == 32
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.model.filters = (4,)
    as_json = json.loads(json.dumps(tiny.as_dict()))
    assert as_json["model"]["filters"] == [3] and as_json["preset"] == "tiny"
    with pytest.raises(ValueError, match="preset"):
        resolve_settings({"protocol": "inter_patient", "preset": "huge"})
    with pytest.raises(ValueError, match=r"model: unknown keys \['widht'\]"):
        resolve_settings({"protocol": "inter_patient", "model": {"widht": 3}})


def test_presets_match_the_schema():
    import yaml

    schema = yaml.safe_load((REPO / "config/schema.yaml").read_text())
    experiment = schema["properties"]["experiments"]["additionalProperties"]["properties"]
    assert set(experiment["preset"]["enum"]) == set(PRESETS)
    # every model and training setting is described by the schema, and only those
    assert set(experiment["model"]["properties"]) == set(MODEL_KEYS)
    assert set(experiment["train"]["properties"]) == set(TRAIN_KEYS)
    # the schema holds no second default for them: the default preset is their one home
    for section in ("model", "train"):
        for key, spec in experiment[section]["properties"].items():
            assert "default" not in spec, f"{section}.{key}"
    # every preset resolves, and the default preset is the settings' own defaults
    for name in PRESETS:
        preset_settings(name)
    assert preset_settings("default").model == ModelSettings()
    assert preset_settings("default").train == TrainSettings()


def test_paper_configfile_trains_the_paper_preset_as_defined():
    """config/paper.yaml over config/config.yaml: every key the paper preset sets reaches every
    experiment unchanged (config.yaml's experiment keys tune the default preset and would
    otherwise win: jun2018's single convolution and square-root sampling did, once)."""
    import yaml

    shipped = yaml.safe_load((REPO / "config/config.yaml").read_text())["experiments"]
    over = yaml.safe_load((REPO / "config/paper.yaml").read_text())["experiments"]
    paper = preset_keys("paper")
    assert paper["model"]["convs_per_block"] == 2 and paper["train"]["balance"] == "none"
    assert set(over) == set(shipped)
    for name, experiment in shipped.items():
        # merged as Snakemake merges configfiles: key by key
        experiment = dict(experiment, preset=over[name]["preset"])
        for section in ("model", "train"):
            experiment[section] = {**experiment.get(section, {}), **over[name].get(section, {})}
        settings = resolve_settings(experiment).as_dict()
        assert settings["preset"] == "paper", name
        for section in ("model", "train"):
            for key, value in paper[section].items():
                assert settings[section][key] == value, f"{name}: {section}.{key}"
    # without the explicit keys, jun2018's own tuning would leak in: the check can fail
    bare = dict(shipped["jun2018"], preset="paper")
    assert resolve_settings(bare).model.convs_per_block != paper["model"]["convs_per_block"]


def test_paper_network_is_the_seeds():
    import keras

    model = build_model(8, preset_settings("paper").model)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [64, 64, 128, 128, 256, 256]
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert all(isinstance(c.kernel_initializer, keras.initializers.GlorotUniform) for c in convs)
    assert sum(isinstance(x, keras.layers.MaxPooling2D) for x in model.layers) == 3
    assert sum(isinstance(x, keras.layers.BatchNormalization) for x in model.layers) == 7
    assert sum(isinstance(x, keras.layers.ELU) for x in model.layers) == 7
    assert model.get_layer("dense").units == 2048 and model.get_layer("dropout").rate == 0.5
    assert model.input_shape == (None, 128, 128, 1) and model.output_shape == (None, 8)


def test_model_code_is_backend_neutral():
    for name in ("model.py", "train.py", "evaluate.py", "feed.py", "callbacks.py", "classifier.py"):
        source = (REPO / "ecg2d" / name).read_text()
        assert not re.search(r"^\s*(import|from)\s+tensorflow", source, re.M), name
        assert not re.search(r"\btf\.", source), name


def write_tiny(path, classes=("N", "S", "V"), rr=True, irregularity=False, rr_logits=False):
    settings = ModelSettings(
        input_size=32,
        filters=(4,),
        convs_per_block=1,
        dense_units=8,
        rr_features=rr,
        rr_units=4,
        rr_logits=rr_logits,
    )
    model = build_model(
        len(classes), settings, n_rr=len(RR_FEATURES_IRREGULARITY if irregularity else RR_FEATURES)
    )
    model.save(path)
    info = {"classes": list(classes), "input_size": 32, "rr_features": rr}
    if irregularity:
        info["rr_columns"] = list(RR_COLUMNS_IRREGULARITY)
    sidecar_path(path).write_text(json.dumps(info))
    return model


def test_classifier_round_trip(tmp_path):
    model = write_tiny(tmp_path / "model.h5")
    classifier = Classifier.load(tmp_path / "model.h5")
    assert classifier.classes == ["N", "S", "V"] and classifier.input_size == 32
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 128, 128), dtype=np.uint8)
    proba = classifier.predict_proba(images, RR[[0, 1, 2, 0, 1]])
    assert proba.shape == (5, 3) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    expected = model.predict_on_batch([resize_images(images, 32), rr_matrix(RR[[0, 1, 2, 0, 1]])])
    assert np.allclose(proba, expected, atol=1e-6)
    assert list(classifier.predict(images, RR[[0, 1, 2, 0, 1]])) == [
        "NSV"[k] for k in proba.argmax(axis=1)
    ]
    assert classifier.predict_proba(images[:0], RR[:0]).shape == (0, 3)
    with pytest.raises(ValueError, match="RR"):
        classifier.predict_proba(images)
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        Classifier.load(tmp_path / "missing.h5")
    # A model.json without rr_columns (older models) takes the four intervals; five RR
    # columns (the manifest's, with the irregularity) are cut to those four.
    assert classifier.rr_columns == ("pre_rr", "post_rr", "local_rr", "record_rr")
    rr5 = np.column_stack([RR[[0, 1, 2, 0, 1]], np.full(5, 0.2)])
    assert np.allclose(classifier.predict_proba(images, rr5), proba, atol=1e-6)


def test_data_settings_of_detector_and_annotation_beats():
    common = dict(
        fs=250, window={"mode": "fixed", "fixed_ms": [200, 300]}, image_size=64,
        crop={"size": 48, "offsets": [0, 8, 16]}, lead="V1", fallback_channel=None,
        lead2=("V2", "V5"),
    )  # fmt: skip
    data = data_settings(**common, segmentation="detector", detector="hamilton")
    assert data == {
        "fs": 250.0,
        "window": {
            "mode": "fixed",
            "fixed_ms": [200.0, 300.0],
            "amplitude": "beat",
            "leads": 1,
            "highpass_hz": None,
            "lowpass_hz": None,
        },
        "image_size": 64,
        "crop": {"size": 48, "offsets": [0, 8, 16]},
        "lead": "V1",
        "fallback_channel": None,
        "lead2": ["V2", "V5"],
        "segmentation": "detector",
        "detector": "hamilton",
    }
    assert json.loads(json.dumps(data)) == data  # JSON as it is
    # Beats cut around the reference annotations used no detector, whatever the config says.
    assert data_settings(**common, detector="xqrs")["detector"] is None
    with pytest.raises(ValueError, match="segmentation detector needs a detector"):
        data_settings(**common, segmentation="detector")
    with pytest.raises(ValueError, match="segmentation: unknown 'peaks'"):
        data_settings(**common, segmentation="peaks")


def test_trained_model_stores_its_data_settings(tmp_path):
    """A tiny model trained on the toy manifest: model.json has the data block given, and
    Classifier.data_settings returns it; a sidecar without one (older models) gives None."""
    manifest = toy_manifest(images_in=tmp_path)
    data = data_settings(
        fs=360, window={"mode": "jun2018", "fixed_ms": [250, 400]}, image_size=48,
        crop={"size": 36, "offsets": [0, 6, 12]}, lead="MLII", fallback_channel=0,
    )  # fmt: skip
    experiment = {"protocol": "intra_patient", "classes": {"N": "N", "A": "S"}, "preset": "tiny"}
    model, _, info = fit_model(manifest, experiment, seed=1, root=tmp_path, data=data)
    save_model(model, info, tmp_path / "model.h5")
    assert json.loads((tmp_path / "model.json").read_text())["data"] == data
    classifier = Classifier.load(tmp_path / "model.h5")
    assert classifier.data_settings == data
    write_tiny(tmp_path / "old.h5")
    assert Classifier.load(tmp_path / "old.h5").data_settings is None


def test_label_smoothing_loss_matches_smoothed_targets():
    """make_loss: plain sparse cross-entropy at 0; at 0.1 the cross-entropy against targets
    0.9 on the true class plus 0.1 / classes on every class, computed here by hand."""
    import keras

    from ecg2d.model import make_loss

    assert make_loss(0.0) == "sparse_categorical_crossentropy"
    probs = np.array([[0.98, 0.01, 0.01], [0.1, 0.1, 0.8], [0.25, 0.5, 0.25]], np.float32)
    labels = np.array([0, 2, 1])
    targets = 0.9 * np.eye(3)[labels] + 0.1 / 3
    expected = -(targets * np.log(probs)).sum(axis=1).mean()
    got = float(keras.ops.convert_to_numpy(make_loss(0.1)(labels[:, None], probs)))
    assert got == pytest.approx(expected, rel=1e-5)
    plain = -np.log(probs[np.arange(3), labels]).mean()
    assert got - plain > 0.05  # smoothing penalises the confident first row
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="label_smoothing"):
            make_loss(bad)


def test_focal_loss_weighs_down_beats_already_learnt():
    """make_loss's focal_gamma: the cross-entropy of each beat weighed by (1 - p)^gamma,
    computed here by hand, with and without label smoothing; the confident first row loses
    almost all its weight; a negative gamma is an error."""
    import keras

    from ecg2d.model import make_loss

    probs = np.array([[0.98, 0.01, 0.01], [0.1, 0.1, 0.8], [0.25, 0.5, 0.25]], np.float32)
    labels = np.array([0, 2, 1])
    for smoothing in (0.0, 0.1):
        targets = (1 - smoothing) * np.eye(3)[labels] + smoothing / 3
        terms = -targets * (1 - probs) ** 2 * np.log(probs)
        got = make_loss(smoothing, focal_gamma=2.0)(labels[:, None], probs)
        assert float(keras.ops.convert_to_numpy(got)) == pytest.approx(
            terms.sum(axis=1).mean(), rel=1e-5
        )
    plain = -np.log(probs[np.arange(3), labels])
    focal = -((1 - probs[np.arange(3), labels]) ** 2) * np.log(probs[np.arange(3), labels])
    assert focal[0] < 1e-3 * plain[0] and focal[2] > 0.2 * plain[2]
    with pytest.raises(ValueError, match="focal_gamma"):
        make_loss(0.0, focal_gamma=-1.0)


def test_weight_decay_shrinks_weights_apart_from_the_gradient():
    """make_optimizer's weight_decay: with a zero gradient Adam moves nothing, so one step
    leaves the weight at 1 without decay and at 1 - lr * decay with it (decoupled)."""
    import keras

    from ecg2d.model import make_optimizer

    for decay, expected in ((0.0, 1.0), (0.1, 1.0 - 0.5 * 0.1)):
        weight = keras.Variable(np.ones(3, np.float32))
        optimizer = make_optimizer("adam", 0.5, weight_decay=decay)
        optimizer.apply([keras.ops.zeros(3)], [weight])
        np.testing.assert_allclose(keras.ops.convert_to_numpy(weight), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="weight_decay"):
        make_optimizer("adam", 0.5, weight_decay=-1.0)


@pytest.mark.parametrize("train", [{"label_smoothing": 0.1}, {"mixup_alpha": 0.2}])
def test_training_with_label_smoothing_or_mixup_records_it(tmp_path, train):
    """A tiny model trained with train.label_smoothing or train.mixup_alpha (blended target
    rows, the dense loss): it trains to a finite loss, its model.json records the setting, and
    it loads for prediction (the loss is not needed there)."""
    manifest = toy_manifest(images_in=tmp_path)
    experiment = {
        "protocol": "intra_patient",
        "classes": {"N": "N", "A": "S"},
        "preset": "tiny",
        "train": train,
    }
    model, history, info = fit_model(manifest, experiment, seed=1, root=tmp_path)
    assert all(np.isfinite(epoch["loss"]) for epoch in history)
    save_model(model, info, tmp_path / "model.h5")
    saved = json.loads((tmp_path / "model.json").read_text())
    ((key, value),) = train.items()
    assert saved["train"][key] == value
    assert Classifier.load(tmp_path / "model.h5").classes == ["N", "S"]


def test_init_seed_moves_training_and_keeps_the_validation_beats(tmp_path):
    """fit_model's init_seed (bench/jun2018_ensemble.py's members): the same seed trains the same
    weights; another init_seed trains other weights on the same validation beats (the split
    still comes from seed); init_seed equal to seed is no change; model.json records it."""
    manifest = toy_manifest(images_in=tmp_path)
    experiment = {
        "protocol": "intra_patient",
        "classes": {"N": "N", "A": "S"},
        "preset": "tiny",
        "train": {"epochs": 1, "validation_fraction": 0.25},
    }

    def trained(**kwargs):
        model, _, info = fit_model(manifest, experiment, seed=1, root=tmp_path, **kwargs)
        return model.get_weights(), info

    first, info = trained()
    again, _ = trained(init_seed=1)
    other, other_info = trained(init_seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
    assert other_info["n_validation"] == info["n_validation"] > 0
    assert other_info["init_seed"] == 7 and "init_seed" not in info


def test_trained_model_carries_its_rhythm_expert(tmp_path):
    """With model.expert rr, fit_model fits the expert on the original training beats and
    model.json carries it: where the images are all alike, the reloaded Classifier still tells
    the premature S beats from the N beats by their rhythm."""
    manifest = toy_manifest(images_in=tmp_path)
    s = manifest["label"] == "S"
    manifest.loc[s, "pre_rr"], manifest.loc[s, "post_rr"] = 0.5, 1.1
    manifest["rr_irregularity"] = np.where(s, 0.3, 0.02)
    experiment = {
        "protocol": "intra_patient",
        "classes": {"N": "N", "A": "S"},
        "preset": "tiny",
        "test_fraction": 0.25,
        "model": {"expert": "rr", "fusion_weight": 0.2},
    }
    model, _, info = fit_model(manifest, experiment, seed=1, root=tmp_path)
    assert info["expert"]["n_train"] == int((manifest["augmented"] == 0).sum())
    assert info["fusion_weight"] == 0.2 and info["model"]["expert"] == "rr"
    save_model(model, info, tmp_path / "model.h5")
    classifier = Classifier.load(tmp_path / "model.h5")
    originals = manifest[manifest["augmented"] == 0]
    images = np.full((len(originals), 48, 48), 200, np.uint8)
    rr = originals[list(RR_COLUMNS_IRREGULARITY)].to_numpy()
    assert list(classifier.predict(images, rr)) == list(originals["label"])
    from ecg2d.shape import SHAPE_COLUMNS

    trees = manifest.assign(rhythm_irregularity=0.02, **{c: 1.0 for c in SHAPE_COLUMNS})
    gbm = {
        **experiment,
        "model": {"expert": "gbm", "expert_min_leaf": 7, "expert_weights": "record"},
    }
    fitted = fit_model(trees, gbm, seed=1, root=tmp_path)[2]
    assert fitted["expert"]["min_leaf"] == 7 and fitted["expert"]["weighting"] == "record"
    without = fit_model(manifest, {**experiment, "model": {}}, seed=1, root=tmp_path)[2]
    assert without["expert"] is None and without["fusion_weight"] == 1.0
    with pytest.raises(ValueError, match="no column rr_irregularity"):
        fit_model(manifest.drop(columns="rr_irregularity"), experiment, seed=1, root=tmp_path)


def test_classifier_with_irregularity_and_rr_logits(tmp_path):
    model = write_tiny(tmp_path / "model.h5", irregularity=True, rr_logits=True)
    assert model.get_layer("rr_logits").units == 3
    classifier = Classifier.load(tmp_path / "model.h5")
    assert classifier.rr_columns == RR_COLUMNS_IRREGULARITY
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (4, 64, 64), dtype=np.uint8)
    rr5 = np.column_stack([RR[[0, 1, 2, 0]], [0.0, 0.1, 0.3, 0.5]])
    proba = classifier.predict_proba(images, rr5)
    features = rr_matrix(rr5, RR_COLUMNS_IRREGULARITY)
    expected = model.predict_on_batch([resize_images(images, 32), features])
    assert proba.shape == (4, 3) and np.allclose(proba, expected, atol=1e-6)
    with pytest.raises(ValueError, match="N x 5"):
        classifier.predict_proba(images, RR[[0, 1, 2, 0]])


def toy_manifest(images_in=None):
    """Two records, classes N and S; S beats of record a have two crops each. With
    ``images_in``, a uniform grey 48 px PNG is written there for every row."""
    rows = []
    for record in ("a", "b"):
        for i in range(40):
            label = "S" if i % 4 == 0 else "N"
            base = {
                "record": record,
                "sample": 100 * i,
                "symbol": "A" if label == "S" else "N",
                "label": label,
                "split": "train",
                "pre_rr": 0.8,
                "post_rr": 0.8,
                "local_rr": 0.8,
                "record_rr": 0.8,
            }
            rows.append({**base, "path": f"{record}_{i}.png", "augmented": 0})
            if label == "S" and record == "a":
                for k in range(2):
                    rows.append({**base, "path": f"{record}_{i}_c{k}.png", "augmented": 1})
    manifest = pd.DataFrame(rows)
    if images_in is not None:
        for path in manifest["path"]:
            cv2.imwrite(str(Path(images_in) / path), np.full((48, 48), 200, np.uint8))
    return manifest


def test_intra_patient_validation_keeps_crops_with_their_beat():
    manifest = toy_manifest()
    fit, val = validation_split(manifest, "intra_patient", seed=1, fraction=0.25)
    assert (val["augmented"] == 0).all() and len(val) == 20
    assert set(val["label"]) == {"N", "S"}  # stratified by class
    key = lambda t: set(zip(t["record"], t["sample"]))  # noqa: E731
    assert not key(val) & key(fit)  # no beat, nor a crop of it, on both sides
    assert len(fit) + len(val) + 2 * len(val[(val.label == "S") & (val.record == "a")]) == len(
        manifest
    )
    again, _ = validation_split(manifest, "intra_patient", seed=1, fraction=0.25)
    assert again.index.equals(fit.index)  # seeded


def test_inter_patient_validation_holds_out_whole_records():
    manifest = toy_manifest()
    fit, val = validation_split(manifest, "inter_patient", 0, records=["a", "zz"])
    assert set(val["record"]) == {"a"} and set(fit["record"]) == {"b"}
    with pytest.raises(ValueError, match="test records"):
        validation_split(manifest, "inter_patient", 0, records=["a"], test_records=["a"])


def test_balance_helpers():
    y = np.array([0] * 8 + [1] * 2)
    assert np.allclose(class_weights(y, 3), [10 / 16, 10 / 4, 0])
    capped = cap_per_class(toy_manifest(), 10, seed=0)
    assert capped["label"].value_counts().max() == 10
    assert experiment_classes({"classes": {"N": "N", "L": "N", "A": "S"}}) == ["N", "S"]


def test_beat_batches_stream_balanced_epochs(tmp_path):
    manifest = toy_manifest()
    for path in manifest["path"]:
        cv2.imwrite(str(tmp_path / path), np.full((128, 128), 200, np.uint8))
    batches = BeatBatches(
        manifest,
        ["N", "S"],
        input_size=16,
        batch_size=8,
        use_rr=True,
        root=tmp_path,
        order="sampling",
        samples_per_class=12,
        seed=3,
    )
    assert len(batches) == 3
    first = np.concatenate([batches.batch_rows(i) for i in range(len(batches))])
    assert np.bincount(batches.y[first]).tolist() == [12, 12]
    (x, rr), y = batches[0]
    assert x.shape == (8, 16, 16, 1) and rr.shape == (8, len(RR_FEATURES)) and y.shape == (8,)
    assert np.allclose(x, 200)
    batches.on_epoch_end()
    second = np.concatenate([batches.batch_rows(i) for i in range(len(batches))])
    assert not np.array_equal(first, second)  # a fresh draw every epoch
    fixed = BeatBatches(manifest, ["N", "S"], 16, 64, use_rr=False, root=tmp_path)
    assert np.array_equal(fixed.batch_rows(0), np.arange(64))
    with pytest.raises(ValueError, match="not classes"):
        BeatBatches(manifest, ["N"], 16, 8, use_rr=False)

    # Square-root sampling: the epoch's 24 images shared as the square roots of the class sizes.
    sqrt = BeatBatches(
        manifest, ["N", "S"], 16, 8, use_rr=False, order="sampling", samples_per_class=12,
        sampling_power=0.5, seed=3,
    )  # fmt: skip
    sizes = np.bincount(sqrt.y)
    assert sizes.tolist() == [60, 40]  # N: 30 beats per record; S: 10 per record, a's with crops
    drawn = np.bincount(sqrt.y[np.concatenate([sqrt.batch_rows(i) for i in range(len(sqrt))])])
    assert drawn.tolist() == [13, 11]  # 24 * sqrt(60) / (sqrt(60) + sqrt(40)) = 13.2


def test_mixup_blends_images_rr_and_targets_alike(tmp_path):
    """BeatBatches' mixup_alpha: each image is lam * its own + (1 - lam) * another of the batch
    (images of N here 200, of S 40, so lam is read back from the pixels), the RR features and
    the target rows blended with the same lam, targets summing to 1; the same seed, epoch and
    batch repeat the draw; without mixup labels stay integers; a negative alpha is an error.
    The dense loss make_loss gives for such rows is the cross-entropy against them."""
    import keras

    from ecg2d.model import make_loss

    manifest = toy_manifest()
    manifest["pre_rr"] = np.random.default_rng(0).uniform(0.4, 1.2, len(manifest))
    for path, label in zip(manifest["path"], manifest["label"]):
        cv2.imwrite(str(tmp_path / path), np.full((32, 32), 200 if label == "N" else 40, np.uint8))
    kwargs = dict(use_rr=True, root=tmp_path, order="shuffle", seed=5)
    batches = BeatBatches(manifest, ["N", "S"], 16, 32, mixup_alpha=0.4, **kwargs)
    (x, rr), y = batches[0]
    rows = batches.batch_rows(0)
    assert x.shape == (32, 16, 16, 1) and y.shape == (32, 2) and y.dtype == np.float32
    np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-6)
    lam_n = (x[:, 0, 0, 0] - 40) / 160  # the share of N in each blended image
    np.testing.assert_allclose(y[:, 0], lam_n, atol=1e-4)
    assert 0 < np.mean((y[:, 0] > 0.01) & (y[:, 0] < 0.99))  # some pairs really mix classes
    plain = BeatBatches(manifest, ["N", "S"], 16, 32, **kwargs)
    (x0, rr0), y0 = plain[0]
    assert y0.shape == (32,) and np.array_equal(plain.batch_rows(0), rows)
    rng = np.random.default_rng([5, 0, 0, 1])  # the draw the docstring promises for the batch
    lam = rng.beta(0.4, 0.4, size=32).astype(np.float32)[:, None]
    other = rng.permutation(32)
    np.testing.assert_allclose(rr, lam * rr0 + (1 - lam) * rr0[other], rtol=1e-5)
    one_hot = np.eye(2)[y0]
    np.testing.assert_allclose(y, lam * one_hot + (1 - lam) * one_hot[other], atol=1e-6)
    np.testing.assert_allclose(
        x[:, 0, 0, 0], lam[:, 0] * x0[:, 0, 0, 0] + (1 - lam[:, 0]) * x0[other, 0, 0, 0], rtol=1e-5
    )
    (x2, _), y2 = batches[0]
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    with pytest.raises(ValueError, match="mixup_alpha"):
        BeatBatches(manifest, ["N", "S"], 16, 32, mixup_alpha=-1.0, **kwargs)
    probs = np.array([[0.7, 0.3], [0.2, 0.8]], np.float32)
    targets = np.array([[0.6, 0.4], [0.0, 1.0]], np.float32)
    got = float(keras.ops.convert_to_numpy(make_loss(0.0, dense=True)(targets, probs)))
    assert got == pytest.approx(-(targets * np.log(probs)).sum(axis=1).mean(), rel=1e-5)


@pytest.mark.parametrize("given, expected", [(None, "1"), ("0", "0")])
def test_limit_threads_asks_for_onednn_unless_the_user_said_otherwise(given, expected):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if given is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = given
    code = (
        "import os; from ecg2d.model import limit_threads; limit_threads(2); "
        "print(os.environ['TF_ENABLE_ONEDNN_OPTS'], os.environ['TF_NUM_INTRAOP_THREADS'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == [expected, "2"]


LATE = "import ecg2d.train; from ecg2d.model import limit_threads; limit_threads(2)"
AGAIN = (
    "from ecg2d.model import limit_threads; limit_threads(2); import ecg2d.train; "
    "limit_threads(2); print('again: fine'); limit_threads(1)"
)
# The bench scripts' training entries (final_seeds twice: two seeds), started where no manifest
# exists: they must reach the manifest (FileNotFoundError), i.e. set the thread counts before
# TensorFlow is imported.
BENCH_ENTRIES = [
    "import final_seeds, contextlib; from pathlib import Path\n"
    "with contextlib.suppress(FileNotFoundError): "
    "final_seeds.run_seed('jun2018', {}, 1, Path('x.json'), 2)\n"
    "final_seeds.run_seed('jun2018', {}, 2, Path('x.json'), 2)",  # a second seed
    "import ds1_cv, types; "
    "ds1_cv.train_phase(types.SimpleNamespace(threads=2, manifest='none.csv'), {}, [], [])",
]


@pytest.mark.parametrize("code", [LATE, AGAIN, *BENCH_ENTRIES])
def test_thread_limits_come_before_tensorflow_or_fail_loudly(code, tmp_path):
    """TensorFlow fixes its thread counts and oneDNN at import: ``limit_threads`` after it
    would silently do nothing (a bench script ran at half speed so), so it raises instead."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(repo), str(repo / "bench")]))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode != 0
    if code == LATE:
        assert "RuntimeError: limit_threads() was called after TensorFlow" in out.stderr
    elif code == AGAIN:  # once per seed in one process: fine; with another count: refused
        assert out.stdout.strip() == "again: fine"
        assert "RuntimeError: limit_threads(1) after limit_threads(2)" in out.stderr
    else:
        assert "RuntimeError" not in out.stderr
        assert "FileNotFoundError" in out.stderr, out.stderr[-2000:]


def test_validation_scores_leave_rare_classes_out_of_the_macro_figures():
    """The figures that choose the epoch: a class with fewer than MIN_VALIDATION_SUPPORT
    validation beats counts in accuracy but not in the macro averages."""
    from ecg2d.callbacks import MIN_VALIDATION_SUPPORT, validation_scores

    y = np.array([0] * 30 + [1] * 25 + [2] * 3)
    predicted = np.array([0] * 30 + [1] * 20 + [0] * 5 + [0] * 3)
    proba = np.full((len(y), 3), 0.1)
    proba[np.arange(len(y)), predicted] = 0.8
    scores = validation_scores(y, proba, 3)
    assert 3 < MIN_VALIDATION_SUPPORT <= 25
    assert scores["val_accuracy"] == pytest.approx(50 / 58)
    assert scores["val_balanced_accuracy"] == pytest.approx((1.0 + 0.8) / 2)
    f1_0, f1_1 = 2 * 30 / (2 * 30 + 8), 2 * 20 / (2 * 20 + 5)
    assert scores["val_macro_f1"] == pytest.approx((f1_0 + f1_1) / 2)
    right = predicted == y
    assert scores["val_loss"] == pytest.approx(-np.mean(np.where(right, np.log(0.8), np.log(0.1))))
