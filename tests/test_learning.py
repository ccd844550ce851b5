"""A small CNN must learn an easy real task in seconds -- and must not when images and labels
are misaligned, so the floor below would catch a pipeline that pairs a beat's image with
another beat's label.

The task: N against V beats of records 106 and 119 (about 1,500 N and 450-520 V beats each),
split within each record (30 % held out), through the training code path: beats ->
rendered PNGs -> split tables -> manifest -> ``fit_model`` -> saved model -> ``predict_rows``.
Images only (no RR context: a V beat's prematurity would otherwise give the class away).
Measured on a 2-core CPU, held-out balanced accuracy with these settings: 0.9995; with shuffled
training labels 0.72; with each training image shifted to its neighbour's label 0.41. Over
training seeds 0-7 (split seed 42): 0.997-0.999, shuffled 0.33-0.75, shifted (seeds 0-3)
0.41-0.53. About 25 s in all.
"""

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score

from ecg2d.atomic import write_csv
from ecg2d.classifier import Classifier
from ecg2d.evaluate import evaluation_rows, predict_rows
from ecg2d.render import render_record
from ecg2d.split import build_manifest, check_manifest, split_table
from ecg2d.train import fit_model, save_model
from tests.conftest import segmented

RECORDS = ("106", "119")
SEED = 3
#: Balanced accuracy the model must beat on held-out beats (chance: 0.5).
FLOOR = 0.9
#: Rendered at 64 px, resized to the tiny network's 32 px as training does.
RENDER_SIZE = 64
EXPERIMENT = {
    "protocol": "intra_patient",
    "classes": {"N": "N", "V": "V"},
    "test_fraction": 0.3,
    "augment": [],
    "preset": "tiny",
    "model": {"rr_features": False},
    "train": {"epochs": 3, "samples_per_class": 256, "validation_fraction": 0.0},
}


@pytest.fixture(scope="module")
def task(tmp_path_factory, mitdb):
    """(root, manifest) of the N-against-V task, PNGs under root/png."""
    root = tmp_path_factory.mktemp("learning")
    split_csvs = []
    for record in RECORDS:
        beats = segmented(record)
        render_record(beats, root / "png" / record, RENDER_SIZE)
        split_csvs.append(root / "split" / f"{record}.csv")
        write_csv(split_table(beats, EXPERIMENT, SEED, Path("png") / record), split_csvs[-1])
    crop_dirs = [root / "crops" / record for record in RECORDS]
    manifest = build_manifest(split_csvs, crop_dirs, EXPERIMENT["augment"], 9)
    check_manifest(manifest, EXPERIMENT["protocol"])
    return root, manifest


def held_out_score(root: Path, fit_on, manifest) -> float:
    """Train on ``fit_on``'s training rows; balanced accuracy on ``manifest``'s test beats."""
    model, _, info = fit_model(fit_on, EXPERIMENT, seed=SEED, root=root)
    save_model(model, info, root / "model.h5")
    classifier = Classifier.load(root / "model.h5")
    rows = evaluation_rows(manifest)
    proba = predict_rows(classifier, rows, root=root)
    predicted = np.asarray(classifier.classes)[proba.argmax(axis=1)]
    return balanced_accuracy_score(rows["label"], predicted)


def test_the_task_has_hundreds_of_held_out_beats_of_each_class(task):
    _, manifest = task
    counts = evaluation_rows(manifest)["label"].value_counts()
    assert counts["N"] > 500 and counts["V"] > 200, counts.to_dict()


def test_small_cnn_separates_n_from_v_on_held_out_beats(task):
    root, manifest = task
    assert held_out_score(root, manifest, manifest) > FLOOR


def shuffle_labels(manifest):
    """Training labels permuted among the training rows."""
    misaligned = manifest.copy()
    train = misaligned["split"] == "train"
    labels = misaligned.loc[train, "label"].to_numpy()
    misaligned.loc[train, "label"] = np.random.default_rng(SEED).permutation(labels)
    return misaligned


def shift_images(manifest):
    """Each training row gets the image of the training row before it (an off-by-one)."""
    misaligned = manifest.copy()
    train = np.flatnonzero(misaligned["split"] == "train")
    column = misaligned.columns.get_loc("path")
    misaligned.iloc[train, column] = np.roll(misaligned["path"].to_numpy()[train], 1)
    return misaligned


@pytest.mark.parametrize("misalign", [shuffle_labels, shift_images])
def test_misaligned_images_and_labels_stay_below_the_floor(task, misalign):
    root, manifest = task
    misaligned = misalign(manifest)
    train = manifest["split"] == "train"
    # The misalignment is real: many training images now carry another beat's label.
    moved = (misaligned["label"] != manifest["label"]) | (misaligned["path"] != manifest["path"])
    assert moved[train].mean() > 0.3
    assert held_out_score(root, misaligned, manifest) < FLOOR
