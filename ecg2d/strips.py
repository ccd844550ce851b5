"""ECG strips of a predicted record (rules/predict.smk, rule predict_strips) and of an
experiment's test records (rules/strips.smk, rule experiment_strips).

The lead of one record is drawn over time in rows of :data:`STRIP_S` seconds on ECG paper:
minor lines every 0.04 s and 0.1 mV, major lines every 0.2 s and 0.5 mV, at the proportions of
a paper strip (25 mm/s, 10 mm/mV: 1 mV is as long as 0.4 s). Every classified beat of the
record's prediction table (:func:`ecg2d.predict.prediction_table`) carries its predicted label
above the trace and, where the record has reference annotations, the reference label below it.
The marks (:func:`beat_marks`) are of five kinds:

- ``agree``: predicted label = reference label (or a reference symbol outside the classes,
  which is not scored), both muted;
- ``disagree``: predicted label != reference label, both labels red on a red band;
- ``missed``: a reference beat no classified beat matched (table row ``detected = 0``): a blue
  triangle above, the reference label below in blue, on a blue band;
- ``extra``: a classified beat matching no reference beat (``matched = 0``): the predicted
  label in orange, an orange cross where the reference label would be, on an orange band;
- ``plain``: a classified beat of a record without reference annotations (label only).

Disagreements, missed and extra beats are *errors*. Long records show the first ``first_s``
seconds and then every 10-s stretch of the record (on the 10-s grid: 0-10 s, 10-20 s, ...)
that holds an error, up to ``max_rows`` rows (:func:`strip_windows`): when the bound is hit,
the stretches with the most errors are kept and the title says how many were left out. Each
row is labelled with the record and its start time; the title gives the record, the lead and
the counts of beats and errors.

The figure is one matplotlib (Agg) figure with few artists, whatever the record's length: the
grid and the trace are line collections, the labels one marker collection per distinct label
text, the bands one polygon collection.

An experiment's strips come from its ``predictions.csv`` (:func:`experiment_table`): its test
beats, each classified and matched to its reference beat, so their marks are ``agree`` or
``disagree`` (the file holds no missed reference beats or unmatched detections). Beats of the
record that are not test beats (training beats of an intra-patient record) carry no label.
:func:`strip_records` chooses the test records to draw: those with the most errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: Seconds per row; seconds shown from the start of every record; the most rows of a figure.
STRIP_S = 10.0
FIRST_S = 60.0
MAX_ROWS = 30
#: Seconds of paper per mV of amplitude (25 mm/s and 10 mm/mV: 1 mV is drawn as long as 0.4 s).
S_PER_MV = 0.4
#: Minor and major grid spacing: (seconds, mV).
MINOR = (0.04, 0.1)
MAJOR = (0.2, 0.5)
#: Vertical layout of one row in mV, from its baseline (the row's median): its strip of paper
#: spans PAPER_MV (multiples of the major spacing, so that the baseline is a major line); the
#: trace is clipped to [TRACE_LOW, TRACE_HIGH]; predicted labels sit at PRED_Y, reference
#: labels at REF_Y. Rows are ROW_MV apart: strips of paper with white between them.
PAPER_MV = (-2.5, 3.0)
TRACE_LOW, TRACE_HIGH = -1.9, 2.3
PRED_Y, REF_Y = 2.68, -2.2
ROW_MV = 6.0
#: Inches of paper per second (the figure's scale) and the PNG's resolution.
INCH_PER_S = 1.1
DPI = 100
#: Margins of the figure in inches: left (row labels), right (error counts), top (title and
#: legend) and bottom.
MARGINS = (0.95, 0.85, 1.2, 0.2)
#: Font size of the beat labels (points).
LABEL_PT = 8.0

#: Columns of a prediction table that the strips read.
STRIP_COLUMNS = ("sample", "detected", "label", "matched", "ref_sample", "ref_symbol", "ref_label")
#: Kinds of marks (:func:`beat_marks`) and which of them are errors.
KINDS = ("agree", "disagree", "missed", "extra", "plain")
ERRORS = ("disagree", "missed", "extra")

PAPER = "#fff4f2"
GRID_MINOR = "#f6cfcc"
GRID_MAJOR = "#eca7a2"
TRACE = "#111111"
#: Colour of the labels (predicted, reference) of each kind, and of its band (None: no band).
COLOURS = {
    "agree": ("#3a3a3a", "#8c8c8c", None),
    "plain": ("#3a3a3a", "#8c8c8c", None),
    "disagree": ("#e00000", "#e00000", "#ff0000"),
    "missed": ("#1558c0", "#1558c0", "#2a6ee8"),
    "extra": ("#e07800", "#e07800", "#ff9a1a"),
}
BAND_ALPHA = 0.16
#: Half-width of an error's band in seconds.
BAND_HALF_S = 0.22


@dataclass(frozen=True)
class StripPlan:
    """Rows to draw: their start times, and the error stretches shown and left out."""

    starts: np.ndarray  # start time (s) of each row, ascending
    n_first: int  # rows of the first ``first_s`` seconds (the first rows of ``starts``)
    error_windows: np.ndarray  # start times of all 10-s stretches holding an error
    left_out: np.ndarray  # start times of the error stretches not shown (bound hit)
    left_out_errors: int  # errors in the stretches left out


def strip_windows(
    error_times,
    duration: float,
    *,
    first_s: float = FIRST_S,
    strip_s: float = STRIP_S,
    max_rows: int = MAX_ROWS,
) -> StripPlan:
    """Rows to show: the first ``first_s`` seconds, then every ``strip_s`` stretch with an error.

    Rows lie on the ``strip_s`` grid (row ``k`` starts at ``k * strip_s``) and within
    ``duration`` seconds; the first row is always shown. At most ``max_rows`` rows: the
    first-seconds rows first, then the error stretches with the most errors (the earlier on
    ties); rows are returned in time order.
    """
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1 (got {max_rows})")
    if first_s < 0 or strip_s <= 0:
        raise ValueError(f"first_s must be >= 0 and strip_s > 0 (got {first_s}, {strip_s})")
    n_rows_total = max(int(np.ceil(duration / strip_s - 1e-9)), 1)
    n_first = min(max(int(np.ceil(first_s / strip_s - 1e-9)), 1), n_rows_total, max_rows)
    times = np.asarray(error_times, dtype=np.float64)
    index = np.clip(np.floor(times / strip_s).astype(np.int64), 0, n_rows_total - 1)
    windows, counts = np.unique(index, return_counts=True)
    later = windows >= n_first
    order = np.lexsort((windows[later], -counts[later]))  # most errors first, then earliest
    budget = max_rows - n_first
    chosen, dropped = windows[later][order[:budget]], windows[later][order[budget:]]
    starts = np.concatenate([np.arange(n_first), np.sort(chosen)]) * strip_s
    return StripPlan(
        starts=starts.astype(np.float64),
        n_first=n_first,
        error_windows=windows * strip_s,
        left_out=np.sort(dropped) * strip_s,
        left_out_errors=int(counts[later][order[budget:]].sum()),
    )


def check_table(table: pd.DataFrame, record: str, lead: str | None = None) -> None:
    """ValueError naming ``record`` if ``table`` is not a prediction table (naming the columns
    it lacks) or is another record's or lead's."""
    missing = [c for c in STRIP_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"record {record}: the prediction table has no column {', '.join(missing)} "
            f"(a table of ecg2d.predict has {', '.join(STRIP_COLUMNS)}, ...)"
        )
    for column, wanted in (("record", record), ("lead", lead)):
        if wanted is None or column not in table.columns:
            continue
        other = sorted(set(table[column].astype(str)) - {str(wanted)})
        if other:
            raise ValueError(
                f"record {record}: the prediction table is of {column} {other[0]!r}, not "
                f"{str(wanted)!r}"
            )


def has_reference(table: pd.DataFrame) -> bool:
    """Whether a prediction table was made with reference annotations (a beat matched one, or
    one was missed)."""
    return bool((table["matched"].to_numpy() == 1).any() or (table["detected"] == 0).any())


def beat_marks(table: pd.DataFrame, fs: float, reference: bool | None = None) -> pd.DataFrame:
    """One mark per table row: ``time`` (s), ``kind`` (:data:`KINDS`), ``pred`` and ``ref``
    (the texts above and below the trace; ``""`` for none), in time order.

    ``reference`` says whether the record has reference annotations (None: guessed from the
    table, :func:`has_reference`); without, every classified beat is ``plain``.
    """
    if reference is None:
        reference = has_reference(table)
    if not reference:  # rows without a classified beat have no place then
        table = table[table["detected"].to_numpy() == 1]
    detected = table["detected"].to_numpy() == 1
    matched = table["matched"].to_numpy() == 1
    label = table["label"].astype(str).to_numpy()
    ref_label = table["ref_label"].astype(str).to_numpy()
    ref_symbol = table["ref_symbol"].astype(str).to_numpy()
    sample = np.where(detected, table["sample"], table["ref_sample"]).astype(np.int64)
    kind = np.full(len(table), "plain", dtype=object)
    if reference:
        kind[detected & matched] = "agree"
        kind[detected & matched & (ref_label != "") & (label != ref_label)] = "disagree"
        kind[detected & ~matched] = "extra"
        kind[~detected] = "missed"
    else:
        ref_label = ref_symbol = np.full(len(table), "")
    ref = np.where(ref_label != "", ref_label, ref_symbol)
    marks = pd.DataFrame(
        {
            "sample": sample,
            "time": sample / float(fs),
            "kind": kind.astype(str),
            "pred": np.where(kind == "missed", "", label),
            "ref": np.where(kind == "extra", "", ref),
        }
    )
    return marks.sort_values("sample", kind="stable").reset_index(drop=True)


def clock(seconds: float) -> str:
    """``mm:ss`` (``h:mm:ss`` from one hour)."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    return (
        f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
        if hours
        else f"{rest // 60:02d}:{rest % 60:02d}"
    )


