"""Beat-level K-fold cross-validation of intra-patient experiments (``cv_folds: K``).

Jun et al. 2018 report 10-fold cross-validation over the beats of all records. Target ``cv``
(rules/cv.smk) runs it for every intra-patient experiment with an integer ``cv_folds``:

- Folds (:func:`assign_folds`): the experiment's original beats, all of them (its train and
  test split alike), are dealt into K folds class by class, in a seeded random order, so each
  fold holds ``n/K`` (rounded down or up) of every class's beats. A crop takes its beat's fold.
- Crops (:func:`cv_manifest`): every beat of an ``augment`` class trains in K-1 folds, so every
  such beat needs its crops. The experiment has cropped its training beats
  (``results/{experiment}/crops/``); its test beats get theirs from rule ``cv_crops``
  (``results/{experiment}/cv/crops/``, :func:`uncropped_beats`).
- Fold k (:func:`fold_manifest`): the experiment's manifest with ``split`` rewritten: the other
  folds' beats and their crops train, fold k's original beats test, fold k's crops are left
  out (crops never test). Training carves its validation beats out of the training part as
  for any intra-patient manifest.
- Summary (:func:`cv_summary`): mean and sample standard deviation over the folds of every
  figure of the folds' ``metrics.json``, in its own nesting.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ecg2d.split import check_manifest, crop_table, seeded_rng

#: What the statistics of ``summary.json`` are.
STATISTICS = (
    "mean and sample standard deviation (ddof 1) over the folds of each figure of the folds' "
    "metrics.json, in its nesting; n: the folds where the figure is defined (not null); "
    "values: the figure of each fold. The folds' bootstrap intervals (*_ci95) are left out: "
    "the spread over the folds takes their place."
)


def cv_experiments(config: dict) -> dict[str, int]:
    """``{name: K}`` of the intra-patient experiments with ``cv_folds: K``, in config order."""
    return {
        name: int(experiment["cv_folds"])
        for name, experiment in config["experiments"].items()
        if experiment["protocol"] == "intra_patient" and "cv_folds" in experiment
    }


def fold_files(experiment: str, n_folds: int, name: str) -> list[str]:
    """``results/{experiment}/cv/fold{k}/{name}`` of folds 1 to ``n_folds``."""
    return [f"results/{experiment}/cv/fold{k}/{name}" for k in range(1, n_folds + 1)]


def cv_targets(config: dict) -> list[str]:
    """The summaries of every cross-validated experiment (target ``cv``)."""
    return [
        f"results/{name}/cv/summary.{ext}"
        for name in cv_experiments(config)
        for ext in ("json", "md")
    ]


def uncropped_beats(table: pd.DataFrame, augment) -> pd.DataFrame:
    """The original beats of ``table`` (a split table or manifest) of an ``augment`` class that
    the experiment did not crop: its test beats. In cross-validation they train too."""
    originals = table[table["augmented"].astype(int) == 0]
    return originals[(originals["split"] == "test") & originals["label"].isin(list(augment))]


def cv_manifest(manifest: pd.DataFrame, augment, crop_dirs, n_crops: int) -> pd.DataFrame:
    """The experiment's manifest with the crops of its test beats added (from ``crop_dirs``,
    one folder per record, named by the record), so that every beat of an ``augment`` class
    has its ``n_crops`` crops."""
    folders = {Path(str(folder)).name: folder for folder in crop_dirs}
    source = uncropped_beats(manifest, augment).assign(split="train")
    parts = [manifest]
    for record, rows in source.groupby("record", sort=False):
        if record not in folders:
            raise ValueError(f"record {record}: no cross-validation crop folder among the inputs")
        parts.append(crop_table(rows, augment, folders[record], n_crops))
    return pd.concat(parts, ignore_index=True)[list(manifest.columns)]


def _beat_keys(rows: pd.DataFrame) -> pd.Series:
    return rows["record"].astype(str) + " sample " + rows["sample"].astype(str)


def assign_folds(manifest: pd.DataFrame, n_folds: int, seed: int) -> np.ndarray:
    """The fold (1 to ``n_folds``) of every row of ``manifest``: its beat's fold.

    The original beats are dealt class by class (classes in sorted order), each class in a
    random order seeded by ``seed`` and the class, fold after fold, each class starting at the
    fold after the one where the previous class ended: every fold gets ``n/K`` of each class's
    ``n`` beats (rounded down or up), and the folds' sizes differ by one beat at most. Raises
    ValueError for an original listed twice, or a crop whose beat is not in ``manifest``.
    """
    if int(n_folds) < 2:
        raise ValueError(f"cv_folds: {n_folds} folds; at least 2 are needed")
    augmented = manifest["augmented"].astype(int).to_numpy()
    keys = _beat_keys(manifest)
    originals = manifest[augmented == 0]
    twice = originals.duplicated(["record", "sample"])
    if twice.any():
        raise ValueError(f"record {keys[originals.index[twice][0]]}: listed twice as a beat")
    labels = originals["label"].astype(str).to_numpy()
    fold_of = {}
    start = 0
    for label in sorted(set(labels)):
        members = np.flatnonzero(labels == label)
        order = seeded_rng(seed, "cv", label).permutation(members)
        folds = (start + np.arange(len(order))) % n_folds + 1
        fold_of.update(zip(keys.loc[originals.index[order]], folds.tolist()))
        start = (start + len(order)) % n_folds
    folds = keys.map(fold_of)
    if folds.isna().any():
        raise ValueError(f"record {keys[folds.isna()].iloc[0]}: a crop of a beat not listed")
    return folds.to_numpy(dtype=np.int64)


def fold_manifest(manifest: pd.DataFrame, folds, k: int) -> pd.DataFrame:
    """The manifest of fold ``k``: fold k's original beats test, the other folds' beats and
    their crops train, fold k's crops are left out. Checked for leakage
    (:func:`ecg2d.split.check_manifest`)."""
    folds = np.asarray(folds)
    if not (folds == k).any():
        raise ValueError(f"fold {k} holds no beats (folds {folds.min()} to {folds.max()})")
    crops = manifest["augmented"].astype(int).to_numpy() == 1
    table = manifest.assign(split=np.where(folds == k, "test", "train"))
    table = table[~((folds == k) & crops)].reset_index(drop=True)
    check_manifest(table, "intra_patient")
    return table


def load_metrics(paths) -> list[dict]:
    """The folds' ``metrics.json``; ValueError naming a file that is not a JSON object."""
    out = []
    for path in paths:
        try:
            metrics = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable metrics.json ({exc})") from exc
        if not isinstance(metrics, dict):
            raise ValueError(f"{path}: not a metrics.json (a JSON object)")
        out.append(metrics)
    return out


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _statistics(values: list) -> dict:
    defined = [float(v) for v in values if v is not None and math.isfinite(v)]
    mean = float(np.mean(defined)) if defined else None
    sd = float(np.std(defined, ddof=1)) if len(defined) > 1 else None
    return {"mean": mean, "sd": sd, "n": len(defined), "values": values}


