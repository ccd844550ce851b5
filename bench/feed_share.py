"""How much of CPU training the image feed costs: the same batches fed from PNGs, from the
folders' packs and from memory.

Issue 11 asks whether decoded images packed once per record beat PNG decoding. The
experiment's model (as ``make run`` builds it, with the experiment's own model keys) is trained
for ``--batches`` batches drawn from the real manifest with the feed exactly as ``make run``
runs it (:class:`ecg2d.feed.BeatBatches`, ``workers`` = ``--threads`` reading threads beside
the model's threads), reading each image either from its PNG (``png``) or from its folder's
pack (``pack``, :mod:`ecg2d.images`; where the manifest's folders have packs), or from the same
batches decoded beforehand into memory (``memory``: no reading while training, the ceiling).
The first batch (compilation) is not timed. Each run is a fresh process; the feeds alternate
``--repeats`` times so that the machine's drift falls on all. First, the feed alone is timed
in this process (:func:`feed_alone`: one thread, no model, PNGs against packs).

    .venv/bin/python bench/feed_share.py --manifest /tmp/s18/final/results/jun2018/manifest.csv \\
        --root /tmp/s18/final --experiment jun2018 --batches 60 --repeats 3 --feeds png memory
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
FEEDS = ("png", "pack", "memory")


def measure(args) -> dict:
    """Training images/s of one feed (in this process)."""
    sys.path.insert(0, str(REPO))
    from ecg2d.model import limit_threads

    limit_threads(args.threads)
    import keras
    import yaml
    from train_speed import training_feed

    from ecg2d.images import ImageReader
    from ecg2d.model import build_model
    from ecg2d.rr import rr_columns, rr_feature_names
    from ecg2d.settings import resolve_settings

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    experiment = config["experiments"][args.experiment]
    settings = resolve_settings(experiment)
    classes, _, data = training_feed(
        args.manifest,
        experiment,
        settings,
        args.root,
        order="shuffle",
        seed=0,
        workers=args.threads,
        use_multiprocessing=False,
        max_queue_size=8,
    )
    m, t = settings.model, settings.train
    columns = rr_columns(m.rr_irregularity)
    keras.utils.set_random_seed(0)
    steps = args.batches + 1
    if args.feed == "png":
        data.reader = ImageReader(args.root, use_packs=False)
    if args.feed == "memory":
        decoded = [data[i] for i in range(steps)]

        class InMemory(keras.utils.PyDataset):
            def __len__(self):
                return len(decoded)

            def __getitem__(self, i):
                return decoded[i]

        data = InMemory()
    model = build_model(len(classes), m, n_rr=len(rr_feature_names(columns)))
    model.compile(keras.optimizers.Adam(t.learning_rate), "sparse_categorical_crossentropy")
    marks = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            marks.append(time.perf_counter())

    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[Clock()])
    return {
        "feed": args.feed,
        "images_per_s": round(args.batches * t.batch_size / (marks[-1] - marks[0]), 1),
        "input_size": m.input_size,
        "convs_per_block": m.convs_per_block,
        "batch_size": t.batch_size,
        "backend": keras.backend.backend(),
    }


def feed_alone(args, n: int = 6400) -> dict:
    """The feed alone, one thread, no model: images/s of reading and resizing ``n`` random
    training images from their PNGs and from their folders' packs, three times each (the
    first pass reads from disk what the page cache lacks)."""
    sys.path.insert(0, str(REPO))
    import numpy as np
    import yaml

    from ecg2d.images import ImageReader
    from ecg2d.settings import resolve_settings
    from ecg2d.split import read_table

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    size = resolve_settings(config["experiments"][args.experiment]).model.input_size
    rows = read_table(args.manifest)
    paths = rows.loc[rows["split"] == "train", "path"].to_numpy(dtype=object)
    paths = paths[np.random.default_rng(0).choice(len(paths), min(n, len(paths)), replace=False)]
    out = {"png": [], "pack": []}
    for _ in range(3):
        for feed in out:
            reader = ImageReader(args.root, use_packs=feed == "pack")
            start = time.perf_counter()
            reader.load(paths, size)
            out[feed].append(round(len(paths) / (time.perf_counter() - start)))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--root", default=".", help="folder the manifest's paths are relative to")
    parser.add_argument("--experiment", default="jun2018")
    parser.add_argument("--batches", type=int, default=60, help="timed batches (after one)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--feeds", nargs="+", choices=FEEDS, default=list(FEEDS))
    parser.add_argument("--feed", choices=FEEDS, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(REPO / "bench/results/feed_share.json"))
    args = parser.parse_args(argv)
    if args.feed:
        print("RESULT " + json.dumps(measure(args)), flush=True)
        return
    from ds1_cv import machine

    alone = feed_alone(args)
    print(json.dumps({"feed_alone_images_per_s": alone}), flush=True)
    runs = []
    for repeat in range(args.repeats):
        for feed in args.feeds:
            cmd = [sys.executable, __file__, *(argv or sys.argv[1:]), "--feed", feed]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            runs.append({"repeat": repeat, **json.loads(out.split("RESULT ", 1)[1])})
            print(json.dumps(runs[-1]), flush=True)
    mean = {
        feed: sum(r["images_per_s"] for r in runs if r["feed"] == feed) / args.repeats
        for feed in args.feeds
    }
    result = {
        "command": " ".join([".venv/bin/python", "bench/feed_share.py", *(argv or sys.argv[1:])]),
        "date": str(date.today()),
        "machine": machine(),
        "threads": args.threads,
        "feed_alone_images_per_s": alone,
        "runs": runs,
        "mean_images_per_s": {k: round(v, 1) for k, v in mean.items()},
    }
    if "memory" in mean:
        result["time_lost_to_reading"] = {
            feed: round(1 - rate / mean["memory"], 3) for feed, rate in mean.items()
        }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("runs", "command")}))


if __name__ == "__main__":
    main()
