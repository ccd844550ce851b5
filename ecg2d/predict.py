"""Classify the beats of new WFDB recordings with a trained model, and score them if annotated.

A *dataset* (config ``predict.datasets.{name}``) is a folder of WFDB records at any sampling
rate. Each record is read (one lead: the dataset's ``lead``, else its ``fallback_channel``),
resampled to the rate the model was trained at, cut into beats -- around detected R peaks
(``segmentation: detector``, see :mod:`ecg2d.detect`) or around the reference beat annotations
(``segmentation: annotations``) -- with the model's window; each beat is rendered with
:func:`ecg2d.render.render_beat` at the model's image size and classified, with its RR context,
by :class:`ecg2d.model.Classifier`. The sampling rate, window and image size come from the
``data`` block of the model's ``model.json`` (:func:`model_settings`); the config's values are
used only for models that do not record them.

Per record the result is a table (:func:`prediction_table`, one row per beat, in time order):
``record``, ``lead`` (the signal name read), ``sample`` in the record's own sampling rate,
``detected``, predicted ``label`` and WFDB ``symbol``, one ``p_{label}`` column per class,
``matched``, and the reference beat ``ref_sample`` / ``ref_symbol`` / ``ref_label``. Rows with
``detected = 1`` are the classified beats; rows with ``detected = 0`` are reference beats that
no classified beat matched (*missed*: not found by the detector, or at a record end where no
window can be cut), with ``sample = -1``, an empty ``label`` and ``symbol`` and no
probabilities. ``ref_sample = -1`` marks a classified beat that matches no reference beat. The
WFDB annotation file written with ``wfdb.wrann`` (:func:`write_annotations`) holds the classified
beats only. Predicted labels become WFDB beat codes through the dataset's ``symbols`` map; a
label without one must itself be a WFDB beat code (AAMI N S V F Q and Jun's N L R A V / E ! are).

With reference annotations, :func:`score_tables` scores the predicted labels against the
reference symbols mapped to classes by the experiment's ``classes``: a missed reference beat is
a miss of its class (sensitivity is over all reference beats, as in ANSI/AAMI EC57), and
classified beats with no reference beat are counted as unmatched detections.
"""

from __future__ import annotations

import copy
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ecg2d.detect import DETECTORS, MATCH_WINDOW_S, REFINE_RADIUS_S, detect_peaks, detected_beats
from ecg2d.io import (
    BEAT_SYMBOLS,
    Record,
    RecordError,
    at_rate,
    beat_mask,
    choose_channel,
    read_channels,
)
from ecg2d.segment import segment_record, window_band, window_leads

LOG = logging.getLogger("ecg2d.predict")

SEGMENTATIONS = ("detector", "annotations")

#: Settings of a dataset that the config leaves out.
#: Keys of a dataset's settings; their defaults are in config/schema.yaml, filled in when the
#: configuration is validated (:func:`ecg2d.config.validate_config`).
DATASET_KEYS = (
    "path",
    "records",
    "lead",
    "fallback_channel",
    "lead2",
    "experiment",
    "model",
    "segmentation",
    "detector",
    "annotator",
    "extension",
    "symbols",
)

#: Extensions the annotation files may not have (the tables and the metrics use them).
RESERVED_EXTENSIONS = ("csv", "json", "log", "tsv")

#: Beats rendered and classified at a time (bounds memory on long records).
CHUNK = 1024

#: Settings a model depends on that :func:`model_settings` takes from its ``model.json``.
MODEL_SETTINGS = ("fs", "window", "image_size")


class PredictConfigError(ValueError):
    """A ``predict:`` setting is inconsistent; the message names the key."""


# --- configuration ----------------------------------------------------------------------------