def figure_size(n_rows: int) -> tuple[float, float]:
    """(width, height) in inches of a figure of ``n_rows`` rows (the paper keeps its aspect)."""
    left, right, top, bottom = MARGINS
    return (
        left + STRIP_S * INCH_PER_S + right,
        top + n_rows * ROW_MV * S_PER_MV * INCH_PER_S + bottom,
    )


def _paper(ax, n_rows: int) -> None:
    """Strips of ECG paper for rows 0..n_rows-1 (row k's baseline at y = -k * ROW_MV)."""
    from matplotlib.collections import LineCollection, PolyCollection

    lo, hi = PAPER_MV
    bases = -np.arange(n_rows) * ROW_MV
    x0, x1 = np.zeros(n_rows), np.full(n_rows, STRIP_S)
    boxes = np.stack([np.c_[x0, bases + lo], np.c_[x1, bases + lo], np.c_[x1, bases + hi],
                      np.c_[x0, bases + hi]], axis=1)  # fmt: skip
    ax.add_collection(PolyCollection(boxes, facecolors=PAPER, linewidths=0, zorder=0))
    for (step_s, step_mv), colour, width in (
        (MINOR, GRID_MINOR, 0.45),
        (MAJOR, GRID_MAJOR, 0.9),
    ):
        xs = np.arange(0.0, STRIP_S + step_s / 2, step_s)
        ys = np.arange(lo, hi + step_mv / 2, step_mv)
        # vertical lines of every row, then horizontal lines of every row
        vx, vb = np.meshgrid(xs, bases)
        vertical = np.stack(
            [np.c_[vx.ravel(), vb.ravel() + lo], np.c_[vx.ravel(), vb.ravel() + hi]], 1
        )
        hy = (bases[:, None] + ys[None, :]).ravel()
        horizontal = np.stack(
            [np.c_[np.zeros_like(hy), hy], np.c_[np.full_like(hy, STRIP_S), hy]], 1
        )
        ax.add_collection(
            LineCollection(
                np.concatenate([vertical, horizontal]), colors=colour, linewidths=width, zorder=1
            )
        )


