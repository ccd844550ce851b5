"""Tables and figures of the Snakemake report (rules/report.smk), for scripts/report_*.py.

Every writer goes through ``ecg2d.atomic.atomic_path``: a job killed midway leaves nothing behind.
HTML tables are self-contained pages (the report shows HTML inline; a CSV would only be a
download there).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ecg2d.atomic import atomic_path, save_figure
from ecg2d.split import read_table

STYLE = (
    "body{font-family:sans-serif;font-size:13px;margin:8px}"
    "table{border-collapse:collapse;margin-bottom:16px}"
    "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "th{background:#f2f2f2}caption{text-align:left;font-weight:bold;padding:4px 0}"
)


def beat_count_table(split_csvs: list[str], labels: list[str]) -> pd.DataFrame:
    """Labelled beats per record and class, with each record's train/test totals and a total row.

    Counts are of original beats (split tables hold no crops).
    """
    tables = [read_table(path) for path in split_csvs]
    records = [t["record"].iloc[0] if len(t) else Path(p).stem for t, p in zip(tables, split_csvs)]
    beats = pd.concat(tables, ignore_index=True)

    def count(column: str, values: list[str]) -> pd.DataFrame:
        counts = beats.groupby(["record", column]).size().unstack(fill_value=0)
        return counts.reindex(index=records, columns=values, fill_value=0).fillna(0).astype(int)

    counts = count("label", labels)
    table = counts.join(count("split", ["train", "test"]))
    table["total"] = counts.sum(axis=1)
    table.loc["all"] = table.sum(axis=0)
    table.index.name = "record"
    return table


def html_page(title: str, sections: list[tuple[str, pd.DataFrame]], note: str = "") -> str:
    """A small self-contained HTML page of captioned tables."""
    body = [f"<h3>{html.escape(title)}</h3>"]
    if note:
        body.append(f"<p>{html.escape(note)}</p>")
    for caption, frame in sections:
        table = frame.to_html(na_rep="–", float_format=lambda x: f"{x:.4f}", border=0)
        body.append(table.replace("<table", f"<table><caption>{html.escape(caption)}</caption"))
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def write_text(text: str, path) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def write_csv(frame: pd.DataFrame, path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, lineterminator="\n")


def plot_beat_counts(table: pd.DataFrame, title: str, path) -> None:
    """Heatmap of beats per record (rows) and class (columns), log colour scale, counts shown."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    counts = table.drop(index="all", columns=["train", "test", "total"])
    values = counts.to_numpy(dtype=float)
    fig, ax = plt.subplots(
        figsize=(1.6 + 0.75 * max(len(counts.columns), 1), 1.2 + 0.28 * max(len(counts), 1))
    )
    shown = np.where(values > 0, values, np.nan)
    vmax = max(float(np.nanmax(shown)) if np.isfinite(shown).any() else 1.0, 1.0)
    ax.imshow(shown, aspect="auto", cmap="Blues", norm=LogNorm(vmin=1, vmax=max(vmax, 10)))
    for (i, j), value in np.ndenumerate(values):
        dark = value > 0 and np.log(value) > 0.6 * np.log(max(vmax, 10))
        ax.text(
            j,
            i,
            f"{int(value)}",
            ha="center",
            va="center",
            fontsize=7,
            color="white" if dark else "black",
        )
    ax.set_xticks(range(len(counts.columns)), counts.columns)
    ax.set_yticks(range(len(counts)), counts.index)
    ax.set_xlabel("class")
    ax.set_ylabel("record")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def pick_examples(
    split_csvs: list[str], labels: list[str], per_class: int, seed: int
) -> dict[str, pd.DataFrame]:
    """Up to ``per_class`` beats of each class, a seeded draw over all records of the experiment."""
    beats = pd.concat([read_table(path) for path in split_csvs], ignore_index=True)
    rng = np.random.default_rng(seed)
    picked = {}
    for label in labels:
        of_class = beats[beats["label"] == label]
        n = min(per_class, len(of_class))
        rows = np.sort(rng.choice(len(of_class), size=n, replace=False)) if n else []
        picked[label] = of_class.iloc[rows]
    return picked


