"""ECG strips of an experiment's test records (rules/strips.smk; ecg2d/strips.py), on MIT-BIH.

The predictions tables stand for an experiment's ``predictions.csv`` (record, sample, true,
predicted): every fourth reference beat of record 208 is a test beat, as in an intra-patient
split, predicted as its reference class except where a test changes it.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml

from ecg2d import strips
from ecg2d.atomic import write_csv
from ecg2d.io import beat_mask, read_record
from ecg2d.strips import (
    beat_marks,
    experiment_heading,
    experiment_table,
    plot_strips,
    shown_records,
    strip_records,
)
from tests.conftest import REPO, REPORT_RECORDS, run_snakemake, write_config
from tests.test_strips import pixels, row_slices

RECORD = "208"
CLASS_MAP = yaml.safe_load((REPO / "config/config.yaml").read_text())["experiments"][
    "inter_patient"
]["classes"]


@pytest.fixture(scope="module")
def record(mitdb):
    """Record 208 as the workflow reads it (lead MLII, 360 Hz)."""
    return read_record(mitdb, RECORD, "MLII", 0, 360)


def predictions_of(record, wrong=()) -> pd.DataFrame:
    """predictions.csv of every fourth reference beat of ``record`` (test beats ``k`` in
    ``wrong`` predicted as another class), then three test beats of another record."""
    is_beat = beat_mask(record.ann_symbol)
    sample, symbol = record.ann_sample[is_beat][::4], record.ann_symbol[is_beat][::4]
    true = np.array([CLASS_MAP[s] for s in symbol], dtype=object)
    predicted = true.copy()
    for k in wrong:
        predicted[k] = "V" if true[k] != "V" else "N"
    rows = pd.DataFrame({"record": RECORD, "sample": sample, "true": true, "predicted": predicted})
    other = pd.DataFrame({"record": "100", "sample": [370, 662, 946], "true": "N",
                          "predicted": ["N", "S", "N"]})  # fmt: skip
    return pd.concat([rows, other], ignore_index=True)


def test_the_records_with_the_most_errors_are_shown():
    predictions = pd.DataFrame(
        {
            "record": ["100"] * 3 + ["101"] * 4 + ["102"] * 2 + ["103"] * 2,
            "true": list("NNN" + "NVNN" + "VV" + "NN"),
            "predicted": list("NSN" + "VNSN" + "VV" + "SS"),
        }
    )
    table = strip_records(predictions, 2)
    assert table.to_dict("list") == {
        "record": ["101", "103", "100", "102"],  # most errors first; ties in table order
        "beats": [4, 2, 3, 2],
        "errors": [3, 2, 1, 0],
        "shown": [1, 1, 0, 0],
    }
    assert strip_records(predictions, 0)["shown"].sum() == 0
    assert strip_records(predictions, 10)["shown"].sum() == 4  # error-free records fill in


def test_experiment_strips_mark_the_misclassified_test_beats(tmp_path, record):
    n_test = len(predictions_of(record)) - 3
    wrong = [1, 2, 40, 41, 42, n_test - 5]  # two in the first minute, three later, one at the end
    predictions = predictions_of(record, wrong)
    table = experiment_table(predictions, RECORD, record.lead)
    assert len(table) == n_test and table["sample"].is_monotonic_increasing
    assert set(table["record"]) == {RECORD} and set(table["lead"]) == {"MLII"}
    marks = beat_marks(table, record.fs, reference=True)
    assert marks["kind"].value_counts().to_dict() == {"agree": n_test - 6, "disagree": 6}
    assert marks.loc[marks["kind"] == "disagree", "sample"].tolist() == (
        predictions["sample"].iloc[wrong].tolist()
    )
    heading = experiment_heading(table, "jun2018", RECORD, record.lead)
    assert heading == (
        f"Experiment jun2018, record 208, lead MLII: {n_test} test beats classified, "
        "6 misclassified"
    )
    path = tmp_path / "208.strips.png"
    plan = plot_strips(record.signal, record.fs, table, path, record=RECORD, lead=record.lead,
                       reference=True, heading=heading)  # fmt: skip
    _, colour = pixels(path)
    error_times = marks.loc[marks["kind"] == "disagree", "time"].to_numpy()
    assert plan.starts[:6].tolist() == [0, 10, 20, 30, 40, 50]
    left = int(strips.MARGINS[0] * strips.DPI)
    for k, rows in enumerate(row_slices(plan)):
        start = plan.starts[k]
        red = colour["red"][rows, left:].sum()
        if ((error_times >= start) & (error_times < start + 10)).any():
            assert red > 15, f"row {k} ({start} s) has a misclassified beat but no red mark"
        else:
            assert red == 0, f"row {k} ({start} s): red without a misclassified beat"
    # no missed or extra beats in an experiment's predictions
    assert colour["blue"].sum() == 0 and colour["orange"].sum() == 0
    # every error is in a row shown
    shown = (error_times[:, None] >= plan.starts) & (error_times[:, None] < plan.starts + 10)
    assert shown.any(axis=1).all()


def test_a_record_without_test_beats_is_a_clear_error(record):
    with pytest.raises(ValueError, match="record 999: no test beat"):
        experiment_table(predictions_of(record), "999", "MLII")


def test_the_records_table_names_the_shown_records(tmp_path, record):
    predictions = predictions_of(record, wrong=[3, 5])  # 208: 2 errors, 100: 1
    for n, shown in ((1, ["208"]), (2, ["208", "100"]), (0, [])):
        write_csv(strip_records(predictions, n), tmp_path / "records.csv")
        assert shown_records(tmp_path / "records.csv") == shown


@pytest.mark.parametrize("n", [0, 6])
def test_rule_all_plans_the_strips_unless_turned_off(tmp_path, n):
    config = write_config(tmp_path / "config.yaml", records=["100", "101"],
                          report={"strips_per_experiment": n})  # fmt: skip
    dry = run_snakemake(tmp_path, "-n", configfile=config, timeout=300).stdout
    planned = set(re.findall(r"results/(\w+)/strips/records\.csv", dry))
    assert planned == ({"jun2018", "inter_patient"} if n else set())


def test_a_tiny_run_draws_the_strips_into_the_report(tiny_report):
    """rule all draws the strips of each experiment's test records; the report shows them
    under Strips, one subcategory per experiment, each with its caption."""
    root, out = tiny_report
    text = out.read_text()
    items = json.loads(re.search(r"var results = (\{.*?\});\n", text, re.S)[1])
    categories = json.loads(re.search(r"var categories = (\{.*?\});\n", text, re.S)[1])
    # jun2018 tests on beats of all three records (at most 6 shown), inter_patient on 100
    tested = {"jun2018": REPORT_RECORDS, "inter_patient": ["100"]}
    for experiment, records in tested.items():
        table = pd.read_csv(root / f"results/{experiment}/strips/records.csv", dtype=str)
        assert sorted(table["record"]) == sorted(records) and set(table["shown"]) == {"1"}
        for record in records:
            path = f"results/{experiment}/strips/{record}.strips.png"
            assert path in items, f"{path} is not in the report"
            caption = items[path]["caption"]
            assert f"<strong>{record}</strong>" in caption
            assert f"<strong>{experiment}</strong>" in caption
            assert path in str(categories["Strips"][experiment])
            assert (root / f"results/benchmarks/{experiment}/strips/{record}.tsv").is_file()
            log = (root / f"logs/{experiment}/strips/{record}.log").read_text()
            assert f"Experiment {experiment}, record {record}, lead MLII:" in log
