"""Gallery of confusions (rules/report.smk, rule gallery): what the classifier did, in pictures.

For every cell of an experiment's confusion matrix that holds beats -- each confusion "true X
called Y" and the correct beats of each class -- a seeded draw of up to ``per_cell`` test beats,
shown as the network's own input: the rendered test-beat images the manifest lists. Each image
is labelled with its record and the time of its R peak (``sample`` / ``fs``).

The test beats are ``predictions.csv`` of rule evaluate (record, sample, true, predicted,
``p_<class>``) joined on record + sample with the manifest's test originals (``split == "test"``,
``augmented == 0``), which give each beat's image ``path``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ecg2d.split import read_table, seeded_rng

#: Columns a predictions table must have (plus one ``p_<class>`` per class, optional here).
PREDICTION_COLUMNS = ("record", "sample", "true", "predicted")


@dataclass(frozen=True)
class Cell:
    """One cell of the confusion matrix: its beat count and the beats drawn from it."""

    true: str
    predicted: str
    count: int
    beats: pd.DataFrame  # the picked rows: record, sample, true, predicted, path, p_*

    @property
    def correct(self) -> bool:
        return self.true == self.predicted


def read_predictions(path, labels) -> pd.DataFrame:
    """``predictions.csv`` of rule evaluate, checked: ValueError naming ``path`` if it is not
    one (unreadable, a column missing, a sample that is not a whole number, a label outside
    ``labels``, a beat listed twice)."""
    try:
        table = pd.read_csv(
            path,
            dtype={"record": str, "true": str, "predicted": str},
            keep_default_na=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a predictions table: {exc}") from None
    missing = [c for c in PREDICTION_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"{path}: not a predictions table: no column {', '.join(missing)} "
            f"(expected {', '.join(PREDICTION_COLUMNS)}, p_<class>...)"
        )
    sample = pd.to_numeric(table["sample"], errors="coerce")
    bad = sample.isna() | (sample < 0) | (sample != np.floor(sample))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(
            f"{path}: line {row + 2}: sample {table['sample'].iloc[row]!r} is not a sample number"
        )
    table["sample"] = sample.astype(np.int64)
    known = set(labels)
    for column in ("true", "predicted"):
        unknown = ~table[column].isin(known)
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0])
            raise ValueError(
                f"{path}: line {row + 2}: {column} label {table[column].iloc[row]!r} is not "
                f"one of the experiment's classes {list(labels)}"
            )
    twice = table.duplicated(["record", "sample"])
    if twice.any():
        row = table[twice].iloc[0]
        raise ValueError(f"{path}: beat {row['record']}:{row['sample']} is listed twice")
    return table


def manifest_test_images(manifest: pd.DataFrame, path) -> pd.DataFrame:
    """``record, sample, path`` of the manifest's test originals (ValueError naming ``path``
    if a column is missing or a beat has two images)."""
    missing = [c for c in ("record", "sample", "split", "augmented", "path") if c not in manifest]
    if missing:
        raise ValueError(f"{path}: not a manifest: no column {', '.join(missing)}")
    rows = manifest[(manifest["split"] == "test") & (manifest["augmented"] == 0)]
    rows = rows[["record", "sample", "path"]].astype({"sample": np.int64})
    twice = rows.duplicated(["record", "sample"])
    if twice.any():
        row = rows[twice].iloc[0]
        raise ValueError(f"{path}: test beat {row['record']}:{row['sample']} has two images")
    return rows


def gallery_table(predictions_path, manifest_path, labels) -> pd.DataFrame:
    """Every predicted test beat with the ``path`` of its image (ValueError naming the file
    that is wrong: a bad predictions table, or a predicted beat with no test image)."""
    predictions = read_predictions(predictions_path, labels)
    images = manifest_test_images(read_table(manifest_path), manifest_path)
    table = predictions.merge(images, on=["record", "sample"], how="left", sort=False)
    lost = table["path"].isna()
    if lost.any():
        row = table[lost].iloc[0]
        raise ValueError(
            f"{predictions_path}: {int(lost.sum())} predicted beat(s) are no test beat of "
            f"{manifest_path} (first {row['record']}:{row['sample']}): predictions and manifest "
            "are of different runs"
        )
    return table


def pick_cells(table: pd.DataFrame, labels, per_cell: int, seed: int) -> list[Cell]:
    """The cells of the confusion matrix that hold beats, each with up to ``per_cell`` of them.

    Confusions (true != predicted) first, most beats first (ties in ``labels`` order), then the
    correct beats of each class in ``labels`` order. Each cell's draw is seeded by ``seed`` and
    its two labels alone (:func:`ecg2d.split.seeded_rng`), so a rerun picks the same beats; the
    picked beats keep the table's order.
    """
    if per_cell < 1:
        raise ValueError(f"per_cell must be at least 1, not {per_cell}")
    labels = list(labels)
    confusions, correct = [], []
    groups = table.groupby(["true", "predicted"], sort=False).indices
    for true in labels:
        for predicted in labels:
            rows = groups.get((true, predicted))
            if rows is None or not len(rows):
                continue
            n = min(per_cell, len(rows))
            rng = seeded_rng(seed, "gallery", true, predicted)
            chosen = np.sort(rng.choice(len(rows), size=n, replace=False))
            cell = Cell(true, predicted, len(rows), table.iloc[np.sort(rows)[chosen]])
            (correct if true == predicted else confusions).append(cell)
    confusions.sort(key=lambda cell: -cell.count)  # stable: ties stay in labels order
    return confusions + correct


def clock(sample: int, fs: float) -> str:
    """Time of ``sample`` at ``fs`` Hz as mm:ss (h:mm:ss from an hour on)."""
    seconds = int(sample // fs)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes:02d}:{seconds:02d}"


def beat_title(beat: pd.Series, fs: float) -> str:
    """Record, time and the probability the network gave its call (where the table has it)."""
    text = f"{beat['record']} {clock(int(beat['sample']), fs)}"
    column = f"p_{beat['predicted']}"
    if column in beat.index and pd.notna(beat[column]):
        text += f"\np={float(beat[column]):.2f}"
    return text


def cell_label(cell: Cell) -> str:
    count = f"({cell.count} beat{'' if cell.count == 1 else 's'})"
    if cell.correct:
        return f"{cell.true} correct\n{count}"
    return f"true {cell.true}\ncalled {cell.predicted}\n{count}"


def plot_gallery(cells: list[Cell], per_cell: int, fs: float, title: str, path, root=".") -> None:
    """One row per cell (:func:`pick_cells` order), up to ``per_cell`` beat images in each,
    titled record, mm:ss and the probability of the call; images read from ``root``/path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ecg2d.atomic import save_figure
    from ecg2d.images import read_image

    rows = max(len(cells), 1)
    height = 1.2 * rows + 0.7
    fig, axes = plt.subplots(rows, per_cell, figsize=(0.95 * per_cell + 1.4, height), squeeze=False)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_visible(False)
    try:
        _draw(axes, cells, per_cell, fs, root, read_image)
        fig.suptitle(title, fontsize=10)
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / height))  # room for the title
        save_figure(fig, path)
    finally:
        plt.close(fig)


def _draw(axes, cells: list[Cell], per_cell: int, fs: float, root, read_image) -> None:
    """Fill the ``axes`` grid of :func:`plot_gallery`."""
    if not cells:
        axes[0][0].text(0.5, 0.5, "no test beats", ha="center", va="center", fontsize=9)
    for i, cell in enumerate(cells):
        for j in range(min(per_cell, len(cell.beats))):
            beat = cell.beats.iloc[j]
            ax = axes[i][j]
            ax.imshow(read_image(Path(root) / beat["path"]), cmap="gray", vmin=0, vmax=255)
            ax.set_title(beat_title(beat, fs), fontsize=6, pad=2)
            for side in ax.spines.values():
                side.set_visible(True)
                side.set_color("#2a7f2a" if cell.correct else "#c0392b")
        axes[i][0].set_ylabel(
            cell_label(cell),
            fontsize=8,
            rotation=0,
            ha="right",
            va="center",
            color="#2a7f2a" if cell.correct else "#c0392b",
        )
