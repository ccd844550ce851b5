"""`snakemake --report report.html` on a tiny run of both experiments: every item, captioned."""

from __future__ import annotations

import base64
import json
import re

import cv2
import pandas as pd
import pytest

from ecg2d.evaluate import metrics_report
from ecg2d.report import beat_count_table, metrics_tables, per_record_table, plot_per_record
from tests.conftest import REPO, run_snakemake, shipped_prefix, write_config
from tests.conftest import REPORT_RECORDS as RECORDS

EXPERIMENTS = ["jun2018", "inter_patient"]
# Report item -> (MIME type, a phrase of its caption).
ITEMS = {
    "results/report/{e}/beat_counts.html": ("text/html", "Labelled beats of experiment"),
    "results/report/{e}/beat_counts.png": ("image/png", "Labelled beats of experiment"),
    "results/report/{e}/example_beats.png": ("image/png", "Example beat images of experiment"),
    "results/{e}/training_curves.png": ("image/png", "Training curves of experiment"),
    "results/{e}/confusion_matrix.png": ("image/png", "Confusion matrix of experiment"),
    "results/report/{e}/metrics.html": ("text/html", "Test metrics of experiment"),
    "results/report/{e}/per_record.html": ("text/html", "per test record"),
    "results/report/{e}/per_record.png": ("image/png", "per test record"),
    "results/report/{e}/gallery.png": ("image/png", "What the classifier of experiment"),
}


@pytest.fixture(scope="module")
def report(tiny_report):
    """A finished tiny `snakemake` (rule all) and its report: (workdir, report items, html)."""
    root, out = tiny_report
    text = out.read_text()
    items = json.loads(re.search(r"var results = (\{.*?\});\n", text, re.S)[1])
    return root, items, text


def decoded(item: dict) -> bytes:
    return base64.b64decode(item["data_uri"].split("base64,", 1)[1])


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_item_is_in_the_report_with_its_caption(report, experiment):
    _, items, _ = report
    for pattern, (mime, phrase) in ITEMS.items():
        path = pattern.format(e=experiment)
        assert path in items, f"{path} missing from the report: {sorted(items)}"
        item = items[path]
        assert item["mime_type"] == mime
        assert phrase in item["caption"] and f"<strong>{experiment}</strong>" in item["caption"]
        data = decoded(item)
        if mime == "image/png":
            assert data.startswith(b"\x89PNG") and len(data) > 1000
        else:
            assert b"<table" in data


def test_report_describes_the_workflow(report):
    _, _, text = report
    assert "classifies heartbeats" in text
    for experiment in EXPERIMENTS:
        assert experiment in text


def test_report_opens_with_the_headline_figures(report):
    """The front page (the workflow description) starts with each experiment's headline
    figures from its metrics.json; the same table is the report's first category."""
    root, items, text = report
    description = json.loads(re.search(r"var workflow_desc = (\".*?\");\n", text, re.S)[1])
    assert description.index("How good is it?") < description.index("classifies heartbeats")
    for experiment in EXPERIMENTS:
        metrics = json.loads((root / f"results/{experiment}/metrics.json").read_text())
        accuracy = f"{100 * metrics['accuracy']:.2f} %"
        assert f"<strong>{experiment}</strong>" in description
        assert accuracy in description
        ec57 = metrics.get("aami_ec57")
        if ec57:  # each defined EC57 figure, as the headline prints it ("–" where undefined)
            shown = [ec57[c][k] for c in ("SVEB", "VEB") for k in ("Se", "+P")]
            assert any(value is not None for value in shown)
            for value in filter(lambda v: v is not None, shown):
                assert f"{100 * value:.2f} %" in description
    assert "99.05 %" in description and "75.9 % (de Chazal et al. 2004, DS2)" in description
    item = items["results/report/headline.html"]
    assert item["mime_type"] == "text/html" and "How good is it" in item["caption"]
    assert "<table" in decoded(item).decode()
    # the front page keeps its top in a window shorter than it, stylesheet or not: it carries
    # the rules of report/report.css (snakemake/snakemake#3906)
    assert css_rules((REPO / "report/report.css").read_text()) == css_rules(description)
    categories = json.loads(re.search(r"var categories = (\{.*?\});\n", text, re.S)[1])
    assert sorted(categories, key=str.casefold)[0] == "At a glance"
    assert "results/report/headline.html" in str(categories["At a glance"])