def _text_marker(text: str, bold: bool):
    """(marker path centred on the origin, marker size in points) drawing ``text``."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.path import Path as MplPath
    from matplotlib.textpath import TextPath

    path = TextPath(
        (0, 0), text, size=LABEL_PT, prop=FontProperties(weight="bold" if bold else "normal")
    )
    box = path.get_extents()
    centre = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
    return MplPath(path.vertices - centre, path.codes), max(box.width, box.height)


def _labels(ax, x, y, texts, colours, bold) -> None:
    """Draw ``texts`` centred at (x, y): one marker collection per distinct (text, weight)."""
    keys = pd.Series(list(zip(texts, bold)))
    for (text, heavy), index in keys.groupby(keys).groups.items():
        if not text:
            continue
        index = np.asarray(index)
        marker, size = _text_marker(text, heavy)
        ax.scatter(
            x[index],
            y[index],
            s=size**2,
            marker=marker,
            c=colours[index],
            linewidths=0,
            zorder=4,
            snap=False,  # snapping would squash the bars of glyphs like F and E
        )


def _rows(ax, signal: np.ndarray, fs: float, plan: StripPlan, marks, record: str) -> np.ndarray:
    """Draw the trace and the labels of each row of ``plan``; return the row of each mark
    (-1: not shown)."""
    from matplotlib.collections import LineCollection

    traces, row_of = [], np.full(len(marks), -1)
    time = marks["time"].to_numpy()
    is_error = marks["kind"].isin(ERRORS).to_numpy()
    for k, start in enumerate(plan.starts):
        lo, hi = int(round(start * fs)), min(int(round((start + STRIP_S) * fs)), len(signal))
        chunk, base = signal[lo:hi], -k * ROW_MV
        y = np.clip(chunk - np.median(chunk), TRACE_LOW, TRACE_HIGH) + base
        traces.append(np.c_[np.arange(hi - lo) / fs, y])
        inside = (time >= start) & (time < start + STRIP_S)
        row_of[inside] = k
        ax.text(-0.12, base, f"{record}\n{clock(start)}", ha="right", va="center", fontsize=8.5,
                color="#222222", linespacing=1.3)  # fmt: skip
        n = int((inside & is_error).sum())
        if n:
            ax.text(STRIP_S + 0.1, base, f"{n} error{'s' if n > 1 else ''}", ha="left",
                    va="center", fontsize=8, color="#555555")  # fmt: skip
    ax.add_collection(LineCollection(traces, colors=TRACE, linewidths=0.75, zorder=3))
    # dashed lines between rows where the next row does not follow on in time
    gaps = np.flatnonzero(np.diff(plan.starts) > STRIP_S + 1e-9)
    if len(gaps):
        ys = -gaps * ROW_MV + PAPER_MV[0] - (ROW_MV - PAPER_MV[1] + PAPER_MV[0]) / 2
        ax.add_collection(
            LineCollection([[(0, y), (STRIP_S, y)] for y in ys], colors="#9a7f7d",
                           linewidths=1.2, linestyles=(0, (6, 4)), zorder=1)
        )  # fmt: skip
    return row_of


def _marks(ax, marks, plan: StripPlan, row_of: np.ndarray, reference: bool) -> set[str]:
    """Draw the labels, error markers and error bands of the marks shown; return their kinds."""
    from matplotlib.collections import PolyCollection

    visible = marks[row_of >= 0].assign(row=row_of[row_of >= 0])
    x = (visible["time"] - plan.starts[visible["row"]]).to_numpy()
    base = -visible["row"].to_numpy() * ROW_MV
    kind = visible["kind"].to_numpy()
    strong = np.isin(kind, ERRORS)
    for column, y, which in (("pred", PRED_Y, 0), ("ref", REF_Y, 1)):
        if column == "pred" or reference:
            colours = np.array([COLOURS[k][which] for k in kind], dtype=object)
            _labels(ax, x, base + y, visible[column].to_numpy(), colours, strong)
    for error, marker, y in (("missed", "v", PRED_Y), ("extra", "x", REF_Y)):
        at = kind == error
        if at.any():
            ax.scatter(x[at], base[at] + y, s=30, marker=marker, c=COLOURS[error][0],
                       linewidths=1.4, zorder=4)  # fmt: skip
    if strong.any():
        x0, x1 = x[strong] - BAND_HALF_S, x[strong] + BAND_HALF_S
        y0, y1 = base[strong] + PAPER_MV[0], base[strong] + PAPER_MV[1]
        boxes = np.stack([np.c_[x0, y0], np.c_[x1, y0], np.c_[x1, y1], np.c_[x0, y1]], axis=1)
        ax.add_collection(
            PolyCollection(boxes, facecolors=[COLOURS[k][2] for k in kind[strong]],
                           alpha=BAND_ALPHA, linewidths=0, zorder=2)
        )  # fmt: skip
    return set(kind)


def _legend(fig, present: set[str], reference: bool) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    def patch(kind, text):
        colour = COLOURS[kind][2]
        return Patch(facecolor=colour, alpha=BAND_ALPHA * 2, edgecolor=COLOURS[kind][0], label=text)

    handles = [
        Line2D([], [], ls="none", marker=r"$\mathrm{N}$", color=COLOURS["agree"][0], label=(
            "predicted label above the trace, reference below" if reference else "predicted label"
        )),
    ]  # fmt: skip
    if "disagree" in present:
        handles.append(patch("disagree", "predicted ≠ reference"))
    if "missed" in present:
        handles.append(Line2D([], [], ls="none", marker="v", color=COLOURS["missed"][0],
                              label="missed: reference beat, no detection"))  # fmt: skip
    if "extra" in present:
        handles.append(Line2D([], [], ls="none", marker="x", color=COLOURS["extra"][0],
                              label="extra: detection, no reference beat"))  # fmt: skip
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(MARGINS[0] / fig.get_figwidth(), 1 - 0.8 / fig.get_figheight()),
        ncol=len(handles),
        frameon=False,
        fontsize=8.5,
        handletextpad=0.3,
        columnspacing=1.4,
    )


def plot_strips(
    signal,
    fs: float,
    table: pd.DataFrame,
    path,
    *,
    record: str,
    lead: str,
    first_s: float = FIRST_S,
    max_rows: int = MAX_ROWS,
    reference: bool | None = None,
    heading: str | None = None,
) -> StripPlan:
    """Draw the strips of one record (module docstring) and write them to ``path`` (PNG).

    ``signal`` is the lead in mV at ``fs`` Hz, the rate of the table's ``sample`` and
    ``ref_sample`` (the record's own rate). ``reference``: whether the record has reference
    annotations (None: guessed from the table). ``heading``: the figure's title (None:
    :func:`title`). A table that is not a prediction table, or not of this signal, is a
    ValueError naming ``record``; nothing is written then. Returns the rows drawn.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ecg2d.atomic import save_figure

    check_table(table, record, lead)
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim != 1 or not len(signal) or not fs > 0:
        raise ValueError(
            f"record {record}: need a 1-D signal and fs > 0 (got {signal.shape}, {fs})"
        )
    if reference is None:
        reference = has_reference(table)
    marks = beat_marks(table, fs, reference)
    outside = (marks["sample"] < 0) | (marks["sample"] >= len(signal))
    if outside.any():
        raise ValueError(
            f"record {record}: the prediction table has beats at samples outside the signal "
            f"(e.g. {int(marks['sample'][outside].iloc[0])}; {len(signal)} samples at {fs:g} Hz): "
            "the table is not of this record or rate"
        )
    duration = len(signal) / fs
    is_error = marks["kind"].isin(ERRORS).to_numpy()
    plan = strip_windows(
        marks["time"][is_error], duration, first_s=first_s, strip_s=STRIP_S, max_rows=max_rows
    )
    fig = plt.figure(figsize=figure_size(len(plan.starts)), dpi=DPI, facecolor="white")
    try:
        width, height = fig.get_size_inches()
        left, _, top, bottom = MARGINS
        ax = fig.add_axes(
            (left / width, bottom / height, STRIP_S * INCH_PER_S / width,
             (height - top - bottom) / height)
        )  # fmt: skip
        ax.set_axis_off()
        ax.set_xlim(0, STRIP_S)
        ax.set_ylim(-(len(plan.starts) - 1) * ROW_MV + PAPER_MV[0], PAPER_MV[1])
        _paper(ax, len(plan.starts))
        row_of = _rows(ax, signal, fs, plan, marks, record)
        kinds = _marks(ax, marks, plan, row_of, reference)
        if heading is None:
            heading = title(marks, record, lead, reference)
        fig.text(left / width, 1 - 0.12 / height, heading, ha="left", va="top", fontsize=11,
                 fontweight="bold")  # fmt: skip
        fig.text(left / width, 1 - 0.38 / height, _note(plan, duration, max_rows), ha="left",
                 va="top", fontsize=8.5, color="#333333", linespacing=1.5)  # fmt: skip
        _legend(fig, kinds, reference)
        save_figure(fig, Path(path), dpi=DPI)
    finally:
        plt.close(fig)
    return plan