def dataset_settings(config: dict, name: str) -> dict:
    """Settings of dataset ``name`` of a validated configuration (defaults filled in), checked.

    ``path: ""`` means the workflow's own records (``data_dir``, or the download folder);
    ``model: ""`` means ``results/{experiment}/model.h5``. ``name`` is added (error messages
    name the dataset).
    """
    datasets = (config.get("predict") or {}).get("datasets") or {}
    if name not in datasets:
        raise PredictConfigError(f"predict.datasets: no dataset {name!r}")
    settings = copy.deepcopy(datasets[name])
    key = f"predict.datasets.{name}"
    missing = [k for k in DATASET_KEYS if k not in settings]
    if missing:
        raise PredictConfigError(
            f"{key}: no {', '.join(missing)}: validate the configuration first "
            "(ecg2d.config.validate_config fills in the schema's defaults)"
        )
    settings["name"] = name
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
    """Records of a dataset: its ``records``, or all records with a header in its folder.

    A dataset without records is a :class:`PredictConfigError` naming it and its folder.
    """
    from ecg2d.config import available_records

    if settings["records"] != "all":
        records = [str(r) for r in settings["records"]]
    else:
        records = available_records(dataset_path(settings, data_dir))
    if not records:
        folder = Path(dataset_path(settings, data_dir) or ".").resolve()
        raise PredictConfigError(
            f"predict.datasets.{settings.get('name', '?')}: no records in {folder} "
            f"({'no .hea file' if folder.is_dir() else 'no such folder'})"
        )
    return records


def dataset_path(settings: dict, data_dir: str) -> str:
    """Folder of a dataset's records (``path: ""``: the workflow's ``data_dir``)."""
    return settings["path"] or data_dir


def model_path(settings: dict) -> str:
    """The model file a dataset is classified with."""
    return settings["model"] or f"results/{settings['experiment']}/model.h5"


def _same(key: str, a, b) -> bool:
    """Whether two values of setting ``key`` are the same (``fixed_ms`` only for mode fixed)."""
    if key == "window":
        from ecg2d.config import window_name

        return window_name(a) == window_name(b)
    return float(a) == float(b)


def _show(value) -> str:
    """A setting's value for a log line (numbers without a trailing ``.0``)."""
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def model_settings(info: dict, config: dict, model: str = "the model", log=None) -> dict:
    """``fs``, ``window`` and ``image_size`` to classify with: the model's, from ``info``.

    ``info`` is the model's ``model.json`` (:attr:`ecg2d.model.Classifier.info`); its ``data``
    block (:func:`ecg2d.train.data_settings`) records the settings the model was trained with.
    Where one differs from the config's the model's is used, and a warning names the setting
    and both values; where the model does not record it (older ``model.json`` files) the
    config's is used, with a warning saying so.
    """
    log = log or LOG
    data = info.get("data") or {}
    if not data:
        log.warning(
            "%s does not record its settings (model.json has no 'data' block): using the "
            "config's %s; predictions are wrong if the model was trained otherwise",
            model,
            ", ".join(f"{key} {_show(config[key])}" for key in MODEL_SETTINGS),
        )
    out = {}
    for key in MODEL_SETTINGS:
        if key not in data:
            if data:
                log.warning("%s does not record %s: using the config's", model, key)
            out[key] = copy.deepcopy(config[key])
            continue
        out[key] = copy.deepcopy(data[key])
        if not _same(key, data[key], config[key]):
            log.warning(
                "%s: %s differs (model %s, config %s): using the model's", model, key,
                _show(data[key]), _show(config[key]),
            )  # fmt: skip
    out["fs"], out["image_size"] = float(out["fs"]), int(out["image_size"])
    return out


# --- reading ----------------------------------------------------------------------------------


