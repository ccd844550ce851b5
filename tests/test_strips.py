"""ECG strips of predicted records (ecg2d/strips.py, rule predict_strips), on MIT-BIH record 208.

The prediction tables are made by :func:`ecg2d.predict.prediction_table` from the reference
beats of the record, as if a classifier had found them: every predicted label is the reference
class except where a test changes it, some reference beats are left undetected (missed) and
some detections added between beats (extra).
"""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml

from ecg2d import strips
from ecg2d.atomic import write_csv
from ecg2d.io import beat_mask
from ecg2d.predict import prediction_table, read_new_record, read_table
from ecg2d.strips import beat_marks, figure_size, plot_strips, strip_windows
from tests.conftest import MITDB, REPO, run_snakemake, write_config

RECORD = "208"  # 30 min, N, V, F, S and Q beats
CLASSES = ["N", "S", "V", "F", "Q"]
CLASS_MAP = yaml.safe_load((REPO / "config/config.yaml").read_text())["experiments"][
    "inter_patient"
]["classes"]
MAX_ROWS = 12  # keeps the figures small; the bound is hit by the error table


@pytest.fixture(scope="module")
def record(mitdb):
    return read_new_record(mitdb, RECORD, annotator="atr")


def reference_beats(record):
    is_beat = beat_mask(record.ann_symbol)
    return record.ann_sample[is_beat], record.ann_symbol[is_beat]


def table_of(record, relabel=(), miss=(), extra=()) -> pd.DataFrame:
    """A prediction table of ``record``: reference beats at index ``relabel`` predicted as
    another class, those at ``miss`` not detected, and detections (matching no reference beat)
    added halfway between reference beats ``k`` and ``k + 1`` for ``k`` in ``extra``."""
    samples, symbols = reference_beats(record)
    found = np.ones(len(samples), dtype=bool)
    found[list(miss)] = False
    added = (samples[list(extra)] + samples[np.add(extra, 1).astype(int)]) // 2
    sample = np.concatenate([samples[found], added])
    matched = np.repeat([True, False], [int(found.sum()), len(added)])
    labels = np.array([CLASS_MAP[s] for s in symbols], dtype=object)
    for k in relabel:
        labels[k] = "V" if labels[k] != "V" else "N"
    labels = np.concatenate([labels[found], np.full(len(added), "N")])
    order = np.argsort(sample, kind="stable")
    beats = {
        "record": RECORD,
        "fs": record.fs,
        "sample": sample[order],
        "symbol": np.concatenate([symbols[found], np.full(len(added), "N")])[order],
        "matched": matched[order],
        "ref_sample": np.where(matched, sample, -1)[order],
    }
    proba = np.eye(len(CLASSES), dtype=np.float32)[[CLASSES.index(x) for x in labels[order]]]
    return prediction_table(beats, proba, CLASSES, record, record, CLASS_MAP, {})


def spread(n: int, count: int, offset: int) -> list[int]:
    """``count`` beat indices spread over ``n`` beats (from ``offset``), three in the first
    minute."""
    return sorted({offset, offset + 20, offset + 40, *np.linspace(100 + offset, n - 3, count - 3)
                   .astype(int).tolist()})  # fmt: skip


@pytest.fixture(scope="module")
def errors(record):
    """(table, relabelled, missed, extra) with errors all over the record."""
    n = len(reference_beats(record)[0])
    relabel, miss, extra = spread(n, 25, 3), spread(n, 12, 7), spread(n, 8, 11)
    return table_of(record, relabel, miss, extra), relabel, miss, extra


# --- choosing the rows ------------------------------------------------------------------------


