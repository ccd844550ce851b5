"""Labels, train/test splits and manifests of an experiment.

Splits are made per record, so every record's split is its own Snakemake job and a changed
record never reshuffles another's:

- ``intra_patient`` (Jun et al. 2018): within each record and class, a seeded random
  ``test_fraction`` of the beats goes to ``test`` (the expected count is exact: the fractional
  part is rounded at random). Over all records this is a beat-level split stratified by class.
- ``inter_patient`` (de Chazal et al. 2004): a record's beats all go to ``train`` if the record is
  in ``train_records`` and to ``test`` if it is in ``test_records``.

A beat's crops inherit its split and are only ever made for ``train`` beats, so no beat or crop
of it can sit on both sides. :func:`check_manifest` verifies this on the finished manifest (the
manifest job runs it before writing), so a leaky manifest is never written.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ecg2d import regime, rr
from ecg2d.shape import SHAPE2_COLUMNS, SHAPE_COLUMNS

PROTOCOLS = ("intra_patient", "inter_patient")
#: Each beat's numbers that manifests carry from its beats file: RR context, rhythm,
#: prematurity, QRS shape in both leads, how unusual the beat and its atrial activity are for
#: its record, and where premature beats set the cycle (:mod:`ecg2d.regime`;
#: :func:`beat_columns`).
VALUE_COLUMNS = (
    *rr.RR_CONTEXT,
    *rr.RHYTHM_COLUMNS,
    *rr.PREMATURITY_COLUMNS,
    *SHAPE_COLUMNS,
    *SHAPE2_COLUMNS,
    *rr.UNUSUAL_COLUMNS,
    *rr.GATED_COLUMNS,
    *rr.PWAVE_COLUMNS,
    *rr.PSINUS_COLUMNS,
    *regime.LONG_COLUMNS,
    *regime.PLONG_COLUMNS,
    *regime.REGIME_COLUMNS,
)
#: Decimals the manifest keeps of :data:`VALUE_COLUMNS` (:func:`beat_columns`).
DECIMALS = 5
MANIFEST_COLUMNS = [
    "record",
    "sample",
    "symbol",
    "label",
    "split",
    "path",
    "augmented",
    *VALUE_COLUMNS,
]


#: The experiment keys a split depends on (training settings are not among them, so changing
#: those never re-runs splits, crops or manifests).
SPLIT_KEYS = ("protocol", "classes", "test_fraction", "train_records", "test_records")


def split_settings(experiment: dict) -> dict:
    """The part of an experiment's configuration that decides its labels and split."""
    return {key: experiment[key] for key in SPLIT_KEYS if key in experiment}


def label_beats(symbols: np.ndarray, classes: dict[str, str]) -> np.ndarray:
    """Map beat symbols to class labels; symbols outside ``classes`` get ``""``."""
    return np.array([classes.get(str(s), "") for s in symbols], dtype=object).astype(str)


def seeded_rng(seed: int, *keys: str) -> np.random.Generator:
    """A generator seeded by ``seed`` and string ``keys``: the same draw for the same keys."""
    return np.random.default_rng([int(seed), *(zlib.crc32(k.encode()) for k in keys)])


def assign_split(
    labels: np.ndarray,
    record: str,
    protocol: str,
    seed: int = 42,
    test_fraction: float = 0.25,
    train_records=(),
    test_records=(),
) -> np.ndarray:
    """``"train"`` or ``"test"`` for each beat of ``record`` (``""`` for unlabelled beats)."""
    labels = np.asarray(labels, dtype=str)
    split = np.full(labels.shape, "", dtype="<U5")
    labelled = labels != ""
    if protocol == "inter_patient":
        if record in set(map(str, train_records)):
            split[labelled] = "train"
        elif record in set(map(str, test_records)):
            split[labelled] = "test"
        else:
            raise ValueError(f"record {record} is in neither train_records nor test_records")
        return split
    if protocol != "intra_patient":
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {PROTOCOLS}")
    for label in sorted(set(labels[labelled])):
        index = np.flatnonzero(labels == label)
        rng = seeded_rng(seed, record, label)
        order = rng.permutation(index)
        n_test = int(np.floor(len(index) * test_fraction + rng.random()))
        split[index] = "train"
        split[order[:n_test]] = "test"
    return split


def split_table(beats: dict[str, np.ndarray], experiment: dict, seed: int, png_dir) -> pd.DataFrame:
    """Manifest rows (originals only) of one record's labelled beats for one experiment."""
    from ecg2d.render import png_name

    record = str(beats["record"])
    labels = label_beats(beats["symbol"], experiment["classes"])
    split = assign_split(
        labels,
        record,
        experiment["protocol"],
        seed,
        experiment.get("test_fraction", 0.25),
        experiment.get("train_records", ()),
        experiment.get("test_records", ()),
    )
    keep = labels != ""
    samples = beats["sample"][keep]
    table = pd.DataFrame(
        {
            "record": record,
            "sample": samples.astype(np.int64),
            "symbol": beats["symbol"][keep],
            "label": labels[keep],
            "split": split[keep],
            "path": [str(Path(png_dir) / png_name(record, s)) for s in samples],
            "augmented": 0,
        }
    )
    values = beat_columns(beats, VALUE_COLUMNS)[keep]
    for k, column in enumerate(VALUE_COLUMNS):
        table[column] = values[:, k]
    return table[MANIFEST_COLUMNS]


def beat_columns(beats: dict[str, np.ndarray], columns) -> np.ndarray:
    """N x len(``columns``) float64 values of a beats dict's per-beat ``columns``, rounded to
    :data:`DECIMALS` as the manifest holds them: models are trained on manifest values, and
    ``predict`` hands them the same numbers (a tree's threshold can fall between a value and
    its rounding)."""
    return np.round(np.stack([beats[c] for c in columns], axis=1).astype(np.float64), DECIMALS)


