"""The gallery of confusions (ecg2d.gallery) on real beats: records 208 and 209 segmented,
rendered and split as experiment jun2018 does, with a made-up classifier's predictions of their
test beats (known mistakes, so the confusion cells are known)."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml

from ecg2d.gallery import (
    clock,
    gallery_table,
    pick_cells,
    plot_gallery,
    read_predictions,
)
from ecg2d.render import png_name, render_record
from ecg2d.split import crop_table, split_table
from tests.conftest import REPO, segmented

CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
JUN = CONFIG["experiments"]["jun2018"]
LABELS = list(dict.fromkeys(JUN["classes"].values()))
RECORDS = ["208", "209"]  # N, A and V beats
PER_CELL = 5


def made_up_calls(true: pd.Series) -> np.ndarray:
    """A classifier that is right except: every 10th N beat is called V, every 3rd A beat N,
    every 4th V beat A and the 7th V beat L."""
    true = true.to_numpy(dtype=object)
    calls = true.copy()
    for label, every, call in (("N", 10, "V"), ("A", 3, "N"), ("V", 4, "A")):
        calls[np.flatnonzero(true == label)[::every]] = call
    calls[np.flatnonzero(true == "V")[7]] = "L"
    return calls


@pytest.fixture(scope="module")
def run(tmp_path_factory, mitdb):
    """(root, predictions.csv, manifest.csv): real images under root, paths relative to it."""
    root = tmp_path_factory.mktemp("gallery")
    tables = []
    for record in RECORDS:
        beats = segmented(record)
        render_record(beats, root / "results/png" / record, size=32)
        table = split_table(beats, JUN, 42, f"results/png/{record}")
        tables += [table, crop_table(table, ["A", "V"], f"results/crops/{record}", 4)]
    manifest = pd.concat(tables, ignore_index=True)
    manifest.to_csv(root / "manifest.csv", index=False)
    test = manifest[(manifest["split"] == "test") & (manifest["augmented"] == 0)]
    calls = made_up_calls(test["label"])
    predictions = pd.DataFrame(
        {"record": test["record"], "sample": test["sample"], "true": test["label"]}
    ).assign(predicted=calls)
    for label in LABELS:
        predictions[f"p_{label}"] = np.where(calls == label, 0.9, 0.1 / (len(LABELS) - 1))
    predictions.to_csv(root / "predictions.csv", index=False)
    return root, root / "predictions.csv", root / "manifest.csv"


def test_cells_are_exactly_those_with_beats_bounded_and_true_to_the_table(run):
    root, predictions, manifest = run
    table = gallery_table(predictions, manifest, LABELS)
    counts = table.groupby(["true", "predicted"]).size().to_dict()
    confused = {cell for cell in counts if cell[0] != cell[1]}
    assert confused == {("N", "V"), ("A", "N"), ("V", "A"), ("V", "L")}  # the made-up mistakes

    cells = pick_cells(table, LABELS, PER_CELL, seed=42)
    shown = [(c.true, c.predicted) for c in cells]
    assert len(shown) == len(set(shown)) == len(counts)
    assert set(shown) == set(counts)
    # confusions first, most beats first; then the correct beats in class order
    n_confused = len(confused)
    assert all(not c.correct for c in cells[:n_confused]) and all(
        c.correct for c in cells[n_confused:]
    )
    assert [c.count for c in cells[:n_confused]] == sorted(
        (counts[cell] for cell in confused), reverse=True
    )
    assert [c.true for c in cells[n_confused:]] == [x for x in LABELS if (x, x) in counts]

    images = manifest_images(manifest)
    for cell in cells:
        assert cell.count == counts[(cell.true, cell.predicted)]
        assert len(cell.beats) == min(PER_CELL, cell.count)
        assert (cell.beats["true"] == cell.true).all()
        assert (cell.beats["predicted"] == cell.predicted).all()
        assert not cell.beats.duplicated(["record", "sample"]).any()
        for beat in cell.beats.itertuples():
            # the network's own input: the test original's image, never a crop
            assert beat.path == images[(beat.record, beat.sample)]
            assert beat.path.endswith(png_name(beat.record, beat.sample))
            assert (root / beat.path).is_file()
    one = next(c for c in cells if (c.true, c.predicted) == ("V", "L"))
    assert one.count == 1 and len(one.beats) == 1


def manifest_images(manifest) -> dict:
    frame = pd.read_csv(manifest, dtype={"record": str})
    test = frame[(frame["split"] == "test") & (frame["augmented"] == 0)]
    return {(r, s): p for r, s, p in zip(test["record"], test["sample"], test["path"])}


def test_the_draw_is_seeded_and_per_cell(run):
    _, predictions, manifest = run
    table = gallery_table(predictions, manifest, LABELS)

    def picked(cells):
        return {
            (c.true, c.predicted): list(zip(c.beats["record"], c.beats["sample"])) for c in cells
        }

    first = picked(pick_cells(table, LABELS, PER_CELL, seed=42))
    assert picked(pick_cells(table, LABELS, PER_CELL, seed=42)) == first
    other = picked(pick_cells(table, LABELS, PER_CELL, seed=7))
    assert other.keys() == first.keys()
    assert other[("N", "N")] != first[("N", "N")]  # thousands of N beats: another draw
    # a cell's draw does not depend on the other cells: drop every A beat, the rest stays
    without_a = table[(table["true"] != "A") & (table["predicted"] != "A")]
    kept = picked(pick_cells(without_a, LABELS, PER_CELL, seed=42))
    assert kept == {cell: beats for cell, beats in first.items() if "A" not in cell}
    # not simply the first beats of the cell
    n_beats = table[(table["true"] == "N") & (table["predicted"] == "N")]
    assert first[("N", "N")] != list(zip(n_beats["record"], n_beats["sample"]))[:PER_CELL]


def test_the_figure_has_a_row_per_cell_of_real_images(run, tmp_path):
    root, predictions, manifest = run
    table = gallery_table(predictions, manifest, LABELS)
    cells = pick_cells(table, LABELS, PER_CELL, seed=42)
    out = tmp_path / "gallery.png"
    plot_gallery(cells, PER_CELL, 360, "test", out, root=root)
    image = cv2.imread(str(out), cv2.IMREAD_GRAYSCALE)
    assert image.shape[0] == round(100 * (1.2 * len(cells) + 0.7))
    assert not list(tmp_path.glob(".*"))  # written atomically: no temporary left
    # the images are read from the manifest's paths: a missing one is an error naming it
    gone = cells[0].beats.iloc[0]["path"]
    with pytest.raises(OSError, match=re.escape(str(tmp_path / gone))):
        plot_gallery(cells, PER_CELL, 360, "test", tmp_path / "other.png", root=tmp_path)
    assert not (tmp_path / "other.png").exists()


def test_clock():
    assert clock(0, 360) == "00:00"
    assert clock(360 * 65 + 359, 360) == "01:05"
    assert clock(650000, 360) == "30:05"  # the end of an MIT-BIH record
    assert clock(250 * 3725, 250) == "1:02:05"


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.drop(columns="predicted"), "no column predicted"),
        (lambda t: t.assign(sample=t["sample"].astype(str).str.replace("0", "x")), "sample"),
        (lambda t: t.assign(true=t["true"].where(t.index != 3, "Z")), "true label 'Z'"),
        (lambda t: pd.concat([t, t.iloc[[5]]]), "listed twice"),
        (lambda t: t.assign(sample=t["sample"] + 1), "no test beat of"),
        (lambda t: t.iloc[0:0].drop(columns=["true", "predicted"]), "no column true, predicted"),
    ],
    ids=["column", "sample", "label", "duplicate", "other-run", "empty"],
)
def test_a_bad_predictions_table_is_one_error_naming_the_file(run, tmp_path, edit, message):
    _, predictions, manifest = run
    bad = tmp_path / "predictions.csv"
    edit(pd.read_csv(predictions, dtype={"record": str})).to_csv(bad, index=False)
    with pytest.raises(ValueError, match=message) as info:
        gallery_table(bad, manifest, LABELS)
    assert str(info.value).startswith(f"{bad}: ")


def test_an_empty_or_garbled_file_is_named(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match=f"{empty}: not a predictions table"):
        read_predictions(empty, LABELS)
    garbled = tmp_path / "garbled.csv"
    garbled.write_bytes(b"record,sample,true,predicted\n\xff\xfe,1,N,N\n")
    with pytest.raises(ValueError, match=f"{garbled}: "):
        read_predictions(garbled, LABELS)