def test_windows_first_minute_then_every_stretch_with_an_error():
    times = [5.0, 75.0, 76.0, 300.0, 1799.5]
    plan = strip_windows(times, 1805.0, first_s=60, max_rows=30)
    assert plan.starts.tolist() == [0, 10, 20, 30, 40, 50, 70, 300, 1790]
    assert plan.n_first == 6 and plan.error_windows.tolist() == [0, 70, 300, 1790]
    assert len(plan.left_out) == 0 and plan.left_out_errors == 0
    # the bound keeps the first minute and the stretches with the most errors
    plan = strip_windows(times, 1805.0, first_s=60, max_rows=7)
    assert plan.starts.tolist() == [0, 10, 20, 30, 40, 50, 70]
    assert plan.left_out.tolist() == [300, 1790] and plan.left_out_errors == 2
    plan = strip_windows(times, 1805.0, first_s=60, max_rows=8)
    assert plan.starts.tolist() == [0, 10, 20, 30, 40, 50, 70, 300]  # ties: the earlier
    plan = strip_windows(times, 1805.0, first_s=60, max_rows=3)
    assert plan.starts.tolist() == [0, 10, 20] and plan.n_first == 3
    assert plan.left_out.tolist() == [70, 300, 1790] and plan.left_out_errors == 4
    # a short record: its rows only; an error at the very end is in the last row
    plan = strip_windows([25.0], 25.0, first_s=60)
    assert plan.starts.tolist() == [0, 10, 20] and plan.error_windows.tolist() == [20]
    assert strip_windows([], 600.0, first_s=0).starts.tolist() == [0]  # never empty
    assert strip_windows([300.0], 600.0, first_s=0).starts.tolist() == [0, 300]
    with pytest.raises(ValueError, match="max_rows"):
        strip_windows(times, 1805.0, max_rows=0)


def test_marks_find_every_disagreement_missed_and_extra_beat(record, errors):
    table, relabel, miss, extra = errors
    marks = beat_marks(table, record.fs)
    counts = marks["kind"].value_counts().to_dict()
    assert counts == {
        "agree": len(reference_beats(record)[0]) - len(miss) - len(set(relabel) - set(miss)),
        "disagree": len(set(relabel) - set(miss)),
        "missed": len(miss),
        "extra": len(extra),
    }
    samples, symbols = reference_beats(record)
    missed = marks[marks["kind"] == "missed"]
    assert missed["sample"].tolist() == samples[miss].tolist()
    assert missed["pred"].eq("").all() and missed["ref"].tolist() == [
        CLASS_MAP[s] for s in symbols[miss]
    ]
    assert marks["time"].is_monotonic_increasing
    n_dis, n_beats = len(set(relabel) - set(miss)), len(samples) - len(miss) + len(extra)
    assert strips.title(marks, RECORD, "MLII", True) == (
        f"Record 208, lead MLII: {n_beats} beats classified; {n_dis + len(miss) + len(extra)} "
        f"errors: {n_dis} disagreements, {len(miss)} missed, {len(extra)} extra"
    )
    # a table without reference: labels only, no errors
    plain = table[table["detected"] == 1].assign(matched=0, ref_sample=-1, ref_symbol="",
                                                 ref_label="")  # fmt: skip
    assert set(beat_marks(plain, record.fs)["kind"]) == {"plain"}


