"""Classify the beats of new WFDB recordings with a trained model, and score them if annotated.

A *dataset* (config ``predict.datasets.{name}``) is a folder of WFDB records at any sampling
rate. Each record is read (one lead), resampled to the workflow's ``fs`` (the rate the model was
trained at), cut into beats -- around detected R peaks (``segmentation: detector``, see
:mod:`ecg2d.detect`) or around the reference beat annotations (``segmentation: annotations``)
-- with the workflow's ``window``; each beat is rendered with :func:`ecg2d.render.render_beat`
at ``image_size`` and classified, with its RR context, by :class:`ecg2d.model.Classifier`.

Per record the result is a table (:func:`prediction_table`, one row per beat: ``sample`` in the
record's own sampling rate, predicted ``label`` and WFDB ``symbol``, one ``p_{label}`` column
per class, and the matched reference ``ref_sample`` / ``ref_symbol`` / ``ref_label``) and a
WFDB annotation file written with ``wfdb.wrann`` (:func:`write_annotations`). Predicted labels
become WFDB beat codes through the dataset's ``symbols`` map; a label without one must itself be
a WFDB beat code (AAMI N S V F Q and Jun's N L R A V / E ! are).

With reference annotations, :func:`score_tables` scores the predicted labels against the
reference symbols mapped to classes by the experiment's ``classes``; beats whose reference is
unmatched or outside those classes are counted but not scored.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ecg2d.detect import DETECTORS, MATCH_WINDOW_S, REFINE_RADIUS_S, detect_peaks, detected_beats
from ecg2d.io import Record, RecordError, atomic_path, choose_channel, resample
from ecg2d.segment import BEAT_SYMBOLS, beat_mask, segment_record

SEGMENTATIONS = ("detector", "annotations")

#: Settings of a dataset that the config leaves out.
DATASET_DEFAULTS = {
    "path": "",
    "records": "all",
    "lead": "MLII",
    "fallback_channel": 0,
    "segmentation": "detector",
    "detector": "xqrs",
    "annotator": "atr",
    "extension": "cnn",
    "model": "",
    "symbols": {},
}

#: Extensions the annotation files may not have (the tables and the metrics use them).
RESERVED_EXTENSIONS = ("csv", "json", "log", "tsv")

#: Beats rendered and classified at a time (bounds memory on long records).
CHUNK = 1024

RR_COLUMNS = ["pre_rr", "post_rr", "local_rr", "record_rr", "rr_irregularity"]


class PredictConfigError(ValueError):
    """A ``predict:`` setting is inconsistent; the message names the key."""


# --- configuration ----------------------------------------------------------------------------


def dataset_settings(config: dict, name: str) -> dict:
    """Settings of dataset ``name`` with defaults filled in and checked.

    ``path: ""`` means the workflow's own records (``data_dir``, or the download folder);
    ``model: ""`` means ``results/{experiment}/model.h5``.
    """
    datasets = (config.get("predict") or {}).get("datasets") or {}
    if name not in datasets:
        raise PredictConfigError(f"predict.datasets: no dataset {name!r}")
    settings = copy.deepcopy(DATASET_DEFAULTS)
    settings.update(copy.deepcopy(datasets[name]))
    key = f"predict.datasets.{name}"
    if settings.get("experiment") not in config.get("experiments", {}):
        raise PredictConfigError(
            f"{key}.experiment: unknown experiment {settings.get('experiment')!r} "
            f"(experiments: {sorted(config.get('experiments', {}))})"
        )
    if settings["segmentation"] not in SEGMENTATIONS:
        raise PredictConfigError(f"{key}.segmentation: choose one of {SEGMENTATIONS}")
    if settings["detector"] not in DETECTORS:
        raise PredictConfigError(f"{key}.detector: choose one of {DETECTORS}")
    if settings["segmentation"] == "annotations" and not settings["annotator"]:
        raise PredictConfigError(f"{key}.annotator: segmentation annotations needs annotations")
    if (
        settings["extension"] in RESERVED_EXTENSIONS
        or settings["extension"] == settings["annotator"]
    ):
        raise PredictConfigError(
            f"{key}.extension: {settings['extension']!r} is taken (the reference annotator, "
            f"or one of {RESERVED_EXTENSIONS})"
        )
    for label, symbol in settings["symbols"].items():
        if symbol not in BEAT_SYMBOLS:
            raise PredictConfigError(f"{key}.symbols.{label}: {symbol!r} is not a WFDB beat code")
    return settings


def dataset_records(settings: dict, data_dir: str) -> list[str]:
    """Records of a dataset: its ``records``, or all records with a header in its folder."""
    from ecg2d.config import available_records

    if settings["records"] != "all":
        return [str(r) for r in settings["records"]]
    return available_records(dataset_path(settings, data_dir))


def dataset_path(settings: dict, data_dir: str) -> str:
    """Folder of a dataset's records (``path: ""``: the workflow's ``data_dir``)."""
    return settings["path"] or data_dir


def model_path(settings: dict) -> str:
    """The model file a dataset is classified with."""
    return settings["model"] or f"results/{settings['experiment']}/model.h5"


# --- reading ----------------------------------------------------------------------------------


def read_new_record(
    data_dir, record: str, lead: str = "MLII", fallback_channel: int | None = 0, annotator=None
) -> Record:
    """One lead of a WFDB record at its own sampling rate, with annotations if ``annotator``.

    Unlike :func:`ecg2d.io.read_record`, the annotation file is optional (``annotator=None``)
    and may have any extension. Errors are :class:`ecg2d.io.RecordError` naming the record.
    """
    import wfdb

    base = str(Path(data_dir) / record)
    if not Path(f"{base}.hea").is_file():
        raise RecordError(f"record {record}: missing file {base}.hea")
    try:
        header = wfdb.rdheader(base)
    except Exception as exc:
        raise RecordError(f"record {record}: unreadable header {base}.hea: {exc}") from exc
    if not header.fs or header.fs <= 0 or not header.sig_len:
        raise RecordError(f"record {record}: header {base}.hea has no sampling rate or length")
    channel = choose_channel(header, record, lead, fallback_channel)
    try:
        rec = wfdb.rdrecord(base, channels=[channel])
    except Exception as exc:
        raise RecordError(f"record {record}: cannot read the signal: {exc}") from exc
    samples, symbols = np.zeros(0, dtype=np.int64), np.zeros(0, dtype="U1")
    if annotator:
        if not Path(f"{base}.{annotator}").is_file():
            raise RecordError(f"record {record}: missing annotation file {base}.{annotator}")
        try:
            ann = wfdb.rdann(base, annotator)
        except Exception as exc:
            raise RecordError(f"record {record}: cannot read {base}.{annotator}: {exc}") from exc
        samples = np.asarray(ann.sample, dtype=np.int64)
        symbols = np.asarray(ann.symbol, dtype=str)
    signal = np.nan_to_num(rec.p_signal[:, 0]).astype(np.float32)
    return Record(record, signal, float(rec.fs), rec.sig_name[0], samples, symbols)


def at_rate(record: Record, fs: float) -> Record:
    """``record`` resampled to ``fs`` (annotations moved with it); itself if already at ``fs``."""
    if abs(record.fs - fs) <= 1e-6:
        return record
    signal, samples = resample(record.signal, record.ann_sample, record.fs, fs)
    return Record(record.name, signal, float(fs), record.lead, samples, record.ann_symbol)


def to_original(samples: np.ndarray, fs: float, original: Record) -> np.ndarray:
    """Samples at ``fs`` as samples of the ``original`` record (nearest, within the signal)."""
    moved = np.round(np.asarray(samples, dtype=np.float64) * original.fs / fs).astype(np.int64)
    return np.clip(moved, 0, len(original.signal) - 1)


def original_ann_samples(resampled: Record, original: Record, samples: np.ndarray) -> np.ndarray:
    """The original sample of each (resampled) annotation sample in ``samples`` (-1 stays -1).

    ``samples`` are beat annotations; resampling keeps annotations in order, so a beat
    annotation is found by its position among the beat annotations.
    """
    samples = np.asarray(samples, dtype=np.int64)
    out = np.full(len(samples), -1, dtype=np.int64)
    known = samples >= 0
    if resampled is original or not known.any():
        out[known] = samples[known]
        return out
    is_beat = beat_mask(original.ann_symbol)
    index = np.searchsorted(resampled.ann_sample[is_beat], samples[known], side="left")
    out[known] = original.ann_sample[is_beat][index]
    return out


# --- segmentation and classification ----------------------------------------------------------


def segment_for_prediction(
    record: Record, settings: dict, window: dict, detection: dict | None = None
) -> dict[str, np.ndarray]:
    """Beats of ``record`` by the dataset's segmentation, with ``matched`` and ``ref_sample``.

    ``detection`` (the config's ``detection:``) gives ``refine_ms`` and ``match_ms``.
    """
    mode, fixed_ms = window["mode"], tuple(window["fixed_ms"])
    if settings["segmentation"] == "annotations":
        beats = segment_record(record, mode, fixed_ms)
        beats["matched"] = np.ones(len(beats["sample"]), dtype=bool)
        beats["ref_sample"] = beats["sample"].copy()
        return beats
    detection = detection or {}
    refine_s = detection.get("refine_ms", REFINE_RADIUS_S * 1000) / 1000.0
    match_s = detection.get("match_ms", MATCH_WINDOW_S * 1000) / 1000.0
    peaks = detect_peaks(record.signal, record.fs, settings["detector"], refine_s)
    return detected_beats(record, peaks, settings["detector"], mode, fixed_ms, match_s)


def render_images(beats: dict[str, np.ndarray], size: int, index: np.ndarray) -> np.ndarray:
    """uint8 images (len(index) x size x size) of the beats at ``index``."""
    from ecg2d.render import render_beat

    signal = beats["signal"]
    images = np.empty((len(index), size, size), dtype=np.uint8)
    for k, i in enumerate(index):
        images[k] = render_beat(signal[beats["start"][i] : beats["end"][i]], size)
    return images


def rr_context(beats: dict[str, np.ndarray], columns=RR_COLUMNS) -> np.ndarray:
    """N x len(columns) float RR context of the beats: by default pre, post, local and record
    RR in seconds and the RR irregularity (a classifier's ``rr_columns`` are a prefix)."""
    return np.stack([beats[c] for c in columns], axis=1).astype(np.float32)


def classify_beats(beats: dict[str, np.ndarray], classifier, image_size: int, log=None):
    """Class probabilities (N x len(classifier.classes)) of every beat, in chunks."""
    n = len(beats["sample"])
    rr = rr_context(beats, getattr(classifier, "rr_columns", RR_COLUMNS[:4]))
    out = [np.zeros((0, len(classifier.classes)), dtype=np.float32)]
    for start in range(0, n, CHUNK):
        index = np.arange(start, min(start + CHUNK, n))
        images = render_images(beats, image_size, index)
        out.append(np.asarray(classifier.predict_proba(images, rr[index]), dtype=np.float32))
        if log is not None:
            log.info("record %s: classified %d/%d beats", beats["record"], index[-1] + 1, n)
    return np.concatenate(out)


def label_symbols(labels, symbols: dict[str, str]) -> np.ndarray:
    """WFDB beat codes of predicted labels: ``symbols[label]``, or the label if a beat code."""
    out = []
    for label in labels:
        symbol = symbols.get(label, label)
        if symbol not in BEAT_SYMBOLS:
            raise PredictConfigError(
                f"symbols: class {label!r} is not a WFDB beat code; map it in the dataset's "
                f"symbols (e.g. {{{label}: Q}})"
            )
        out.append(symbol)
    return np.asarray(out, dtype="U1")


def prediction_table(
    beats: dict[str, np.ndarray],
    proba: np.ndarray,
    classes: list[str],
    original: Record,
    resampled: Record,
    class_map: dict[str, str],
    symbols: dict[str, str],
) -> pd.DataFrame:
    """One row per beat: where it is (original rate), what was predicted, what the reference is.

    ``class_map`` maps reference symbols to the model's classes (the experiment's ``classes``);
    ``ref_label`` is ``""`` where the beat is unmatched or its symbol is not a class.
    """
    labels = np.asarray(classes, dtype=object)[proba.argmax(axis=1)].astype(str)
    ref_symbol = np.where(beats["matched"], beats["symbol"], "")
    table = pd.DataFrame(
        {
            "record": str(beats["record"]),
            "sample": to_original(beats["sample"], float(beats["fs"]), original),
            "label": labels,
            "symbol": label_symbols(labels, symbols),
        }
    )
    for k, name in enumerate(classes):
        table[f"p_{name}"] = np.round(proba[:, k].astype(np.float64), 5)
    table["matched"] = beats["matched"].astype(int)
    table["ref_sample"] = original_ann_samples(resampled, original, beats["ref_sample"])
    table["ref_symbol"] = ref_symbol
    table["ref_label"] = [class_map.get(s, "") for s in ref_symbol]
    return table


def predict_record(
    data_dir,
    record: str,
    settings: dict,
    classifier,
    fs: float,
    window: dict,
    image_size: int,
    class_map: dict[str, str],
    log=None,
    detection: dict | None = None,
) -> tuple[pd.DataFrame, Record]:
    """Prediction table of one record of a dataset, and the record as read (original rate)."""
    original = read_new_record(
        data_dir, record, settings["lead"], settings["fallback_channel"], settings["annotator"]
    )
    resampled = at_rate(original, fs)
    beats = segment_for_prediction(resampled, settings, window, detection)
    if log is not None:
        log.info(
            "record %s: %g Hz -> %g Hz, %d beats (%s segmentation, %d unmatched)",
            record,
            original.fs,
            fs,
            len(beats["sample"]),
            settings["segmentation"],
            int((~beats["matched"]).sum()),
        )
    proba = classify_beats(beats, classifier, image_size, log)
    table = prediction_table(
        beats, proba, classifier.classes, original, resampled, class_map, settings["symbols"]
    )
    return table, original


# --- outputs ----------------------------------------------------------------------------------


def write_table(table: pd.DataFrame, path) -> None:
    """Write a prediction table as CSV atomically."""
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")


def table_classes(table: pd.DataFrame) -> list[str]:
    """The model's classes, in order, from a prediction table's ``p_{label}`` columns."""
    return [c[2:] for c in table.columns if c.startswith("p_")]


def read_table(path) -> pd.DataFrame:
    """Read a prediction table (record names and symbols stay strings)."""
    return pd.read_csv(
        path,
        dtype={"record": str, "label": str, "symbol": str, "ref_symbol": str, "ref_label": str},
        keep_default_na=False,
    )


def write_annotations(table: pd.DataFrame, record: str, fs: float, path) -> None:
    """Write the predicted beats as a WFDB annotation file ``path`` (``{record}.{ext}``).

    ``wfdb.wrann`` writes ``{record}.{ext}`` into a folder; it writes into a temporary folder
    beside ``path`` and the file is renamed onto ``path``.
    """
    import tempfile

    import wfdb

    path = Path(path)
    name, dot, extension = path.name.partition(".")
    if name != record or not dot or not extension.isalnum():
        raise ValueError(f"{path}: an annotation file is named {record}.<letters/digits>")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{path.name}.", dir=path.parent) as tmp:
        samples = table["sample"].to_numpy(dtype=np.int64)
        symbols = table["symbol"].astype(str).tolist()
        if len(samples):
            wfdb.wrann(record, extension, samples, symbol=symbols, fs=fs, write_dir=tmp)
        else:  # wfdb.wrann refuses an empty list: write an empty annotation file by hand
            Path(tmp, path.name).write_bytes(b"\x00\x00")
        os.replace(Path(tmp) / path.name, path)


# --- scoring ----------------------------------------------------------------------------------


def score_tables(tables: list[pd.DataFrame], classes: list[str], dataset: dict) -> dict:
    """Cross-database scores of a dataset's prediction tables against their reference labels.

    Beats with a reference label among ``classes`` are scored exactly as an experiment's test
    split (:func:`ecg2d.evaluate.metrics_report`, the content of ``metrics.json``); the rest are
    counted: ``unmatched`` (no reference beat within 150 ms of the detection) and
    ``unlabelled`` (a reference symbol outside the experiment's classes). ``dataset`` is the
    dataset's settings (recorded in the report).
    """
    from ecg2d.evaluate import metrics_report

    classes = list(classes)
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=["record"])
    matched = table.get("matched", pd.Series(dtype=int)).astype(bool)
    ref_label = table.get("ref_label", pd.Series(dtype=str)).astype(str)
    scored = table[ref_label.isin(classes)]
    predictions = pd.DataFrame({"true": scored["ref_label"], "predicted": scored["label"]})
    report = metrics_report(
        predictions, classes, dataset["experiment"], f"predict:{dataset['segmentation']}"
    )
    report["predict"] = {
        "segmentation": dataset["segmentation"],
        "detector": dataset["detector"] if dataset["segmentation"] == "detector" else None,
        "records": sorted(table["record"].astype(str).unique().tolist()),
        "n_beats": int(len(table)),
        "n_scored": int(len(scored)),
        "unmatched": int((~matched).sum()),
        "unlabelled": int((matched & ~ref_label.isin(classes)).sum()),
    }
    return report