def css_rules(text: str) -> set[tuple[str, str]]:
    """(selector, declarations) of the CSS rules in ``text``, whitespace-normalised."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return {
        (" ".join(selector.split()), " ".join(body.split()).rstrip(";").strip())
        for selector, body in re.findall(r"([#.\w][^{}<>]*)\{([^{}]*)\}", text)
        if "safe" in body
    }


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_gallery_has_a_row_per_cell_of_the_confusion_matrix(report, experiment):
    """One row of the gallery per cell with beats, confusions and correct beats alike."""
    root, _, _ = report
    metrics = json.loads((root / f"results/{experiment}/metrics.json").read_text())
    cells = sum(1 for row in metrics["confusion_matrix"]["matrix"] for n in row if n)
    image = cv2.imread(str(root / f"results/report/{experiment}/gallery.png"))
    assert image.shape[0] == round(100 * (1.2 * cells + 0.7))  # ecg2d.gallery.plot_gallery
    log = (root / f"logs/{experiment}/report/gallery.log").read_text()
    assert log.count("->") == cells


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_beat_counts_add_up_to_the_split_tables(report, experiment):
    root, items, _ = report
    splits = sorted((root / f"results/{experiment}/split").glob("*.csv"))
    n_beats = sum(len(pd.read_csv(p)) for p in splits)
    table = pd.read_csv(
        root / f"results/report/{experiment}/beat_counts.csv", dtype={"record": str}
    )
    table = table.set_index("record")
    assert table.loc["all", "total"] == n_beats
    assert table.loc["all", "train"] + table.loc["all", "test"] == n_beats
    assert sorted(table.index.drop("all")) == sorted(p.stem for p in splits)
    page = decoded(items[f"results/report/{experiment}/beat_counts.html"]).decode()
    for record in table.index:
        assert f"<th>{record}</th>" in page


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_metrics_table_shows_metrics_json(report, experiment):
    root, items, _ = report
    metrics = json.loads((root / f"results/{experiment}/metrics.json").read_text())
    page = decoded(items[f"results/report/{experiment}/metrics.html"]).decode()
    assert f"{metrics['accuracy']:.4f}" in page
    for label in metrics["per_class"]:
        assert f"<th>{label}</th>" in page
    assert metrics["bootstrap"]["unit"] == ("record" if experiment == "inter_patient" else "beat")
    assert "95% CI" in page
    for label, row in metrics["per_class"].items():
        if row["sensitivity_ci95"] is not None:
            lo, hi = row["sensitivity_ci95"]
            assert f"[{lo:.4f}, {hi:.4f}]" in page, label
    aami = "aami_ec57" in metrics
    assert aami == (experiment == "inter_patient")
    assert ("VEB EC57" in page and "VEB one-vs-rest" in page) == aami


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_per_record_table_lists_every_test_record(report, experiment):
    root, items, _ = report
    metrics = json.loads((root / f"results/{experiment}/metrics.json").read_text())
    table = pd.read_csv(root / f"results/report/{experiment}/per_record.csv", dtype={"record": str})
    table = table.set_index("record")
    tested = pd.read_csv(root / f"results/{experiment}/predictions.csv", dtype={"record": str})
    assert sorted(table.index.drop("all")) == sorted(set(tested["record"]))
    assert table.loc["all", "beats"] == metrics["n_reference"] == len(tested)
    page = decoded(items[f"results/report/{experiment}/per_record.html"]).decode()
    for record in table.index:
        assert f"<th>{record}</th>" in page


def test_per_record_table_and_figure_add_up(tmp_path):
    """Record "232" holds most S beats: the table's all row is the EC57 totals."""
    rows = [("232", "S", "S", 40), ("232", "S", "N", 10), ("232", "N", "S", 30),
            ("100", "S", "S", 1), ("100", "N", "N", 50), ("100", "V", "V", 5),
            ("100", "F", "V", 2), ("105", "N", "N", 60), ("105", "V", "N", 3)]  # fmt: skip
    table = pd.DataFrame(
        [(r, t, p) for r, t, p, n in rows for _ in range(n)],
        columns=["record", "true", "predicted"],
    )
    missed = pd.DataFrame({"record": ["105"], "true": ["V"]})
    metrics = metrics_report(
        table, ["N", "S", "V", "F", "Q"], "x", "inter_patient", missed=missed, seed=1,
        bootstrap_unit="record",
    )  # fmt: skip
    per_record = per_record_table(metrics)
    assert list(per_record.index) == ["100", "105", "232", "all"]
    total = per_record.loc["all"]
    for name in ("SVEB", "VEB"):
        for key in ("TP", "FN", "FP", "Se", "+P"):
            assert total[f"{name} {key}"] == pytest.approx(metrics["aami_ec57"][name][key])
    assert total["beats"] == metrics["n_reference"] == len(table) + 1
    assert per_record.loc["232", "SVEB TP"] + per_record.loc["232", "SVEB FN"] == 50
    assert per_record.loc["100", "VEB FP"] == 0  # F called V: not a false V in EC57
    assert per_record.loc["105", "missed"] == 1 and per_record.loc["105", "VEB FN"] == 4
    assert pd.isna(per_record.loc["105", "SVEB Se"])  # no S beats: undefined, not 0
    plot_per_record(per_record, "toy", tmp_path / "per_record.png")
    assert (tmp_path / "per_record.png").read_bytes().startswith(b"\x89PNG")
    sections = dict(metrics_tables(metrics))
    aami = sections[next(name for name in sections if name.startswith("AAMI"))]
    assert aami.loc["VEB EC57", "FP"] == 0 and aami.loc["VEB one-vs-rest", "FP"] == 2
    lo, hi = metrics["aami_ec57"]["SVEB"]["Se_ci95"]
    assert aami.loc["SVEB EC57", "Se 95% CI"] == f"[{lo:.4f}, {hi:.4f}]"
    summary = sections["Summary"]
    assert summary.loc["n_missed", "value"] == 1 and summary.loc["accuracy", "95% CI"] != "–"


