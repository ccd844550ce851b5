"""Where training time goes: images/s of the data feed and of the model alone, per setting.

Each measurement runs in a fresh process (TensorFlow reads its thread and oneDNN settings once,
at start-up), with the threads ``make run`` gives a training job (``limit_threads``):

- ``feed``: :func:`ecg2d.images.load_images` (PNG decode + area resize to the input size) on
  2,048 training images of a real manifest, files already in the page cache;
- ``model``: ``train_on_batch`` of the experiment's network on in-memory random batches (no
  feed), for 8 s after two untimed batches, for every ``--variant`` (``ENV=VALUE`` and
  ``model.KEY=VALUE`` (a tuple as ``A:B:C``) / ``batch_size=N`` / ``jit_compile=1`` items,
  comma-separated).

    .venv/bin/python bench/model_speed.py --manifest results/jun2018/manifest.csv \\
        --variant default --variant TF_ENABLE_ONEDNN_OPTS=0 \\
        --variant ONEDNN_MAX_CPU_ISA=AVX2 --variant model.convs_per_block=1

Results: bench/results/model_speed.json and .md (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))


def measure_feed(manifest: str, size: int, threads: int) -> dict:
    import numpy as np

    from ecg2d.images import load_images
    from ecg2d.model import limit_threads
    from ecg2d.split import read_table

    limit_threads(threads)
    rows = read_table(manifest)
    rows = rows[rows["split"] == "train"]
    pick = np.random.default_rng(0).choice(len(rows), min(2048, len(rows)), replace=False)
    paths = rows["path"].to_numpy()[pick]
    root = Path(manifest).resolve().parents[2]
    load_images(paths[:64], size, root)  # warm the page cache and OpenCV
    start = time.perf_counter()
    load_images(paths, size, root)
    return {"images_per_s": round(len(paths) / (time.perf_counter() - start), 1)}


def measure_model(variant: str, threads: int, seconds: float = 8.0) -> dict:
    from ecg2d.model import limit_threads

    limit_threads(threads)
    import keras
    import numpy as np

    from ecg2d.model import build_model
    from ecg2d.settings import resolve_settings

    model_keys, batch_size, jit = {"rr_features": False}, 64, False
    for item in filter(None, variant.split(",")):
        key, _, value = item.partition("=")
        if key.startswith("model."):
            if ":" in value:  # a tuple, e.g. model.filters=32:64:128
                model_keys[key[6:]] = tuple(int(v) for v in value.split(":"))
            else:
                model_keys[key[6:]] = int(value) if value.isdigit() else value
        elif key == "batch_size":
            batch_size = int(value)
        elif key == "jit_compile":
            jit = value == "1"
    settings = resolve_settings({"protocol": "intra_patient", "model": model_keys})
    size = settings.model.input_size
    model = build_model(8, settings.model)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (batch_size * 16, size, size, 1)).astype("float32")
    y = rng.integers(0, 8, batch_size * 16)
    for _ in range(2):
        model.train_on_batch(x[:batch_size], y[:batch_size])
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        i = n % 16
        model.train_on_batch(
            x[i * batch_size : (i + 1) * batch_size], y[i * batch_size : (i + 1) * batch_size]
        )
        n += 1
    rate = n * batch_size / (time.perf_counter() - start)
    return {
        "images_per_s": round(rate, 1),
        "parameters": int(model.count_params()),
        "backend": keras.backend.backend(),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
    }


def child(kind: str, arg: str, threads: int, manifest: str) -> dict:
    env = dict(os.environ)
    if kind == "model":
        for item in filter(None, arg.split(",")):
            key, _, value = item.partition("=")
            if key.isupper():
                env[key] = value
    code = (
        f"import sys, json; sys.path[:0] = [{str(REPO)!r}, {str(REPO / 'bench')!r}]; "
        "import model_speed as m; "
        + (
            f"print(json.dumps(m.measure_feed({manifest!r}, {int(arg)}, {threads})))"
            if kind == "feed"
            else f"print(json.dumps(m.measure_model({arg!r}, {threads})))"
        )
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from ds1_cv import machine

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[48])
    parser.add_argument("--out", default=str(REPO / "bench/results/model_speed"))
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        rows.append(
            {
                "stage": "feed",
                "variant": f"{size} px",
                **child("feed", str(size), args.threads, args.manifest),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    for variant in args.variant or ["default"]:
        arg = "" if variant == "default" else variant
        rows.append(
            {
                "stage": "model",
                "variant": variant,
                **child("model", arg, args.threads, args.manifest),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    result = {"date": date.today().isoformat(), "machine": machine(), "threads": args.threads}
    result["rows"] = rows
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        "# Training speed: the feed and the model alone",
        "",
        f"Command: `.venv/bin/python bench/model_speed.py {' '.join(sys.argv[1:])}`  ",
        f"Date: {result['date']}; machine: {result['machine']}; {args.threads} threads.",
        "",
        "| stage | variant | images/s |",
        "|---|---|---|",
    ]
    lines += [f"| {r['stage']} | {r['variant']} | {r['images_per_s']:.0f} |" for r in rows]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