def title(marks: pd.DataFrame, record: str, lead: str, reference: bool) -> str:
    """The figure's title: record, lead, and the counts of beats and errors (all of them)."""
    counts = marks["kind"].value_counts()
    text = (
        f"Record {record}, lead {lead}: {int((marks['kind'] != 'missed').sum())} beats classified"
    )
    if not reference:
        return text + " (no reference annotations)"
    return (
        f"{text}; {int(marks['kind'].isin(ERRORS).sum())} errors: "
        f"{counts.get('disagree', 0)} disagreements, {counts.get('missed', 0)} missed, "
        f"{counts.get('extra', 0)} extra"
    )


def shown(plan: StripPlan, duration: float, max_rows: int) -> str:
    """What the rows of ``plan`` show of a record of ``duration`` seconds, and leave out."""
    first = int((plan.error_windows < plan.n_first * STRIP_S).sum())
    later = len(plan.error_windows) - len(plan.left_out) - first
    text = f"the first {clock(plan.n_first * STRIP_S)}"
    if len(plan.error_windows) > first:
        text += f" and {later} later 10-s stretches with errors"
    text += f", of {clock(duration)} recorded"
    if len(plan.left_out):
        text += (
            f"; not shown (at most {max_rows} rows): {len(plan.left_out)} more stretches with "
            f"errors ({plan.left_out_errors} errors)"
        )
    return text