def test_beat_count_table_counts_labels_and_splits(tmp_path):
    rows = [("7", "N", "train"), ("7", "N", "test"), ("7", "V", "train"), ("8", "V", "test")]
    paths = []
    for record in ("7", "8", "9"):
        frame = pd.DataFrame(
            [r for r in rows if r[0] == record], columns=["record", "label", "split"]
        )
        path = tmp_path / f"{record}.csv"
        frame.to_csv(path, index=False)
        paths.append(str(path))
    table = beat_count_table(paths, ["N", "V", "A"])
    assert table.loc["7"].to_dict() == {"N": 2, "V": 1, "A": 0, "train": 2, "test": 1, "total": 3}
    assert table.loc["9", "total"] == 0  # a record without labelled beats still has its row
    assert table.loc["all"].to_dict() == {"N": 2, "V": 2, "A": 0, "train": 2, "test": 2, "total": 4}


def test_metrics_tables_handle_undefined_values():
    metrics = {
        "experiment": "x",
        "accuracy": 0.5,
        "macro": {"f1": 0.4},
        "per_class": {
            "N": {"sensitivity": 1.0, "ppv": 0.5, "specificity": 0.0, "f1": 0.67, "support": 1},
            "V": {"sensitivity": None, "ppv": None, "specificity": 1.0, "f1": None, "support": 0},
        },
    }
    sections = dict(metrics_tables(metrics))
    assert sections["Summary"].loc["accuracy", "value"] == 0.5
    assert sections["Summary"].loc["accuracy", "95% CI"] == "–"  # no interval in metrics
    assert sections["Summary"].loc["macro f1", "value"] == 0.4
    per_class = next(frame for name, frame in sections.items() if name.startswith("Per class"))
    assert list(per_class.index) == ["N", "V"]
    assert "AAMI" not in " ".join(sections)


def test_example_beats_of_a_detector_experiment_read_its_own_images(tmp_path):
    """Rule example_beats reads the beat images the experiment's split tables point to: the
    detector's (results/png_detected/...) for a detector experiment, not the annotation ones."""
    tiny = {"preset": "tiny", "train": {"validation_records": ["118"]}}
    for segmentation, folder in (("detector", "png_detected/xqrs"), ("annotations", "png")):
        config = write_config(
            tmp_path / f"{segmentation}.yaml",
            records=RECORDS,
            experiments={"inter_patient": {**tiny, "segmentation": segmentation}},
        )
        target = "results/report/inter_patient/example_beats.png"
        plan = run_snakemake(tmp_path, "-n", target, configfile=config).stdout
        inputs = plan.split("rule example_beats:", 1)[1].split("output:", 1)[0]
        own = f"results/{shipped_prefix('inter_patient')}"  # its window's folder
        for record in RECORDS:
            assert f"{own}{folder}/{record}" in inputs, inputs
        other = f"{own}png/100" if segmentation == "detector" else "png_detected"
        assert other not in inputs, inputs
