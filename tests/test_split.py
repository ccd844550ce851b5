"""Labels, per-record splits and manifest rows (no leakage, reproducible)."""

import numpy as np
import pandas as pd
import pytest
import yaml

from ecg2d.atomic import write_csv
from ecg2d.split import (
    LeakageError,
    assign_split,
    build_manifest,
    check_experiment_manifest,
    crop_table,
    label_beats,
    split_table,
)
from tests.conftest import REPO, segmented

CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
JUN = CONFIG["experiments"]["jun2018"]
INTER = CONFIG["experiments"]["inter_patient"]


@pytest.fixture(scope="module")
def beats(mitdb):
    return {r: segmented(r) for r in ["100", "207", "208"]}


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
    # Nine crop rows for each source beat, named by the beat's record and sample.
    nine = [key for key in zip(source["record"], source["sample"]) for _ in range(9)]
    assert sorted(zip(crops["record"], crops["sample"])) == sorted(nine)
    table.to_csv(tmp_path / "207.csv", index=False)
    manifest = build_manifest([tmp_path / "207.csv"], ["crops"], JUN["augment"], 9)
    assert len(manifest) == len(table) + len(crops)


@pytest.fixture(scope="module")
def manifests(beats, tmp_path_factory):
    """Real manifests (split tables and crop rows) of 100, 207 and 208 for both experiments."""
    root = tmp_path_factory.mktemp("manifests")
    out = {}
    for name, experiment in (("jun2018", JUN), ("inter_patient", INTER)):
        paths = []
        for record, record_beats in beats.items():
            paths.append(root / name / f"{record}.csv")
            write_csv(split_table(record_beats, experiment, 42, f"png/{record}"), paths[-1])
        crops = [f"crops/{record}" for record in beats]
        out[name] = build_manifest(paths, crops, experiment["augment"], 9)
    return out


def check(manifest, experiment=JUN):
    check_experiment_manifest(manifest, experiment)


def test_check_manifest_passes_real_manifests(manifests):
    for name, experiment in (("jun2018", JUN), ("inter_patient", INTER)):
        manifest = manifests[name]
        assert (manifest["augmented"] == 1).sum() > 1000  # crops are there, and checked
        check(manifest, experiment)


def _row(manifest, split, augmented, record=None):
    """Index of the first row of ``manifest`` in ``split`` with ``augmented`` (and record)."""
    rows = (manifest["split"] == split) & (manifest["augmented"] == augmented)
    if record is not None:
        rows &= manifest["record"] == record
    return manifest.index[rows][0]


def _named(manifest, index) -> str:
    row = manifest.loc[index]
    return f"record {row['record']} sample {int(row['sample'])} "


def crop_to_test(manifest):
    index = _row(manifest, "train", 1)
    manifest.loc[index, "split"] = "test"
    return index, "a crop in test"


def original_to_test_crops_in_train(manifest):
    crop = manifest.loc[_row(manifest, "train", 1)]
    original = manifest.index[
        (manifest["record"] == crop["record"])
        & (manifest["sample"] == crop["sample"])
        & (manifest["augmented"] == 0)
    ][0]
    manifest.loc[original, "split"] = "test"
    return original, "both train and test"


def beat_duplicated_into_train(manifest):
    index = _row(manifest, "test", 0)
    return _append(manifest, manifest.loc[index].copy(), split="train"), "both train and test"


def beat_listed_twice(manifest):
    index = _row(manifest, "test", 0)
    return _append(manifest, manifest.loc[index].copy()), "listed twice"


def _append(manifest, row, **changes):
    """Append ``row`` (with ``changes``) to ``manifest`` in place; return its index."""
    index = manifest.index.max() + 1
    manifest.loc[index] = row
    for key, value in changes.items():
        manifest.loc[index, key] = value
    return index


def unknown_split(manifest):
    index = _row(manifest, "test", 0)
    manifest.loc[index, "split"] = "validation"
    return index, "split is not train/test"


@pytest.mark.parametrize(
    "inject",
    [
        crop_to_test,
        original_to_test_crops_in_train,
        beat_duplicated_into_train,
        beat_listed_twice,
        unknown_split,
    ],
)
def test_check_manifest_rejects_an_injected_leak(manifests, inject):
    manifest = manifests["jun2018"].copy()
    index, reason = inject(manifest)
    with pytest.raises(LeakageError, match=reason) as error:
        check(manifest)
    assert _named(manifest, index) in str(error.value)


def ds2_row_in_train(manifest):
    index = _row(manifest, "test", 0, record="100")
    manifest.loc[index, "split"] = "train"
    return index, "a train row from a record not in train_records"


def ds1_row_in_test(manifest):
    normal = manifest["label"] == "N"  # N beats have no crops (not in augment)
    index = manifest.index[normal & (manifest["record"] == "207")][0]
    manifest.loc[index, "split"] = "test"
    return index, "a test row from a record not in test_records"


@pytest.mark.parametrize("inject", [ds2_row_in_train, ds1_row_in_test])
def test_inter_patient_check_rejects_records_on_the_wrong_side(manifests, inject):
    manifest = manifests["inter_patient"].copy()
    index, reason = inject(manifest)
    with pytest.raises(LeakageError, match=reason) as error:
        check(manifest, INTER)
    assert _named(manifest, index) in str(error.value)
    # The same manifest is no leak under intra_patient rules: the record lists decide.
    check(manifest)


def test_inter_patient_check_rejects_a_record_in_both_lists(manifests):
    both = {**INTER, "test_records": [*INTER["test_records"], "207"]}
    with pytest.raises(LeakageError, match=r"\['207'\] are in both"):
        check(manifests["inter_patient"], both)