def test_rows_show_the_first_minute_and_every_error_within_the_bound(record, errors):
    table = errors[0]
    marks = beat_marks(table, record.fs)
    error_times = marks.loc[marks["kind"].isin(strips.ERRORS), "time"].to_numpy()
    duration = len(record.signal) / record.fs
    plan = strip_windows(error_times, duration, first_s=60, max_rows=1000)
    in_row = (error_times[:, None] >= plan.starts) & (error_times[:, None] < plan.starts + 10)
    assert in_row.any(axis=1).all() and len(plan.left_out) == 0
    assert plan.starts[:6].tolist() == [0, 10, 20, 30, 40, 50]
    assert (error_times < 60).sum() >= 3  # errors in the first minute too
    assert len(plan.starts) == 6 + len(np.unique(error_times[error_times >= 60] // 10))

    bounded = strip_windows(error_times, duration, first_s=60, max_rows=MAX_ROWS)
    assert (
        len(bounded.starts) == MAX_ROWS and bounded.starts[:6].tolist() == plan.starts[:6].tolist()
    )
    shown = (
        (error_times[:, None] >= bounded.starts) & (error_times[:, None] < bounded.starts + 10)
    ).any(1)
    left = (
        (error_times[:, None] >= bounded.left_out) & (error_times[:, None] < bounded.left_out + 10)
    ).any(1)
    assert (shown ^ left).all(), "every error is shown or in a stretch reported left out"
    assert bounded.left_out_errors == int(left.sum()) > 0
    assert len(bounded.left_out) + MAX_ROWS - 6 == len(plan.starts) - 6
    assert strips.shown(bounded, duration, MAX_ROWS) == (
        f"the first 01:00 and {MAX_ROWS - 6} later 10-s stretches with errors, of 30:06 "
        f"recorded; not shown (at most {MAX_ROWS} rows): {len(bounded.left_out)} more "
        f"stretches with errors ({bounded.left_out_errors} errors)"
    )
    # the error stretches kept hold at least as many errors as any left out
    per_window = pd.Series(error_times // 10 * 10).value_counts()
    kept = [s for s in bounded.starts if s >= 60]
    assert per_window[kept].min() >= per_window[bounded.left_out].max()


# --- the figure -------------------------------------------------------------------------------


def pixels(path):
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, f"{path} is not an image"
    b, g, r = (image[..., k].astype(int) for k in range(3))
    return image, {
        "red": (r >= 200) & (g <= 80) & (b <= 80),
        "blue": (b >= 150) & (r <= 80) & (g <= 130),
        "orange": (r >= 200) & (g >= 90) & (g <= 160) & (b <= 60),
    }


def row_slices(plan):
    """Pixel rows of each strip of paper (from the layout constants)."""
    px_per_mv = strips.S_PER_MV * strips.INCH_PER_S * strips.DPI
    top = strips.MARGINS[2] * strips.DPI
    height = (strips.PAPER_MV[1] - strips.PAPER_MV[0]) * px_per_mv
    return [
        slice(int(top + k * strips.ROW_MV * px_per_mv) + 2,
              int(top + k * strips.ROW_MV * px_per_mv + height) - 2)
        for k in range(len(plan.starts))
    ]  # fmt: skip


def draw(record, table, path, **kwargs):
    plan = plot_strips(record.signal, record.fs, table, path, record=RECORD, lead=record.lead,
                       max_rows=MAX_ROWS, **kwargs)  # fmt: skip
    image, colour = pixels(path)
    width, height = figure_size(len(plan.starts))
    assert image.shape[:2] == (round(height * strips.DPI), round(width * strips.DPI))
    return plan, image, colour


def test_strips_mark_errors_where_they_are(tmp_path, record, errors):
    table = errors[0]
    plan, image, colour = draw(record, table, tmp_path / "208.strips.png")
    assert len(plan.starts) == MAX_ROWS and len(plan.left_out) > 0
    assert not list(tmp_path.glob(".*tmp*")), "a temporary file was left behind"
    marks = beat_marks(table, record.fs)
    left = int(strips.MARGINS[0] * strips.DPI)
    for k, rows in enumerate(row_slices(plan)):
        start = plan.starts[k]
        here = marks[(marks["time"] >= start) & (marks["time"] < start + 10)]
        for kind, name in (("disagree", "red"), ("missed", "blue"), ("extra", "orange")):
            found = colour[name][rows, left:].sum()
            if (here["kind"] == kind).any():
                assert found > 15, f"row {k} ({start} s) has a {kind} beat but no {name} mark"
            else:
                assert found == 0, f"row {k} ({start} s): {name} pixels without a {kind} beat"
    # ECG paper: pinkish, with square large boxes (0.2 s as long as 0.5 mV)
    paper = image[row_slices(plan)[0], left : left + int(10 * strips.INCH_PER_S * strips.DPI)]
    b, g, r = (paper[..., c].astype(int) for c in range(3))
    assert ((r > 230) & (r - b > 8) & (r - g > 5)).mean() > 0.7
    major = (abs(r - 236) < 12) & (abs(g - 167) < 25) & (abs(b - 162) < 25)
    columns = np.flatnonzero(major.mean(axis=0) > 0.5)
    lines = np.flatnonzero(major.mean(axis=1) > 0.5)
    x_step = np.median(np.diff(columns[np.r_[True, np.diff(columns) > 2]]))
    y_step = np.median(np.diff(lines[np.r_[True, np.diff(lines) > 2]]))
    assert x_step == pytest.approx(0.2 * strips.INCH_PER_S * strips.DPI, abs=1.5)
    assert y_step == pytest.approx(x_step, abs=1.5)


def test_no_red_without_disagreements(tmp_path, record, errors):
    _, _, miss, extra = errors
    plan, _, colour = draw(record, table_of(record, miss=miss, extra=extra), tmp_path / "a.png")
    assert colour["red"].sum() == 0
    assert colour["blue"].sum() > 50 and colour["orange"].sum() > 50
    # a record classified as its reference says: the first minute, no marks in colour
    plan, _, colour = draw(record, table_of(record), tmp_path / "b.png")
    assert plan.starts.tolist() == [0, 10, 20, 30, 40, 50]
    assert all(colour[name].sum() == 0 for name in colour)
    # with errors, the same record shows red
    _, _, colour = draw(record, table_of(record, relabel=[5, 6]), tmp_path / "c.png")
    assert colour["red"].sum() > 30


def test_a_record_without_reference_has_labels_only(tmp_path, record, errors):
    table = errors[0]
    plain = table[table["detected"] == 1].assign(matched=0, ref_sample=-1, ref_symbol="",
                                                 ref_label="")  # fmt: skip
    # told there is no reference, even extra beats of a reference table are not errors
    plan, _, colour = draw(record, table, tmp_path / "a.png", reference=False)
    assert plan.starts.tolist() == [0, 10, 20, 30, 40, 50]
    assert all(colour[name].sum() == 0 for name in colour)
    plan, _, _ = draw(record, plain, tmp_path / "b.png")
    assert len(plan.error_windows) == 0


def test_a_bad_table_is_one_clear_error_and_no_file(tmp_path, record, errors):
    table = errors[0]
    out = tmp_path / "x.png"
    with pytest.raises(ValueError, match=f"record {RECORD}: .*no column matched, ref_label"):
        plot_strips(record.signal, record.fs, table.drop(columns=["matched", "ref_label"]), out,
                    record=RECORD, lead=record.lead)  # fmt: skip
    with pytest.raises(ValueError, match="of lead 'MLII', not 'V1'"):
        plot_strips(record.signal, record.fs, table, out, record=RECORD, lead="V1")
    with pytest.raises(ValueError, match="of record '208', not '100'"):
        plot_strips(record.signal, record.fs, table, out, record="100", lead=record.lead)
    with pytest.raises(ValueError, match="outside the signal.*not of this record or rate"):
        plot_strips(record.signal[: len(record.signal) // 2], record.fs, table, out,
                    record=RECORD, lead=record.lead)  # fmt: skip
    assert not list(tmp_path.iterdir()), "nothing is written for a bad table"
    # the job reads its table with ecg2d.predict.read_table: a file without the columns is
    # a ValueError naming the file
    write_csv(table.drop(columns=["ref_label"]), tmp_path / "old.csv")
    with pytest.raises(ValueError, match=r"old\.csv: .*no column ref_label"):
        read_table(tmp_path / "old.csv")


def test_rule_predict_strips(tmp_path, record, errors):
    """The workflow draws the strips of a dataset record from its prediction table."""
    model = tmp_path / "model.h5"
    model.write_bytes(b"not used")  # the table below stands for the model's predictions
    model.with_suffix(".json").write_text("{}")
    datasets = {"mini": {"path": str(MITDB), "records": [RECORD], "experiment": "inter_patient",
                         "model": str(model), "segmentation": "annotations"}}  # fmt: skip
    config = write_config(tmp_path / "config.yaml", predict={"datasets": datasets})
    (tmp_path / "results/predict/mini").mkdir(parents=True)
    write_csv(errors[0], tmp_path / f"results/predict/mini/{RECORD}.csv")
    target = f"results/predict/mini/{RECORD}.strips.png"
    # rule predict asks for the strips of every dataset record
    dry = run_snakemake(tmp_path, "-n", "predict", configfile=config, timeout=300).stdout
    assert f"output: {target}" in dry and "rule predict_strips:" in dry
    run_snakemake(tmp_path, "--cores", "1", target, configfile=config, timeout=300)
    _, colour = pixels(tmp_path / target)
    assert colour["red"].sum() > 0 and colour["blue"].sum() > 0
    log = (tmp_path / f"logs/predict/mini/{RECORD}.strips.log").read_text()
    assert "30 rows of 10 s: the first 01:00 and 24 later" in log
    assert (tmp_path / f"results/benchmarks/predict/mini/{RECORD}.strips.tsv").is_file()