def beats_to_augment(table: pd.DataFrame, augment: list[str]) -> pd.DataFrame:
    """The training beats whose label is in ``augment``: the only beats that get crops."""
    return table[(table["split"] == "train") & table["label"].isin(list(augment))]


def crop_table(table: pd.DataFrame, augment: list[str], crop_dir, n_crops: int) -> pd.DataFrame:
    """Manifest rows of the crops of ``table``'s augmented training beats."""
    from ecg2d.augment import crop_name

    source = beats_to_augment(table, augment)
    rows = source.loc[source.index.repeat(n_crops)].copy()
    index = np.tile(np.arange(n_crops), len(source))
    rows["path"] = [
        str(Path(crop_dir) / crop_name(r, s, k))
        for r, s, k in zip(rows["record"], rows["sample"], index)
    ]
    rows["augmented"] = 1
    return rows[MANIFEST_COLUMNS]


def build_manifest(split_csvs, crop_dirs, augment: list[str], n_crops: int) -> pd.DataFrame:
    """Concatenate per-record split tables and their crop rows, in the order given."""
    parts = []
    for split_csv, crop_dir in zip(split_csvs, crop_dirs):
        table = read_table(split_csv)
        parts.append(table)
        parts.append(crop_table(table, augment, crop_dir, n_crops))
    if not parts:
        return pd.DataFrame(columns=MANIFEST_COLUMNS)
    return pd.concat(parts, ignore_index=True)[MANIFEST_COLUMNS]


def untrained_classes(manifest: pd.DataFrame, classes: dict[str, str]) -> dict[str, int]:
    """Labels of ``classes`` with no training beat in ``manifest``, with their test-beat counts.

    Such a split is allowed -- small record subsets lack rare classes -- but a model trained on
    it cannot predict those labels, so the manifest job warns about them (see README, "When
    things go wrong").
    """
    originals = manifest[manifest["augmented"].astype(int) == 0]
    trained = set(originals.loc[originals["split"] == "train", "label"])
    tested = originals.loc[originals["split"] == "test", "label"].value_counts()
    labels = sorted(set(map(str, classes.values())))
    return {label: int(tested.get(label, 0)) for label in labels if label not in trained}


class LeakageError(ValueError):
    """A manifest puts a beat, one of its crops or a record where it must not be."""


def _beat_name(row) -> str:
    return f"record {row['record']} sample {int(row['sample'])}"


def _first_offender(manifest: pd.DataFrame, rows: pd.Series, what: str) -> None:
    """Raise :class:`LeakageError` naming the first row of ``rows`` (a boolean mask), if any."""
    if rows.any():
        first = manifest[rows].iloc[0]
        raise LeakageError(
            f"{_beat_name(first)} ({first['path']}): {what} ({int(rows.sum())} rows in all)"
        )


def _check_beats(manifest: pd.DataFrame) -> None:
    """Every beat and its crops in one split; crops only in train; each original listed once."""
    _first_offender(manifest, ~manifest["split"].isin(["train", "test"]), "split is not train/test")
    augmented = manifest["augmented"].astype(int)
    _first_offender(manifest, (augmented == 1) & (manifest["split"] == "test"), "a crop in test")
    beat = ["record", "sample"]
    spread = manifest.groupby(beat)["split"].transform("nunique") > 1
    _first_offender(manifest, spread, "the beat or its crops are in both train and test")
    originals = manifest[augmented == 0]
    twice = originals.duplicated(beat).reindex(manifest.index, fill_value=False)
    _first_offender(manifest, twice, "the beat is listed twice as an original")


def _check_records(manifest: pd.DataFrame, train_records, test_records) -> None:
    """inter_patient: train rows only from ``train_records``, test rows only from
    ``test_records``, and no record on both sides."""
    train, test = set(map(str, train_records)), set(map(str, test_records))
    both = sorted(train & test)
    if both:
        raise LeakageError(f"records {both} are in both train_records and test_records")
    record = manifest["record"].astype(str)
    split = manifest["split"]
    for side, allowed in (("train", train), ("test", test)):
        _first_offender(
            manifest,
            (split == side) & ~record.isin(allowed),
            f"a {side} row from a record not in {side}_records",
        )


def check_manifest(
    manifest: pd.DataFrame, protocol: str, train_records=(), test_records=()
) -> None:
    """Raise :class:`LeakageError` (naming record, sample and path) if ``manifest`` leaks.

    A leak is a beat (``record``, ``sample``) whose original or any crop sits in more than one
    split, a crop (``augmented == 1``) in ``test``, a split other than train/test, or an
    original listed twice; for ``inter_patient``, also a training row from a record outside
    ``train_records`` (a DS2 record, say), a test row from a record outside ``test_records``,
    or a record in both lists.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {PROTOCOLS}")
    missing = sorted({"record", "sample", "split", "augmented", "path"} - set(manifest.columns))
    if missing:
        raise ValueError(f"manifest has no column {', '.join(missing)}")
    _check_beats(manifest)
    if protocol == "inter_patient":
        _check_records(manifest, train_records, test_records)


def check_experiment_manifest(manifest: pd.DataFrame, experiment: dict) -> None:
    """:func:`check_manifest` under an experiment's (or its :func:`split_settings`') protocol
    and record lists."""
    check_manifest(
        manifest,
        experiment["protocol"],
        experiment.get("train_records", ()),
        experiment.get("test_records", ()),
    )


def read_table(path) -> pd.DataFrame:
    """Read a split table or manifest with stable dtypes (record names stay strings)."""
    return pd.read_csv(
        path,
        dtype={"record": str, "symbol": str, "label": str, "split": str, "path": str},
        keep_default_na=False,
    )