def _note(plan: StripPlan, duration: float, max_rows: int) -> str:
    """What the rows show and leave out, and the paper's scale (two lines under the title)."""
    return (
        f"Shown: {shown(plan, duration, max_rows)}.\nPaper: 25 mm/s, 10 mm/mV (large squares "
        "0.2 s × 0.5 mV, small 0.04 s × 0.1 mV); each row starts at the time on its left."
    )


# --- an experiment's test records (rules/strips.smk) -------------------------------------------


def experiment_table(predictions: pd.DataFrame, record: str, lead: str) -> pd.DataFrame:
    """The prediction table (:data:`STRIP_COLUMNS`) of ``record`` from an experiment's
    ``predictions.csv`` (columns ``record``, ``sample``, ``true``, ``predicted``; read with
    :func:`ecg2d.gallery.read_predictions`): each test beat is a classified beat at its R-peak
    ``sample`` (the experiment's rate ``fs``), labelled ``predicted``, matched to its reference
    beat of class ``true``. ValueError naming ``record`` if it has no test beat there."""
    rows = predictions[predictions["record"].astype(str) == str(record)]
    if not len(rows):
        raise ValueError(f"record {record}: no test beat in the predictions table")
    sample = rows["sample"].to_numpy(dtype=np.int64)
    table = pd.DataFrame(
        {
            "record": str(record),
            "lead": lead,
            "sample": sample,
            "detected": 1,
            "label": rows["predicted"].astype(str).to_numpy(),
            "matched": 1,
            "ref_sample": sample,
            "ref_symbol": "",
            "ref_label": rows["true"].astype(str).to_numpy(),
        }
    )
    return table.sort_values("sample", kind="stable").reset_index(drop=True)