def read_new_record(
    data_dir,
    record: str,
    lead="MLII",
    fallback_channel: int | None = 0,
    annotator=None,
    lead2=(),
) -> Record:
    """One lead of a WFDB record at its own sampling rate, with annotations if ``annotator``.

    Unlike :func:`ecg2d.io.read_record`, the annotation file is optional (``annotator=None``)
    and may have any extension; the second lead is the first of ``lead2`` the record has, else
    its first other channel (:func:`ecg2d.io.other_channel`). A missing ``lead`` falls back to
    ``fallback_channel`` (with a warning, :func:`ecg2d.io.choose_channel`); NaN samples become
    0 (with a warning, :func:`ecg2d.io.fill_nan`). Errors are :class:`ecg2d.io.RecordError`
    naming the record.
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
    signal, fs, lead_read, signal2, name2 = read_channels(base, record, header, channel, lead2)
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
    return Record(record, signal, fs, lead_read, samples, symbols, signal2, name2)


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
    band, leads = window_band(window), window_leads(window)
    if settings["segmentation"] == "annotations":
        beats = segment_record(record, mode, fixed_ms, band, leads)
        beats["matched"] = np.ones(len(beats["sample"]), dtype=bool)
        beats["ref_sample"] = beats["sample"].copy()
        return beats
    detection = detection or {}
    refine_s = detection.get("refine_ms", REFINE_RADIUS_S * 1000) / 1000.0
    match_s = detection.get("match_ms", MATCH_WINDOW_S * 1000) / 1000.0
    peaks = detect_peaks(record.signal, record.fs, settings["detector"], refine_s)
    return detected_beats(record, peaks, settings["detector"], mode, fixed_ms, match_s, band, leads)


def render_images(
    beats: dict[str, np.ndarray],
    size: int,
    index: np.ndarray,
    scale: float | None = None,
    leads: int = 1,
    signal2: np.ndarray | None = None,
    scale2: float | None = None,
) -> np.ndarray:
    """uint8 images (len(index) x size x size) of the beats at ``index``; ``scale``: the
    record's amplitude scale (:func:`ecg2d.render.beat_amplitude`), ``None`` for min-max
    scaling per beat; ``leads`` 2: ``signal2`` (:func:`ecg2d.render.second_lead`) drawn
    below the lead read, on scale ``scale2`` (:func:`ecg2d.render.render_beat`)."""
    from ecg2d.render import render_segments

    images = np.empty((len(index), size, size), dtype=np.uint8)
    for k, image in enumerate(render_segments(beats, index, size, scale, leads, signal2, scale2)):
        images[k] = image
    return images


def rr_context(beats: dict[str, np.ndarray], columns) -> np.ndarray:
    """N x len(columns) float64 RR context of the beats (a classifier's ``rr_columns``), rounded
    as the manifest the model was trained on holds it (:func:`ecg2d.split.beat_columns`)."""
    from ecg2d.split import beat_columns

    return beat_columns(beats, columns)


def classify_beats(
    beats: dict[str, np.ndarray], classifier, image_size: int, log=None, window: dict | None = None
):
    """Class probabilities (N x len(classifier.classes)) of every beat, in chunks; images
    rendered as the model's ``window`` says (:func:`render_images`): its
    ``amplitude`` (the scale found once per record) and its ``leads`` (2: the second lead
    drawn below the lead read)."""
    from ecg2d.render import record_drawing

    window = window or {}
    amplitude, leads = window.get("amplitude", "beat"), window_leads(window)
    n = len(beats["sample"])
    rr = rr_context(beats, classifier.rr_columns)
    scale, signal2, scale2 = record_drawing(beats, amplitude, leads, log)
    out = [np.zeros((0, len(classifier.classes)), dtype=np.float32)]
    for start in range(0, n, CHUNK):
        index = np.arange(start, min(start + CHUNK, n))
        images = render_images(beats, image_size, index, scale, leads, signal2, scale2)
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


def missed_reference(resampled: Record, beats: dict[str, np.ndarray]):
    """``(samples, symbols)`` of the reference beats of ``resampled`` that no beat of ``beats``
    matched (samples at the resampled rate)."""
    is_beat = beat_mask(resampled.ann_symbol)
    reference = resampled.ann_sample[is_beat]
    missed = ~np.isin(reference, beats["ref_sample"][beats["matched"]])
    return reference[missed], resampled.ann_symbol[is_beat][missed].astype(str)


def prediction_table(
    beats: dict[str, np.ndarray],
    proba: np.ndarray,
    classes: list[str],
    original: Record,
    resampled: Record,
    class_map: dict[str, str],
    symbols: dict[str, str],
) -> pd.DataFrame:
    """The classified beats and the missed reference beats of a record (module docstring).

    ``class_map`` maps reference symbols to the model's classes (the experiment's ``classes``);
    ``ref_label`` is ``""`` where there is no reference beat or its symbol is not a class.
    """
    labels = np.asarray(classes, dtype=object)[proba.argmax(axis=1)].astype(str)
    missed_sample, missed_symbol = missed_reference(resampled, beats)
    n, m = len(labels), len(missed_sample)
    matched = np.concatenate([beats["matched"], np.zeros(m, dtype=bool)])
    ref_symbol = np.concatenate([np.where(beats["matched"], beats["symbol"], ""), missed_symbol])
    ref_sample = np.concatenate(
        [np.where(beats["matched"], beats["ref_sample"], -1), missed_sample]
    )
    sample = np.concatenate(
        [to_original(beats["sample"], float(beats["fs"]), original), np.full(m, -1)]
    )
    table = pd.DataFrame(
        {
            "record": str(beats["record"]),
            "lead": original.lead,
            "sample": sample,
            "detected": np.repeat([1, 0], [n, m]),
            "label": np.concatenate([labels, np.full(m, "")]),
            "symbol": np.concatenate([label_symbols(labels, symbols), np.full(m, "")]),
        }
    )
    for k, name in enumerate(classes):
        p = np.round(proba[:, k].astype(np.float64), 5)
        table[f"p_{name}"] = np.concatenate([p, np.full(m, np.nan)])
    table["matched"] = matched.astype(int)
    table["ref_sample"] = original_ann_samples(resampled, original, ref_sample)
    table["ref_symbol"] = ref_symbol.astype(str)
    table["ref_label"] = [class_map.get(s, "") for s in table["ref_symbol"]]
    order = np.argsort(np.where(sample >= 0, sample, table["ref_sample"]), kind="stable")
    return table.iloc[order].reset_index(drop=True)


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
    """Prediction table of one record of a dataset, and the record as read (original rate).

    ``fs``, ``window`` and ``image_size`` are the model's (:func:`model_settings`).
    """
    original = read_new_record(
        data_dir,
        record,
        settings["lead"],
        settings["fallback_channel"],
        settings["annotator"],
        settings["lead2"],
    )
    resampled = at_rate(original, fs)
    beats = segment_for_prediction(resampled, settings, window, detection)
    proba = classify_beats(beats, classifier, image_size, log, window)
    table = prediction_table(
        beats, proba, classifier.classes, original, resampled, class_map, settings["symbols"]
    )
    if log is not None:
        detected = table["detected"] == 1
        log.info(
            "record %s: lead %s, %g Hz -> %g Hz, %d beats (%s segmentation, %d matching no "
            "reference beat), %d reference beats missed",
            record,
            original.lead,
            original.fs,
            fs,
            int(detected.sum()),
            settings["segmentation"],
            int((detected & (table["matched"] == 0)).sum()),
            int((~detected).sum()),
        )
    return table, original


# --- outputs ----------------------------------------------------------------------------------

#: Columns every prediction table has (besides one ``p_{label}`` column per class).
TABLE_COLUMNS = (
    "record lead sample detected label symbol matched ref_sample ref_symbol ref_label".split()
)
_TEXT_COLUMNS = ("record", "lead", "label", "symbol", "ref_symbol", "ref_label")


def table_classes(table: pd.DataFrame) -> list[str]:
    """The model's classes, in order, from a prediction table's ``p_{label}`` columns."""
    return [c[2:] for c in table.columns if c.startswith("p_")]


def read_table(path) -> pd.DataFrame:
    """Read a prediction table: text columns stay strings (empty, not NaN), probabilities of
    missed beats are NaN. A file without the columns of one is a ValueError naming it."""
    columns = pd.read_csv(path, nrows=0).columns
    missing = [c for c in TABLE_COLUMNS if c not in columns]
    if missing:
        raise ValueError(
            f"{path}: not a prediction table of this version (no column {', '.join(missing)}); "
            "delete it and rerun"
        )
    return pd.read_csv(
        path,
        dtype={c: str for c in _TEXT_COLUMNS},
        keep_default_na=False,
        na_values={c: [""] for c in columns if c.startswith("p_")},
    )


def write_annotations(table: pd.DataFrame, record: str, fs: float, path) -> None:
    """Write the classified beats (``detected = 1``) as a WFDB annotation file ``path``
    (``{record}.{ext}``).

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
    beats = table[table["detected"] == 1]
    with tempfile.TemporaryDirectory(prefix=f".{path.name}.", dir=path.parent) as tmp:
        samples = beats["sample"].to_numpy(dtype=np.int64)
        symbols = beats["symbol"].astype(str).tolist()
        if len(samples):
            wfdb.wrann(record, extension, samples, symbol=symbols, fs=fs, write_dir=tmp)
        else:  # wfdb.wrann refuses an empty list: write an empty annotation file by hand
            Path(tmp, path.name).write_bytes(b"\x00\x00")
        os.replace(Path(tmp) / path.name, path)


