"""Does a model's answer depend on the recording's sampling rate and lead names?

The models will meet databases recorded at other rates (SVDB 128 Hz, INCART 257 Hz, many Holters
250 or 500 Hz) and with other lead names (``II``, ``V1`` … instead of MIT-BIH's ``MLII``).
``predict`` resamples every record to the model's rate and chooses the lead by name (config
``lead``, e.g. ``[MLII, II]``); the QRS shape features, the RR context and the beat images are
meant to mean the same at any rate. This benchmark measures whether they do, without labels
deciding anything.

For each record, a copy is written at each ``--rates`` rate (``scipy.signal.resample_poly``,
another implementation than the workflow's own, as another device's digitiser would be; the
reference annotations moved to the new rate) with its leads renamed (``--rename``, e.g.
MLII -> II, as a 12-lead record names them). Every copy and the original go through
``ecg2d.predict.predict_record`` with the reference beats as segmentation (a detector's own
rate dependence is measured elsewhere: BENCHMARKS, *QRS detectors*), and each beat's predicted
class is compared with the original's:

- **agreement**: the share of beats whose predicted class is the same as at the original rate,
  over all beats and per predicted class of the original (label-free: the reference labels are
  not read for it), and the largest change of any class probability;
- the prediction tables scored against the reference labels at each rate
  (``ecg2d.predict.score_tables``, EC57 gross statistics), as a description only: nothing here
  is chosen by them.

``--features``: no model; instead, how far each beat feature the experiment's rhythm expert
reads (its RR context, rhythm and QRS shape columns) moves between the original and each copy
(median, 95th percentile and largest absolute change over the paired beats, beside the
feature's median magnitude). Model-free and label-free, so it may be measured on DS1 records
to choose how a feature is computed. With ``--images``, also how far each beat's image moves
(the experiment's window, rendered as the workflow renders it and resized to ``--input-size``,
the network's input: the mean absolute pixel difference of each paired beat's image, 0-255,
every ``--image-step``-th beat).

``--wander``: every copy also gets baseline wander added to each lead (:data:`WANDER`: 0.5 mV at
0.1 Hz and 0.25 mV at 0.3 Hz, slow drift and respiration of an ambulatory recording), so that
``--rates 360 --wander`` measures what wander alone moves. ``--noise``: every copy also gets
:data:`NOISE` (white Gaussian noise of 0.03 mV rms, seeded by the record's name, and a 0.05 mV
mains hum at 50 Hz), the fast counterpart.

    .venv/bin/python bench/rate_invariance.py --model <run>/results/inter_patient/model.h5 \\
        --data-dir ../shared/data/mitdb --out bench/results/rate_invariance.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from ds1_cv import machine  # noqa: E402

#: Lead names of the copies: MIT-BIH's modified limb lead as a 12-lead record names lead II.
RENAME = {"MLII": "II"}
#: Largest distance (s) between a beat at the original rate and at another rate to pair them.
PAIR_S = 0.02
#: ``--wander``: (mV, Hz, phase) of the sinusoids added to every lead of a copy.
WANDER = ((0.5, 0.1, 0.0), (0.25, 0.3, 1.0))
#: ``--noise``: (white noise rms mV, mains hum mV, mains Hz) added to every lead of a copy.
NOISE = (0.03, 0.05, 50.0)


def baseline_wander(n: int, fs: float) -> np.ndarray:
    """:data:`WANDER` over ``n`` samples at ``fs`` Hz (mV)."""
    t = np.arange(n) / fs
    return sum(mv * np.sin(2 * np.pi * hz * t + phase) for mv, hz, phase in WANDER)


def added_noise(shape: tuple[int, int], fs: float, record: str) -> np.ndarray:
    """:data:`NOISE` for a ``shape`` (samples x leads) signal at ``fs`` Hz (mV): white noise
    seeded by ``record``'s name (the same copy every run), plus mains hum on every lead."""
    import zlib

    rms, hum, hz = NOISE
    rng = np.random.default_rng(zlib.crc32(record.encode()))
    t = np.arange(shape[0]) / fs
    return rms * rng.standard_normal(shape) + hum * np.sin(2 * np.pi * hz * t)[:, None]


