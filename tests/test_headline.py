"""The report's front page (ecg2d.headline): metrics.json figures beside the published anchors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from docutils.core import publish_parts

from ecg2d.evaluate import metrics_report
from ecg2d.headline import (
    DS2,
    headline,
    headline_html,
    headline_rst,
    read_headline,
    with_interval,
)
from tests.conftest import REPO

CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
AAMI = ["N", "S", "V", "F", "Q"]
JUN = ["N", "L", "R", "A", "V", "/", "E", "!"]


def table(rows) -> pd.DataFrame:
    """Predictions of (record, true, predicted, how many) rows."""
    return pd.DataFrame(
        [(r, t, p) for r, t, p, n in rows for _ in range(n)],
        columns=["record", "true", "predicted"],
    )


def inter_patient_metrics(records) -> dict:
    rows = []
    for k, record in enumerate(records):
        rows += [(record, "N", "N", 50 + k), (record, "S", "S", 3), (record, "S", "N", 2)]
        rows += [(record, "N", "S", 1 + k % 3), (record, "V", "V", 4), (record, "V", "N", 1)]
        rows += [(record, "F", "V", 1), (record, "N", "V", k % 2)]
    return metrics_report(table(rows), AAMI, "inter", "inter_patient", bootstrap_unit="record")


def test_inter_patient_figures_are_ec57_with_intervals_beside_de_chazal():
    metrics = inter_patient_metrics(DS2)
    item = headline(metrics, CONFIG["experiments"]["inter_patient"]["classes"], seed=42)
    shown = item.table.set_index("figure")
    ec57 = metrics["aami_ec57"]
    for group, key, anchor in (
        ("SVEB", "Se", "75.9 %"),
        ("SVEB", "+P", "38.5 %"),
        ("VEB", "Se", "77.7 %"),
        ("VEB", "+P", "81.9 %"),
    ):
        row = shown.loc[f"{group} {key} (EC57)"]
        lo, hi = ec57[group][f"{key}_ci95"]
        assert row["ecg2d [95 % CI]"] == (
            f"{100 * ec57[group][key]:.2f} % [{100 * lo:.2f}, {100 * hi:.2f}]"
        )
        assert row["anchor"].startswith(anchor) and "de Chazal" in row["anchor"]
    # F called V is not a false V by EC57: VEB +P is over the V and N calls only
    assert ec57["VEB"]["+P"] < 1 and metrics["aami_one_vs_rest"]["VEB"]["+P"] < ec57["VEB"]["+P"]
    assert shown.loc["accuracy", "anchor"].startswith("none")
    for phrase in ("EC57", "e as N, j as N", "seed 42", "test records: DS2", "of test records"):
        assert phrase in item.note, phrase


def test_a_test_set_that_is_not_ds2_says_so():
    item = headline(inter_patient_metrics(["100", "232"]), {"e": "N"}, seed=1)
    assert "test records: 2, not DS2" in item.note and "e as N" in item.note


def test_intra_patient_accuracy_beside_jun_only_with_its_eight_classes():
    rows = [("100", label, label, 20) for label in JUN] + [("100", "A", "N", 3)]
    metrics = metrics_report(table(rows), JUN, "jun", "intra_patient", bootstrap_unit="beat")
    item = headline(metrics, {label: label for label in JUN}, seed=42)
    assert list(item.table["figure"]) == ["accuracy"]  # no AAMI classes, no EC57 rows
    row = item.table.iloc[0]
    lo, hi = metrics["accuracy_ci95"]
    assert row["ecg2d [95 % CI]"] == with_interval(metrics["accuracy"], [lo, hi])
    assert f"[{100 * lo:.2f}, {100 * hi:.2f}]" in row["ecg2d [95 % CI]"]
    assert "99.05 %" in row["anchor"]
    assert "EC57" not in item.note and "of test beats" in item.note

    three = metrics_report(table(rows[:3]), JUN[:3], "x", "intra_patient", bootstrap_unit="beat")
    other = headline(three, {}, seed=42).table.iloc[0]
    assert "99.05" not in other["anchor"] and "3" in other["anchor"]


def test_undefined_values_and_intervals_are_dashes():
    assert with_interval(None, None) == "–"
    assert with_interval(0.5, None) == "50.00 % [–]"
    assert with_interval(0.5, [None, 0.6]) == "50.00 % [–]"
    assert with_interval(0.97471, [0.9727, 0.97653]) == "97.47 % [97.27, 97.65]"


def test_fragment_is_valid_rst_and_the_page_html(tmp_path):
    items = [
        headline(inter_patient_metrics(DS2), {"e": "N", "j": "N"}, seed=42),
        headline(
            metrics_report(
                table([("100", "N", "N", 30), ("100", "V", "N", 2), ("100", "V", "V", 5)]),
                ["N", "V"],
                "two_class",
                "intra_patient",
                bootstrap_unit="beat",
            ),
            {},
            seed=42,
        ),
    ]
    rst = headline_rst(items)
    # halt at warnings: a malformed table or markup is an error here, not a red box in the report
    body = publish_parts(rst, writer="html", settings_overrides={"halt_level": 2})["html_body"]
    assert body.count("<table") == 2
    assert "<strong>two_class</strong>" in body  # the underscore is escaped, not a link
    for item in items:
        for cell in item.table["ecg2d [95 % CI]"]:
            assert cell in body
    page = headline_html(items)
    assert page.startswith("<!DOCTYPE html>") and page.count("<table") == 2


def test_a_bad_metrics_json_is_one_error_naming_it(tmp_path):
    metrics = inter_patient_metrics(DS2)
    good = tmp_path / "metrics.json"
    good.write_text(json.dumps(metrics))
    assert read_headline(good, {}, 42).experiment == "inter"
    del metrics["accuracy_ci95"]
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps(metrics))
    with pytest.raises(ValueError, match=f"{missing}: .*accuracy_ci95"):
        read_headline(missing, {}, 42)
    garbled = tmp_path / "garbled.json"
    garbled.write_text("{not json")
    with pytest.raises(ValueError, match=f"{garbled}: not a metrics.json"):
        read_headline(garbled, {}, 42)