# --- scoring ----------------------------------------------------------------------------------


def score_tables(tables: list[pd.DataFrame], classes: list[str], dataset: dict) -> dict:
    """Cross-database scores of a dataset's prediction tables against their reference labels.

    Classified beats with a reference label among ``classes`` are scored as an experiment's
    test split (:func:`ecg2d.evaluate.metrics_report`, the content of ``metrics.json``, with
    bootstrap intervals over records); missed reference beats of those classes are passed as
    ``missed`` (misses of their class) and classified beats with no reference beat as
    ``unmatched``: ``n_reference``, ``n_missed`` and ``n_unmatched_detections`` count them.
    ``predict`` counts the classified beats (``n_beats``): ``n_scored``, ``unmatched`` (no
    reference beat within the match window) and ``unlabelled`` (a reference symbol outside
    ``classes``). ``dataset`` is the dataset's settings (recorded in the report).
    """
    from ecg2d.evaluate import metrics_report

    if not tables:
        raise PredictConfigError(
            f"predict.datasets.{dataset.get('name', '?')}: no prediction tables to score"
        )
    classes = list(classes)
    table = pd.concat(tables, ignore_index=True)
    detected, matched = table["detected"] == 1, table["matched"] == 1
    in_class = table["ref_label"].astype(str).isin(classes)
    scored, missed = table[detected & in_class], table[~detected & in_class]
    unmatched = table[detected & ~matched]
    report = metrics_report(
        pd.DataFrame(
            {"record": scored["record"], "true": scored["ref_label"], "predicted": scored["label"]}
        ),
        classes,
        dataset["experiment"],
        f"predict:{dataset['segmentation']}",
        missed=pd.DataFrame({"record": missed["record"], "true": missed["ref_label"]}),
        unmatched=pd.DataFrame({"record": unmatched["record"], "predicted": unmatched["label"]}),
        bootstrap_unit="record",
    )
    report["predict"] = {
        "segmentation": dataset["segmentation"],
        "detector": dataset["detector"] if dataset["segmentation"] == "detector" else None,
        "records": sorted(table["record"].astype(str).unique().tolist()),
        "leads": sorted(table["lead"].astype(str).unique().tolist()),
        "n_beats": int(detected.sum()),
        "n_scored": int(len(scored)),
        "unmatched": int(len(unmatched)),
        "unlabelled": int((detected & matched & ~in_class).sum()),
    }
    return report
