"""Tables and figures of the Snakemake report (rules/report.smk), for scripts/report_*.py.

Every writer goes through ``ecg2d.io.atomic_path``: a job killed midway leaves nothing behind.
HTML tables are self-contained pages (the report shows HTML inline; a CSV would only be a
download there).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ecg2d.io import atomic_path
from ecg2d.split import read_table

STYLE = (
    "body{font-family:sans-serif;font-size:13px;margin:8px}"
    "table{border-collapse:collapse;margin-bottom:16px}"
    "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "th{background:#f2f2f2}caption{text-align:left;font-weight:bold;padding:4px 0}"
)


def class_order(experiment: dict) -> list[str]:
    """The experiment's class labels, in the order of its ``classes`` mapping."""
    return list(dict.fromkeys(experiment["classes"].values()))


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


def _savefig(fig, path) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


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
    _savefig(fig, path)


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

    from ecg2d.render import read_png

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
                ax.imshow(read_png(beat["path"]), cmap="gray", vmin=0, vmax=255)
                ax.set_title(f"{beat['record']}:{beat['sample']}", fontsize=6)
            elif j == 0:
                ax.text(0.5, 0.5, "no beats", ha="center", va="center", fontsize=8)
        axes[i][0].set_ylabel(f"{label}\n(n={counts.get(label, 0)})", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _savefig(fig, path)


def metrics_tables(metrics: dict) -> list[tuple[str, pd.DataFrame]]:
    """Summary, per-class and (when present) AAMI tables of an evaluate ``metrics.json``."""
    summary = {
        key: metrics.get(key)
        for key in ("experiment", "protocol", "n_train", "n_validation", "n_test", "accuracy")
        if key in metrics
    }
    for key, value in (metrics.get("macro") or {}).items():
        summary[f"macro {key}"] = value
    training = metrics.get("training") or {}
    for key in ("preset", "epochs_run", "best_epoch", "backend"):
        if key in training:
            summary[f"training {key}"] = training[key]
    sections = [("Summary", pd.DataFrame({"value": pd.Series(summary, dtype=object)}))]
    columns = ["sensitivity", "ppv", "specificity", "f1", "support"]
    per_class = pd.DataFrame(metrics.get("per_class") or {}).T
    if len(per_class):
        shown = [c for c in columns if c in per_class.columns]
        sections.append(("Per class (test split)", per_class[shown]))
    aami = metrics.get("aami")
    if isinstance(aami, dict):
        nested = aami.get("per_class") if isinstance(aami.get("per_class"), dict) else None
        flat = {k: v for k, v in aami.items() if not isinstance(v, (dict, list))}
        if nested:
            table = pd.DataFrame(nested).T
            sections.append(("AAMI classes", table[[c for c in table.columns if c != "fpr"]]))
        groups = {k: v for k, v in aami.items() if isinstance(v, dict) and k != "per_class"}
        if groups and all(
            all(not isinstance(x, (dict, list)) for x in g.values()) for g in groups.values()
        ):
            sections.append(("AAMI (gross)", pd.DataFrame(groups).T))
        if flat:
            sections.append(("AAMI", pd.DataFrame({"value": pd.Series(flat, dtype=object)})))
    return sections


def read_json(path) -> dict:
    return json.loads(Path(path).read_text())