def write_copy(
    data_dir: str,
    record: str,
    rate: int,
    rename: dict,
    out_dir: Path,
    wander: bool = False,
    noise: bool = False,
) -> None:
    """Write ``record`` resampled to ``rate`` Hz into ``out_dir`` with leads renamed, and with
    :func:`baseline_wander` added to every lead if ``wander``, :func:`added_noise` if
    ``noise``."""
    import wfdb
    from scipy.signal import resample_poly

    base = str(Path(data_dir) / record)
    rec = wfdb.rdrecord(base)
    ann = wfdb.rdann(base, "atr")
    ratio = Fraction(rate) / Fraction(str(rec.fs))
    signal = resample_poly(rec.p_signal, ratio.numerator, ratio.denominator, axis=0)
    if wander:
        signal = signal + baseline_wander(len(signal), rate)[:, None]
    if noise:
        signal = signal + added_noise(signal.shape, rate, record)
    names = [rename.get(name, name) for name in rec.sig_name]
    wfdb.wrsamp(
        record,
        fs=rate,
        units=rec.units,
        sig_name=names,
        p_signal=signal,
        fmt=["16"] * len(names),
        adc_gain=[200.0] * len(names),
        baseline=[0] * len(names),
        write_dir=str(out_dir),
    )
    samples = np.round(np.asarray(ann.sample) * rate / rec.fs).astype(np.int64)
    samples = np.clip(samples, 0, len(signal) - 1)
    wfdb.wrann(
        record,
        "atr",
        samples,
        symbol=list(ann.symbol),
        aux_note=list(ann.aux_note),
        fs=rate,
        write_dir=str(out_dir),
    )


