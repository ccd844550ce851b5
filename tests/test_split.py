"""Labels, per-record splits and manifest rows (no leakage, reproducible)."""

import numpy as np
import pandas as pd
import pytest
import yaml

from ecg2d.io import read_record
from ecg2d.segment import segment_record
from ecg2d.split import assign_split, build_manifest, crop_table, label_beats, split_table
from tests.conftest import REPO

CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
JUN = CONFIG["experiments"]["jun2018"]
INTER = CONFIG["experiments"]["inter_patient"]


@pytest.fixture(scope="module")
def beats(mitdb):
    return {r: segment_record(read_record(mitdb, r)) for r in ["100", "207", "208"]}


def test_label_beats_maps_and_leaves_out():
    labels = label_beats(np.array(["N", "e", "A", "Q", "!", "B"]), INTER["classes"])
    assert labels.tolist() == ["N", "N", "S", "Q", "", ""]


def test_intra_patient_split_is_stratified_and_seeded(beats):
    tables = [split_table(b, JUN, 42, "png") for b in beats.values()]
    table = pd.concat(tables)
    assert set(table["split"]) == {"train", "test"}
    for label, group in table.groupby("label"):
        if len(group) >= 100:
            assert abs((group["split"] == "test").mean() - 0.25) < 0.04, label
    again = pd.concat([split_table(b, JUN, 42, "png") for b in beats.values()])
    pd.testing.assert_frame_equal(table, again)
    other = pd.concat([split_table(b, JUN, 7, "png") for b in beats.values()])
    assert (other["split"].to_numpy() != table["split"].to_numpy()).mean() > 0.2


def test_expected_test_count_is_exact_on_average():
    labels = np.array(["E"] * 3)  # 0.75 beats expected in test, a record at a time
    counts = [
        (assign_split(labels, f"r{i}", "intra_patient", 1) == "test").sum() for i in range(400)
    ]
    assert abs(np.mean(counts) - 0.75) < 0.1


def test_inter_patient_split_is_by_record(beats):
    assert split_table(beats["100"], INTER, 42, "png")["split"].unique().tolist() == ["test"]
    assert split_table(beats["207"], INTER, 42, "png")["split"].unique().tolist() == ["train"]
    with pytest.raises(ValueError, match="record 102 is in neither"):
        assign_split(np.array(["N"]), "102", "inter_patient", 42, 0.25, ["101"], ["100"])


def test_crops_only_for_augmented_training_beats(beats, tmp_path):
    table = split_table(beats["207"], JUN, 42, "png")
    crops = crop_table(table, JUN["augment"], "crops", 9)
    source = table[(table["split"] == "train") & (table["label"] != "N")]
    assert len(crops) == 9 * len(source)
    assert set(crops["split"]) == {"train"} and set(crops["augmented"]) == {1}
    assert "N" not in set(crops["label"])
    table.to_csv(tmp_path / "207.csv", index=False)
    manifest = build_manifest([tmp_path / "207.csv"], ["crops"], JUN["augment"], 9)
    assert len(manifest) == len(table) + len(crops)
    test_keys = set(
        zip(
            manifest.loc[manifest.split == "test", "record"],
            manifest.loc[manifest.split == "test", "sample"],
        )
    )
    train_keys = set(
        zip(
            manifest.loc[manifest.split == "train", "record"],
            manifest.loc[manifest.split == "train", "sample"],
        )
    )
    assert not test_keys & train_keys