def summarize(values: list):
    """Mean, sd, n and values over the folds of a figure given by its ``values`` (one per fold),
    recursively through dicts (by key) and lists of equal length (by position); ``None`` for
    anything else (texts, flags, lists of unequal length). Keys ending in ``_ci95`` are
    left out."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, dict) for v in present):
        keys = dict.fromkeys(k for v in present for k in v if not str(k).endswith("_ci95"))
        out = {}
        for key in keys:
            value = summarize([v.get(key) if isinstance(v, dict) else None for v in values])
            if value is not None:
                out[key] = value
        return out or None
    if present and all(isinstance(v, list) for v in present):
        if len(present) < len(values) or len({len(v) for v in present}) != 1:
            return None
        items = [summarize([v[i] for v in values]) for i in range(len(present[0]))]
        return None if any(item is None for item in items) else items
    if all(_is_number(v) for v in present):
        return _statistics(values)
    return None


def cv_summary(fold_metrics: list[dict], experiment: str, paths=(), seed: int | None = None):
    """``summary.json`` of an experiment's cross-validation from its folds' metrics (in fold
    order): :data:`STATISTICS` of every figure under ``metrics``."""
    for i, metrics in enumerate(fold_metrics):
        if metrics.get("experiment") not in (None, experiment):
            where = paths[i] if i < len(paths) else f"fold {i + 1}"
            raise ValueError(
                f"{where}: metrics of experiment {metrics['experiment']!r}, not {experiment!r}"
            )
    return {
        "experiment": experiment,
        "protocol": "intra_patient",
        "folds": len(fold_metrics),
        "seed": seed,
        "statistics": STATISTICS,
        "fold_metrics": [str(p) for p in paths],
        "n_test": sum(int(m.get("n_test", 0)) for m in fold_metrics),
        "metrics": summarize(fold_metrics) or {},
    }


def _percent(figure: dict | None, n_folds: int) -> str:
    """``mean ± sd`` of a figure in %, two decimals, with the folds that define it where some
    do not; ``–`` where none does."""
    if not figure or figure.get("mean") is None:
        return "–"
    text = f"{100 * figure['mean']:.2f}"
    if figure.get("sd") is not None:
        text += f" ± {100 * figure['sd']:.2f}"
    return text if figure["n"] == n_folds else f"{text} ({figure['n']} of {n_folds} folds)"


def summary_markdown(summary: dict) -> str:
    """A short Markdown table of ``summary.json``: accuracy, macro and per-class figures."""
    metrics, n = summary["metrics"], summary["folds"]
    macro = metrics.get("macro", {})
    lines = [
        f"# {summary['experiment']}: {summary['folds']}-fold cross-validation",
        "",
        f"Mean ± sd (%) over {summary['folds']} folds stratified by class at beat level "
        f"(seed {summary['seed']}); every beat is tested once ({summary['n_test']} beats).",
        "",
        "| figure | mean ± sd (%) |",
        "|---|---|",
        f"| accuracy | {_percent(metrics.get('accuracy'), n)} |",
    ]
    lines += [
        f"| macro {key} | {_percent(macro.get(key), n)} |" for key in ("sensitivity", "ppv", "f1")
    ]
    lines += ["", "| class | Se | +P | F1 | test beats per fold |", "|---|---|---|---|---|"]
    for label, row in metrics.get("per_class", {}).items():
        support = row.get("support", {})
        beats = "–" if support.get("mean") is None else f"{support['mean']:.1f}"
        cells = [_percent(row.get(key), n) for key in ("sensitivity", "ppv", "f1")]
        lines.append(f"| {label} | {' | '.join(cells)} | {beats} |")
    return "\n".join(lines) + "\n"