def pair_times(t0: np.ndarray, t1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays (i, j) pairing beat times ``t0`` and ``t1`` (seconds) one to one, closest
    first, at most :data:`PAIR_S` apart (:func:`ecg2d.detect.match_peaks`, in microseconds)."""
    from ecg2d.detect import match_peaks

    return match_peaks(np.round(t0 * 1e6), np.round(t1 * 1e6), 1e6, PAIR_S)


def pair_tables(original: pd.DataFrame, copy: pd.DataFrame, fs0: float, fs1: float) -> tuple:
    """Index arrays (i, j) pairing classified beats of ``original`` (rate ``fs0``) and ``copy``
    (rate ``fs1``) whose samples are within :data:`PAIR_S` of each other in seconds."""
    a = original.index[original["detected"] == 1].to_numpy()
    b = copy.index[copy["detected"] == 1].to_numpy()
    i, j = pair_times(original.loc[a, "sample"].to_numpy() / fs0,
                      copy.loc[b, "sample"].to_numpy() / fs1)  # fmt: skip
    return a[i], b[j]


def load_config(path) -> dict:
    """The workflow configuration at ``path``, validated (the schema's defaults filled in)."""
    from ecg2d.config import validate_config

    config = yaml.safe_load(Path(path).read_text())
    validate_config(config, REPO / "config/schema.yaml")
    return config


def agreement(original: pd.DataFrame, copy: pd.DataFrame, pairs, classes) -> dict:
    """Label-free agreement of paired beats: overall, per original predicted class, the
    confusion of original -> copy labels and the largest probability change."""
    i, j = pairs
    lab0 = original.loc[i, "label"].astype(str).to_numpy()
    lab1 = copy.loc[j, "label"].astype(str).to_numpy()
    cols = [f"p_{c}" for c in classes]
    dp = np.abs(original.loc[i, cols].to_numpy(float) - copy.loc[j, cols].to_numpy(float))
    same = lab0 == lab1
    per_class = {
        c: {"n": int((lab0 == c).sum()), "agree": _pct(same[lab0 == c])}
        for c in classes
        if (lab0 == c).any()
    }
    changes = pd.crosstab(pd.Series(lab0, name="original"), pd.Series(lab1, name="copy"))
    flips = {
        f"{a}->{b}": int(changes.loc[a, b])
        for a in changes.index
        for b in changes.columns
        if a != b and changes.loc[a, b]
    }
    return {
        "paired": int(len(i)),
        "agree": _pct(same),
        "per_class": per_class,
        "flips": flips,
        "max_abs_dp": round(float(dp.max()), 4) if len(dp) else None,
        "mean_abs_dp": round(float(dp.mean()), 5) if len(dp) else None,
    }


def _pct(mask) -> float | None:
    return round(100.0 * float(np.mean(mask)), 2) if len(mask) else None


def ec57(report: dict) -> dict:
    """SVEB and VEB gross Se / +P (EC57, %) of a metrics report, and its accuracy (%)."""
    gross = report["aami_ec57"]
    out = {"accuracy": round(100 * report["accuracy"], 2)}
    for name in ("SVEB", "VEB"):
        for fig in ("Se", "+P"):
            value = gross[name][fig]
            out[f"{name} {fig}"] = None if value is None else round(100 * value, 1)
        out[f"{name} TP"] = gross[name]["TP"]
    return out


def feature_invariance(args) -> None:
    """``--features``: how far the expert's beat features move between rates (no model)."""
    from ecg2d.config import experiment_window
    from ecg2d.expert import KIND_COLUMNS
    from ecg2d.io import at_rate
    from ecg2d.predict import read_new_record
    from ecg2d.segment import segment_record, window_band
    from ecg2d.split import beat_columns

    config = load_config(args.config)
    experiment = config["experiments"][args.experiment]
    records = args.records or [str(r) for r in experiment["train_records"]]
    columns = KIND_COLUMNS[experiment["model"]["expert"]]
    window = experiment_window(config, args.experiment)
    fs = float(config["fs"])

    def features(folder, record):
        rec = at_rate(read_new_record(folder, record, config["lead"], 0, "atr"), fs)
        beats = segment_record(rec, window["mode"], tuple(window["fixed_ms"]), window_band(window))
        return beats["sample"] / fs, beat_columns(beats, columns), beats

    def images(beats, index):
        from ecg2d.images import resize_images
        from ecg2d.predict import render_images
        from ecg2d.render import beat_amplitude

        scale = beat_amplitude(beats, window.get("amplitude", "beat"))
        rendered = render_images(beats, int(config["image_size"]), index, scale)
        return resize_images(rendered, args.input_size).astype(np.float32)

    started = time.perf_counter()
    original = {r: features(args.data_dir, r) for r in records}
    out = {
        "benchmark": "rate_invariance --features",
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": " ".join([".venv/bin/python bench/rate_invariance.py", *sys.argv[1:]]),
        "records": records,
        "columns": list(columns),
        "rename": RENAME,
        "wander": WANDER if args.wander else None,
        "noise": NOISE if args.noise else None,
        "rates": {},
    }
    for rate in args.rates:
        moved, pixels = [], []
        with tempfile.TemporaryDirectory() as tmp:
            for record in records:
                write_copy(args.data_dir, record, rate, RENAME, Path(tmp), args.wander, args.noise)
                t1, x1, beats1 = features(tmp, record)
                t0, x0, beats0 = original[record]
                i, j = pair_times(t0, t1)
                moved.append((x0[i], x1[j]))
                if args.images:
                    i0, j1 = i[:: args.image_step], j[:: args.image_step]
                    diff = np.abs(images(beats0, i0) - images(beats1, j1))
                    pixels.append(diff.reshape(len(i0), -1).mean(axis=1))
        x0 = np.concatenate([m[0] for m in moved])
        x1 = np.concatenate([m[1] for m in moved])
        change = np.abs(x1 - x0)
        out["rates"][str(rate)] = {
            "paired": int(len(x0)),
            "columns": {
                c: {
                    "median_abs": _num(np.nanmedian(np.abs(x0[:, i]))),
                    "change_median": _num(np.nanmedian(change[:, i])),
                    "change_p95": _num(np.nanquantile(change[:, i], 0.95)),
                    "change_max": _num(np.nanmax(change[:, i])),
                }
                for i, c in enumerate(columns)
            },
        }
        if args.images:
            pixel = np.concatenate(pixels)
            out["rates"][str(rate)]["images"] = {
                "beats": int(len(pixel)),
                "input_size": args.input_size,
                "mean_abs_pixel_median": _num(np.median(pixel)),
                "mean_abs_pixel_p95": _num(np.quantile(pixel, 0.95)),
            }
        print(f"{rate} Hz: {len(x0)} beats paired", flush=True)
    out["seconds"] = round(time.perf_counter() - started, 1)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    for rate, v in out["rates"].items():
        print(rate, {c: v["columns"][c]["change_p95"] for c in columns}, v.get("images"))


def _num(value) -> float | None:
    return None if not np.isfinite(value) else round(float(value), 5)


def dataset_settings(config: dict, experiment: str) -> dict:
    """The settings of a ``predict`` dataset of the workflow's own records as predict's schema
    fills them in (the config's lead choice), segmented by the reference beats."""
    return {
        "lead": config["lead"],
        "fallback_channel": config["fallback_channel"],
        "lead2": config["lead2"],
        "annotator": "atr",
        "segmentation": "annotations",
        "detector": "xqrs",
        "symbols": {},
        "experiment": experiment,
        "name": "rate_invariance",
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a model.h5 with its model.json beside it")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--experiment", default="inter_patient")
    parser.add_argument("--config", default=str(REPO / "config/config.yaml"))
    parser.add_argument("--records", nargs="+", help="default: the experiment's test records")
    parser.add_argument("--rates", type=int, nargs="+", default=[128, 257, 500])
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--features", action="store_true", help="features only, no model")
    parser.add_argument("--images", action="store_true", help="with --features: images too")
    parser.add_argument("--input-size", type=int, default=48)
    parser.add_argument("--image-step", type=int, default=4)
    parser.add_argument("--wander", action="store_true", help="add WANDER to every copy")
    parser.add_argument("--noise", action="store_true", help="add NOISE to every copy")
    args = parser.parse_args(argv)
    if args.features:
        feature_invariance(args)
        return

    if not args.model:
        parser.error("--model is needed unless --features")
    from ecg2d.model import limit_threads

    limit_threads(args.threads)  # before anything imports TensorFlow
    from ecg2d.classifier import Classifier
    from ecg2d.config import experiment_window
    from ecg2d.predict import model_settings, predict_record, score_tables

    config = load_config(args.config)
    experiment = config["experiments"][args.experiment]
    class_map = experiment["classes"]
    records = args.records or [str(r) for r in experiment["test_records"]]
    classifier = Classifier.load(args.model)
    workflow_data = {
        "fs": config["fs"],
        "window": experiment_window(config, args.experiment),
        "image_size": config["image_size"],
    }
    data = model_settings(classifier.info, workflow_data, args.model)
    classes = list(classifier.classes)
    settings = dataset_settings(config, args.experiment)

    def predict(folder, record):
        table, original = predict_record(
            folder, record, settings, classifier, data["fs"], data["window"],
            data["image_size"], class_map,
        )  # fmt: skip
        return table, original.fs, original.lead

    started = time.perf_counter()
    tables = {"original": {}}
    rates = {"original": {}}
    for record in records:
        tables["original"][record], rates["original"][record], _ = predict(args.data_dir, record)
        print(f"original {record}: {len(tables['original'][record])} beats", flush=True)
    out = {
        "benchmark": "rate_invariance",
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": " ".join([".venv/bin/python bench/rate_invariance.py", *sys.argv[1:]]),
        "model": args.model,
        "model_fs": data["fs"],
        "records": records,
        "rename": RENAME,
        "wander": WANDER if args.wander else None,
        "noise": NOISE if args.noise else None,
        "pair_s": PAIR_S,
        "rates": {},
    }
    scored = {"original": ec57(score_tables(list(tables["original"].values()), classes,
                                            settings))}  # fmt: skip
    for rate in args.rates:
        per_record, leads = {}, set()
        with tempfile.TemporaryDirectory() as tmp:
            for record in records:
                write_copy(args.data_dir, record, rate, RENAME, Path(tmp), args.wander, args.noise)
                table, fs, lead = predict(tmp, record)
                leads.add(lead)
                pairs = pair_tables(tables["original"][record], table,
                                    rates["original"][record], fs)  # fmt: skip
                per_record[record] = (table, pairs)
                print(f"{rate} Hz {record}: lead {lead}, {len(pairs[0])} beats paired", flush=True)
        concat0 = pd.concat([tables["original"][r].loc[per_record[r][1][0]] for r in records])
        concat1 = pd.concat([per_record[r][0].loc[per_record[r][1][1]] for r in records])
        concat0, concat1 = concat0.reset_index(drop=True), concat1.reset_index(drop=True)
        index = np.arange(len(concat0))
        out["rates"][str(rate)] = {
            "leads_read": sorted(leads),
            "agreement": agreement(concat0, concat1, (index, index), classes),
            "unpaired": int(
                sum(
                    (per_record[r][0]["detected"] == 1).sum() - len(per_record[r][1][1])
                    for r in records
                )
            ),
            "per_record_agree": {
                r: agreement(tables["original"][r], per_record[r][0], per_record[r][1], classes)[
                    "agree"
                ]  # fmt: skip
                for r in records
            },
        }
        scored[str(rate)] = ec57(
            score_tables([per_record[r][0] for r in records], classes, settings)
        )
    out["scored_description_only"] = scored
    out["seconds"] = round(time.perf_counter() - started, 1)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: out["rates"][k]["agreement"]["agree"] for k in out["rates"]}))
    print(json.dumps(scored, indent=1))


if __name__ == "__main__":
    main()
