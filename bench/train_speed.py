"""Training and prediction speed of the model presets on this machine.

Each preset runs in a fresh process (so its peak RSS is its own): the experiment's model is
built as ``make run`` builds it, trained for a few batches streamed from the real manifest
(PNG reading and resizing included; the first batch, which compiles, is not timed), then used
to predict a few batches of test beats. Prints one Markdown table row per preset.

    .venv/bin/python bench/train_speed.py --manifest results/jun2018/manifest.csv \
        --experiment jun2018 --presets default paper --batches 40 3
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def training_feed(manifest, experiment: dict, settings, root, **options):
    """``(classes, rows, batches)``: an experiment's classes, its manifest's rows, and an
    :class:`ecg2d.feed.BeatBatches` over the training rows, fed as the experiment's model
    (resolved ``settings``) reads them (``options``: the feed's order, sampling, workers...)."""
    sys.path.insert(0, str(REPO))
    from ecg2d.config import experiment_classes
    from ecg2d.feed import BeatBatches
    from ecg2d.rr import rr_columns
    from ecg2d.split import read_table

    m, t = settings.model, settings.train
    classes = experiment_classes(experiment)
    rows = read_table(manifest)
    train = rows[rows["split"] == "train"]
    batches = BeatBatches(
        train,
        classes,
        m.input_size,
        t.batch_size,
        m.rr_features,
        root=root,
        rr_columns=rr_columns(m.rr_irregularity),
        **options,
    )
    return classes, rows, batches


def measure(manifest: str, experiment_name: str, preset: str, batches: int, threads: int, root):
    """Training and prediction images/s and peak RSS of one preset (in this process)."""
    sys.path.insert(0, str(REPO))
    from ecg2d.model import limit_threads

    limit_threads(threads)
    import keras
    import yaml

    from ecg2d.classifier import Classifier
    from ecg2d.model import build_model
    from ecg2d.rr import rr_columns, rr_feature_names
    from ecg2d.settings import resolve_settings

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    experiment = dict(config["experiments"][experiment_name], preset=preset)
    experiment.pop("train", None)
    settings = resolve_settings(experiment)
    m, t = settings.model, settings.train
    classes, rows, data = training_feed(
        manifest,
        experiment,
        settings,
        root,
        order="sampling",
        samples_per_class=batches * t.batch_size,
    )
    keras.utils.set_random_seed(0)
    model = build_model(len(classes), m, n_rr=len(rr_feature_names(rr_columns(m.rr_irregularity))))
    model.compile(keras.optimizers.Adam(t.learning_rate), "sparse_categorical_crossentropy")
    marks = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            marks.append(time.perf_counter())

    model.fit(data, steps_per_epoch=batches + 1, epochs=1, verbose=0, callbacks=[Clock()])
    train_rate = batches * t.batch_size / (marks[-1] - marks[0])

    classifier = Classifier(
        model,
        {
            "classes": classes,
            "input_size": m.input_size,
            "rr_features": m.rr_features,
            "rr_columns": list(rr_columns(m.rr_irregularity)),
        },
    )
    n_predict = min(1024, max(256, batches * t.batch_size))
    test = rows[(rows["split"] == "test") & (rows["augmented"] == 0)].iloc[:n_predict]
    from ecg2d.evaluate import predict_rows

    predict_rows(classifier, test.iloc[:256], root)  # warm-up (traces the batch shape)
    start = time.perf_counter()
    predict_rows(classifier, test, root)
    predict_rate = len(test) / (time.perf_counter() - start)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "preset": preset,
        "image_size": m.input_size,
        "filters": list(m.filters),
        "dense_units": m.dense_units,
        "rr_features": m.rr_features,
        "parameters": int(model.count_params()),
        "batch_size": t.batch_size,
        "timed_batches": batches,
        "train_images_per_s": round(train_rate, 1),
        "predict_images_per_s": round(predict_rate, 1),
        "peak_rss_mb": round(rss_mb),
        "backend": keras.backend.backend(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", default="results/jun2018/manifest.csv")
    parser.add_argument("--experiment", default="jun2018")
    parser.add_argument("--presets", nargs="+", default=["default", "paper"])
    parser.add_argument(
        "--batches",
        nargs="+",
        type=int,
        default=[40, 3],
        help="timed training batches per preset (after one untimed)",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--root", default=".", help="folder the manifest's paths are relative to")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    batches = dict(zip(args.presets, args.batches + args.batches[-1:] * len(args.presets)))
    if args.one:
        preset = args.presets[0]
        result = measure(
            args.manifest, args.experiment, preset, batches[preset], args.threads, args.root
        )
        print("RESULT " + json.dumps(result))
        return
    print(
        f"machine: {platform.machine()}, {args.threads} threads, python {platform.python_version()}"
    )
    print(
        "| preset | input | filters | dense | RR | parameters | batch | train img/s "
        "| predict img/s | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for preset in args.presets:
        cmd = [
            sys.executable,
            __file__,
            "--one",
            "--manifest",
            args.manifest,
            "--experiment",
            args.experiment,
            "--presets",
            preset,
            "--batches",
            str(batches[preset]),
            "--threads",
            str(args.threads),
            "--root",
            args.root,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        r = json.loads(out.split("RESULT ", 1)[1])
        print(
            f"| {r['preset']} | {r['image_size']} px | {r['filters']} | {r['dense_units']} "
            f"| {r['rr_features']} | {r['parameters']:,} | {r['batch_size']} "
            f"| {r['train_images_per_s']} | {r['predict_images_per_s']} "
            f"| {r['peak_rss_mb']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