def experiment_heading(table: pd.DataFrame, experiment: str, record: str, lead: str) -> str:
    """Title of an experiment's strips (:func:`experiment_table`): its test beats and errors."""
    errors = int((table["label"] != table["ref_label"]).sum())
    return (
        f"Experiment {experiment}, record {record}, lead {lead}: {len(table)} test beats "
        f"classified, {errors} misclassified"
    )


def strip_records(predictions: pd.DataFrame, n: int) -> pd.DataFrame:
    """The test records of an experiment's ``predictions.csv``: ``record``, test ``beats``,
    ``errors`` (predicted != true), most errors first (ties: in the order of the table), and
    ``shown`` = 1 for the first ``n`` of them, the records whose strips are drawn."""
    error = predictions["true"].astype(str) != predictions["predicted"].astype(str)
    counts = (
        pd.DataFrame({"record": predictions["record"].astype(str), "error": error.astype(int)})
        .groupby("record", sort=False)["error"]
        .agg(beats="size", errors="sum")
        .reset_index()
        .sort_values("errors", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    return counts.assign(shown=(counts.index < n).astype(int))


def shown_records(path) -> list[str]:
    """The records a table of :func:`strip_records` (a CSV file) marks ``shown``."""
    table = pd.read_csv(path, dtype={"record": str}, keep_default_na=False)
    return table.loc[table["shown"] == 1, "record"].tolist()