def plot_examples(
    picked: dict[str, pd.DataFrame], counts: dict[str, int], per_class: int, title: str, path
) -> None:
    """Grid of beat images: one row per class, up to ``per_class`` examples in each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ecg2d.images import read_image

    rows = max(len(picked), 1)
    fig, axes = plt.subplots(
        rows, per_class, figsize=(1.1 * per_class + 1.2, 1.15 * rows + 0.6), squeeze=False
    )
    for i, (label, beats) in enumerate(picked.items()):
        for j in range(per_class):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
            if j < len(beats):
                beat = beats.iloc[j]
                ax.imshow(read_image(beat["path"]), cmap="gray", vmin=0, vmax=255)
                ax.set_title(f"{beat['record']}:{beat['sample']}", fontsize=6)
            elif j == 0:
                ax.text(0.5, 0.5, "no beats", ha="center", va="center", fontsize=8)
        axes[i][0].set_ylabel(f"{label}\n(n={counts.get(label, 0)})", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def _interval(value) -> str:
    """A ``[lo, hi]`` interval as text ("–" where there is none)."""
    if not isinstance(value, list | tuple) or len(value) != 2 or None in value:
        return "–"
    return f"[{value[0]:.4f}, {value[1]:.4f}]"


def _figure_table(rows: dict, columns) -> pd.DataFrame:
    """One row per entry of ``rows``: each of ``columns`` it has, followed by its 95 % interval
    (``<column>_ci95``) where it has one."""
    table = {}
    for name, row in rows.items():
        out = {}
        for column in columns:
            if column in row:
                out[column] = row[column]
            if f"{column}_ci95" in row:
                out[f"{column} 95% CI"] = _interval(row[f"{column}_ci95"])
        table[name] = out
    return pd.DataFrame.from_dict(table, orient="index")


#: Counts shown first in the summary table of metrics.json.
SUMMARY_KEYS = (
    "experiment",
    "protocol",
    "n_train",
    "n_validation",
    "n_test",
    "n_reference",
    "n_missed",
    "n_unmatched_detections",
)
#: The AAMI conventions of metrics.json, as the report names them.
AAMI_CONVENTIONS = {"aami_ec57": "EC57", "aami_one_vs_rest": "one-vs-rest"}


def summary_table(metrics: dict) -> pd.DataFrame:
    """Counts, accuracy and macro figures with their intervals, training and bootstrap."""
    rows = [(key, metrics[key], None) for key in SUMMARY_KEYS if key in metrics]
    rows.append(("accuracy", metrics.get("accuracy"), metrics.get("accuracy_ci95")))
    macro = metrics.get("macro") or {}
    rows += [
        (f"macro {key}", value, macro.get(f"{key}_ci95"))
        for key, value in macro.items()
        if not key.endswith("_ci95")
    ]
    training = metrics.get("training") or {}
    rows += [
        (f"training {key}", training[key], None)
        for key in ("preset", "epochs_run", "best_epoch", "backend")
        if key in training
    ]
    bootstrap = metrics.get("bootstrap")
    if bootstrap:
        rows.append(
            (
                "bootstrap",
                f"{bootstrap['n']} {bootstrap['unit']} resamples, seed {bootstrap['seed']}",
                None,
            )
        )
    return pd.DataFrame(
        {
            "value": pd.Series([r[1] for r in rows], index=[r[0] for r in rows], dtype=object),
            "95% CI": [_interval(r[2]) for r in rows],
        }
    )


def metrics_tables(metrics: dict) -> list[tuple[str, pd.DataFrame]]:
    """Summary, per-class and (AAMI classes) SVEB/VEB tables of an evaluate ``metrics.json``,
    each figure beside its bootstrap 95 % interval where metrics.json has one."""
    sections = [("Summary", summary_table(metrics))]
    per_class = metrics.get("per_class") or {}
    if per_class:
        table = _figure_table(per_class, ["sensitivity", "ppv", "specificity", "f1", "support"])
        if metrics.get("n_missed"):
            table["missed"] = pd.Series(metrics.get("missed_per_class") or {})
        sections.append(("Per class (test split, one class against the rest)", table))
    aami = {
        f"{name} {shown}": metrics[key][name]
        for key, shown in AAMI_CONVENTIONS.items()
        if isinstance(metrics.get(key), dict)
        for name in metrics[key]
    }
    if aami:
        caption = (
            "AAMI gross SVEB and VEB: EC57 (Q excluded, F called V not a false V, missed beats "
            "false negatives, unmatched detections false positives) and one-vs-rest"
        )
        sections.append((caption, _figure_table(aami, ["Se", "+P", "FPR", "TP", "FN", "FP"])))
    return sections


def per_record_table(metrics: dict) -> pd.DataFrame:
    """``per_record`` of metrics.json, one row per record, and an ``all`` row of the sums.

    Columns: reference beats, missed, unmatched detections, accuracy, then TP, FN, FP, Se and
    +P of each group of ``counts`` (SVEB and VEB by EC57 for AAMI classes; else each class).
    The ``all`` row sums the counts; its Se and +P are those of the sums, its accuracy the
    experiment's.
    """
    rows = {}
    for record, row in (metrics.get("per_record") or {}).items():
        out = {
            "beats": row["beats"],
            "missed": row["missed"],
            "unmatched": row["unmatched_detections"],
            "accuracy": row["accuracy"],
        }
        for group, counts in row["counts"].items():
            out.update({f"{group} {key}": value for key, value in counts.items()})
        rows[str(record)] = out
    table = pd.DataFrame.from_dict(rows, orient="index", dtype=object)
    if not len(table):
        return table
    counts = [
        c for c in table.columns if c in ("beats", "missed", "unmatched") or c[-3:] in _COUNTS
    ]
    total = table[counts].astype(int).sum(axis=0).astype(object)
    for group in _groups(table):
        tp, fn, fp = (int(total[f"{group} {key}"]) for key in ("TP", "FN", "FP"))
        total[f"{group} Se"] = tp / (tp + fn) if tp + fn else None
        total[f"{group} +P"] = tp / (tp + fp) if tp + fp else None
    total["accuracy"] = metrics.get("accuracy")
    table.loc["all"] = total[table.columns]
    table.index.name = "record"
    return table


_COUNTS = (" TP", " FN", " FP")


def _groups(table: pd.DataFrame) -> list[str]:
    """The SVEB/VEB or class groups of a :func:`per_record_table`."""
    return [column[:-3] for column in table.columns if column.endswith(" TP")]


def plot_per_record(table: pd.DataFrame, title: str, path) -> None:
    """One panel per group of a :func:`per_record_table`: reference beats of each record
    (bars, left axis) and its Se and +P (dots, right axis; missing where undefined)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = table.drop(index="all", errors="ignore")
    groups = _groups(records) or ["(none)"]
    x = np.arange(len(records))
    fig, axes = plt.subplots(
        len(groups), 1, figsize=(2.5 + 0.3 * max(len(x), 8), 2.3 * len(groups)), squeeze=False
    )
    for ax, group in zip(axes[:, 0], groups):
        ax.set_xticks(x, records.index, rotation=90, fontsize=7)
        if group not in _groups(records):
            continue
        beats = (records[f"{group} TP"] + records[f"{group} FN"]).astype(int)
        ax.bar(x, beats, color="#c6dbef", label="reference beats")
        ax.set_ylabel("reference beats", fontsize=8)
        rates = ax.twinx()
        for key, marker, colour in (("Se", "o", "C0"), ("+P", "s", "C3")):
            values = pd.to_numeric(records[f"{group} {key}"], errors="coerce")
            rates.plot(
                x, values, marker, color=colour, mfc="none" if key == "+P" else colour, label=key
            )
        rates.set_ylim(-0.05, 1.05)
        rates.set_ylabel("Se, +P", fontsize=8)
        ax.set_title(f"{group}: {int(beats.sum())} reference beats", fontsize=9)
        handles = ax.get_legend_handles_labels()[0] + rates.get_legend_handles_labels()[0]
        ax.legend(handles=handles, fontsize=7, loc="upper left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def read_json(path) -> dict:
    return json.loads(Path(path).read_text())
