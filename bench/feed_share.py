"""How much of CPU training the PNG feed costs: the same batches fed from PNGs and from memory.

Issue 11 asks whether decoded images packed once per record would beat PNG decoding. Before
building that, this measures what it could gain at most: the experiment's model (as ``make run``
builds it, with the experiment's own model keys) is trained for ``--batches`` batches drawn
from the real manifest, once with the PNG feed exactly as ``make run`` runs it
(:class:`ecg2d.feed.BeatBatches`, ``workers`` = ``--threads`` reading threads beside the
model's threads) and once from the same batches decoded beforehand into memory (no decoding
while training: the best a packed feed could do). The first batch (compilation) is not timed.
Each run is a fresh process; the two feeds alternate ``--repeats`` times so that the machine's
drift falls on both.

    .venv/bin/python bench/feed_share.py --manifest /tmp/s18/final/results/jun2018/manifest.csv \\
        --root /tmp/s18/final --experiment jun2018 --batches 60 --repeats 3
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


def measure(args) -> dict:
    """Training images/s of one feed (in this process)."""
    sys.path.insert(0, str(REPO))
    from ecg2d.model import limit_threads

    limit_threads(args.threads)
    import keras
    import yaml

    from ecg2d.config import experiment_classes
    from ecg2d.feed import BeatBatches
    from ecg2d.model import build_model
    from ecg2d.rr import rr_columns, rr_feature_names
    from ecg2d.settings import resolve_settings
    from ecg2d.split import read_table

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    experiment = config["experiments"][args.experiment]
    settings = resolve_settings(experiment)
    m, t = settings.model, settings.train
    classes = experiment_classes(experiment)
    rows = read_table(args.manifest)
    train = rows[rows["split"] == "train"]
    keras.utils.set_random_seed(0)
    columns = rr_columns(m.rr_irregularity)
    data = BeatBatches(
        train,
        classes,
        m.input_size,
        t.batch_size,
        m.rr_features,
        root=args.root,
        order="shuffle",
        rr_columns=columns,
        seed=0,
        workers=args.threads,
        use_multiprocessing=False,
        max_queue_size=8,
    )
    steps = args.batches + 1
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--root", default=".", help="folder the manifest's paths are relative to")
    parser.add_argument("--experiment", default="jun2018")
    parser.add_argument("--batches", type=int, default=60, help="timed batches (after one)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--feed", choices=["png", "memory"], help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(REPO / "bench/results/feed_share.json"))
    args = parser.parse_args(argv)
    if args.feed:
        print("RESULT " + json.dumps(measure(args)), flush=True)
        return
    from ds1_cv import machine

    runs = []
    for repeat in range(args.repeats):
        for feed in ("png", "memory"):
            cmd = [sys.executable, __file__, *(argv or sys.argv[1:]), "--feed", feed]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            runs.append({"repeat": repeat, **json.loads(out.split("RESULT ", 1)[1])})
            print(json.dumps(runs[-1]), flush=True)
    mean = {
        feed: sum(r["images_per_s"] for r in runs if r["feed"] == feed) / args.repeats
        for feed in ("png", "memory")
    }
    result = {
        "command": " ".join([".venv/bin/python", "bench/feed_share.py", *(argv or sys.argv[1:])]),
        "date": str(date.today()),
        "machine": machine(),
        "threads": args.threads,
        "runs": runs,
        "mean_images_per_s": {k: round(v, 1) for k, v in mean.items()},
        "feed_share_of_training_time": round(1 - mean["png"] / mean["memory"], 3),
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("mean_images_per_s", "feed_share_of_training_time")}))


if __name__ == "__main__":
    main()
