"""Helpers of bench/gpu_paper.sh (the one-command GPU run of the `paper` preset).

Subcommands, each run by the shell script (see its header for the whole run):

- ``probe``: model-only training speed of the experiment's network, per Keras dtype policy
  (``float32``, ``mixed_bfloat16``), on synthetic in-memory batches: the compile time and the
  images/s the accelerator reaches when the data feed is no limit.
- ``feed``: images/s that :class:`ecg2d.feed.BeatBatches` (PNG read and resize) delivers from
  the real manifest, with 1 and with N reading threads (Keras ``PyDataset`` workers are threads).
- ``config``: the run's configfile (records; the experiment with its preset as defined).
- ``plan``: the dtype policy (``auto``: mixed_bfloat16 where the probe found it >= 10 % faster)
  and the number of epochs that fit a training budget in seconds, from the probe and the feed;
  writes a Snakemake configfile with those epochs and a shell file with the policy.
- ``report``: gathers metrics, model sidecar, stage seconds, probe and feed into one JSON.
- ``wheels``: downloads the wheels the GPU machine lacks (no network there) into ``.whl/``.
- ``pack-data``: packs the MIT-BIH records into ``.gpu_data/mitdb.tar.xz`` (the GPU machine
  gets only the repository's folder, not ../shared).

Configuration is read as Snakemake reads it: config/config.yaml with the given configfiles
merged over it, key by key.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

#: Policies the probe compares; ``auto`` picks mixed_bfloat16 only if it is this much faster.
POLICIES = ("float32", "mixed_bfloat16")
MIXED_GAIN = 1.10
#: Share of the slower of model and feed speed that training is planned at (Python overhead,
#: the queue, the host-to-device copies); seconds kept for compiling train and predict steps (at
#: least twice the probe's compile time); seconds per epoch for keeping the best weights.
PLAN_EFFICIENCY = 0.7
COMPILE_RESERVE_S = 40.0
EPOCH_OVERHEAD_S = 1.0


def merge(base: dict, override: dict) -> dict:
    """``override`` merged into a copy of ``base``, dicts key by key (as Snakemake merges)."""
    out = dict(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(configfiles) -> dict:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for path in configfiles or ():
        config = merge(config, yaml.safe_load(Path(path).read_text()) or {})
    return config


def experiment_of(args) -> dict:
    return load_config(args.config)["experiments"][args.experiment]


def write_json(path, data) -> None:
    Path(path).write_text(json.dumps(data, indent=2) + "\n")


def read_json(path) -> dict | None:
    return json.loads(Path(path).read_text()) if path and Path(path).is_file() else None


def accelerator() -> dict:
    """The JAX backend's platform and device kind (``gpu``/``cpu``), where JAX is present."""
    try:
        import jax

        device = jax.devices()[0]
        return {"jax_platform": device.platform, "jax_device": device.device_kind}
    except Exception as error:  # noqa: BLE001 (no JAX, or no device: report, don't fail)
        return {"jax_platform": None, "jax_device": f"unavailable: {error}"}


# --- probe --------------------------------------------------------------------------------


def epoch_clock():
    """A Keras callback collecting the unrounded wall-clock seconds of every epoch (a class
    made on first use: keras is imported late)."""
    import keras

    class EpochClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)

    return EpochClock()


def probe(args) -> None:
    """Model-only training images/s per dtype policy, on synthetic batches."""
    start = time.perf_counter()
    import numpy as np

    os.environ.pop("ECG2D_DTYPE_POLICY", None)  # the probe sets each policy itself
    import keras

    from ecg2d.config import experiment_classes
    from ecg2d.model import build_model, make_optimizer
    from ecg2d.rr import rr_columns, rr_feature_names
    from ecg2d.settings import resolve_settings

    experiment = experiment_of(args)
    settings = resolve_settings(experiment)
    m, train = settings.model, settings.train
    n_classes = len(experiment_classes(experiment))
    n_rr = len(rr_feature_names(rr_columns(m.rr_irregularity)))
    batch, steps = train.batch_size, args.steps
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (batch * steps, m.input_size, m.input_size, 1)).astype(np.float32)
    y = rng.integers(0, n_classes, batch * steps)
    inputs = (x, rng.normal(size=(len(x), n_rr)).astype(np.float32)) if m.rr_features else x
    results = {}
    for policy in args.policies.split(","):
        keras.backend.clear_session()
        keras.config.set_dtype_policy(policy)
        keras.utils.set_random_seed(0)
        model = build_model(n_classes, m, n_rr=n_rr)
        model.compile(
            optimizer=make_optimizer(train.optimizer, train.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        timer = epoch_clock()
        model.fit(inputs, y, batch_size=batch, epochs=2, verbose=0, callbacks=[timer])
        first, steady = timer.seconds
        results[policy] = {
            "first_epoch_s": round(first, 2),
            "compile_s": round(max(first - steady, 0.0), 2),
            "images_per_s": round(len(x) / max(steady, 1e-9), 1),
        }
        print(f"probe {policy}: {results[policy]}", flush=True)
        del model
    keras.config.set_dtype_policy("float32")
    write_json(
        args.out,
        {
            "what": "model-only training speed on synthetic in-memory batches (no PNG feed)",
            "preset": settings.preset,
            "input_size": m.input_size,
            "batch_size": batch,
            "steps": steps,
            "backend": keras.backend.backend(),
            **accelerator(),
            "policies": results,
            "seconds": round(time.perf_counter() - start, 1),
        },
    )


# --- feed ---------------------------------------------------------------------------------


def feed_rate(batches, threads: int, seconds: float) -> dict:
    """Images/s of reading batches of ``batches`` with ``threads`` threads for ~``seconds``."""
    from concurrent.futures import ThreadPoolExecutor

    n_batches = len(batches)
    done = images = 0
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        while time.perf_counter() - start < seconds and done < n_batches:
            chunk = range(done, min(done + 4 * threads, n_batches))
            images += sum(pool.map(lambda i: len(batches[i][1]), chunk))
            done = chunk.stop
    elapsed = time.perf_counter() - start
    return {"threads": threads, "images": images, "images_per_s": round(images / elapsed, 1)}


def feed(args) -> None:
    """Images/s of the real data feed (BeatBatches over the manifest's training rows)."""
    from ecg2d.model import limit_threads

    limit_threads(args.threads)  # before anything imports Keras

    from ecg2d.config import experiment_classes
    from ecg2d.feed import BeatBatches
    from ecg2d.rr import rr_columns
    from ecg2d.settings import resolve_settings
    from ecg2d.split import read_table
    from ecg2d.train import prepare_rows

    config = load_config(args.config)
    experiment = config["experiments"][args.experiment]
    settings = resolve_settings(experiment)
    workdir = Path(args.workdir)
    manifest = read_table(workdir / "results" / args.experiment / "manifest.csv")
    fit_rows, val_rows = prepare_rows(manifest, experiment, settings, config["seed"])
    batches = BeatBatches(
        fit_rows,
        experiment_classes(experiment),
        input_size=settings.model.input_size,
        batch_size=settings.train.batch_size,
        use_rr=bool(settings.model.rr_features),
        rr_columns=rr_columns(settings.model.rr_irregularity),
        root=workdir,
        order="shuffle",
        seed=config["seed"],
    )
    counts = sorted({n for n in (1, 2, 4, args.threads) if n <= args.threads})
    rates = [feed_rate(batches, n, args.seconds) for n in counts]
    for rate in rates:
        print(f"feed: {rate}", flush=True)
    packed = bool(config.get("pack_images"))
    write_json(
        args.out,
        {
            "what": "BeatBatches batches read ("
            + ("packed uint8 arrays" if packed else "PNG decode")
            + ", resize, float32) by a thread pool",
            "pack_images": packed,
            "input_size": settings.model.input_size,
            "batch_size": settings.train.batch_size,
            "n_fit_images": len(fit_rows),
            "n_fit_classes": int(fit_rows["label"].nunique()),
            "n_validation": len(val_rows),
            "rates": rates,
        },
    )


# --- plan ---------------------------------------------------------------------------------


def images_per_epoch(train, n_fit: int, n_classes: int) -> int:
    """Images one epoch visits under the training settings (see ecg2d.train), ``n_classes``
    being the classes with training images."""
    from ecg2d.train import SAMPLING_POWER

    if train.balance in SAMPLING_POWER:  # sampling, sqrt: n_classes * samples_per_class
        return n_classes * int(train.samples_per_class)
    return min(n_fit, train.samples_per_epoch or n_fit)


def write_config(args) -> None:
    """The run's configfile, merged over config/config.yaml: the records, and the experiment
    with the preset as it is defined (:func:`ecg2d.settings.preset_keys`: the experiment's own
    keys in config.yaml tune the default preset and must not leak into this one), and
    ``samples_per_epoch`` if given; images packed (``pack_images``)."""
    from ecg2d.settings import preset_keys

    experiment = {"preset": args.preset, **preset_keys(args.preset)}
    if args.samples_per_epoch not in (None, "", "all"):
        experiment["train"]["samples_per_epoch"] = int(args.samples_per_epoch)
    records = "all" if args.records == "all" else args.records.split()
    config = {
        "data_dir": args.data_dir,
        "records": records,
        # the GPU waits on the feed (run 3: PNGs at 8.6-11.1k images/s with 16 threads, the
        # network at 12k): images read from packs, which the feed reads twice as fast on a CPU
        "pack_images": True,
        "experiments": {args.experiment: experiment},
    }
    text = "# written by bench/gpu_paper.sh, merged over config/config.yaml\n"
    Path(args.out).write_text(text + yaml.safe_dump(config, sort_keys=False))


def plan(args) -> None:
    """Choose the dtype policy, the number of epochs and the train job's threads (its feed's:
    the fastest count measured); write the configfile and env file."""
    from ecg2d.config import experiment_classes
    from ecg2d.settings import resolve_settings

    experiment = experiment_of(args)
    settings = resolve_settings(experiment)
    probe_result, feed_result = read_json(args.probe), read_json(args.feed)
    rates = (probe_result or {}).get("policies", {})
    gpu = (probe_result or {}).get("jax_platform") == "gpu"
    policy, why = args.policy, "asked for"
    if policy == "auto":
        f32 = rates.get("float32", {}).get("images_per_s")
        mixed = rates.get("mixed_bfloat16", {}).get("images_per_s")
        if not gpu:
            policy, why = "float32", "auto: no GPU (mixed precision pays only on a GPU)"
        elif f32 and mixed:
            policy = "mixed_bfloat16" if mixed >= MIXED_GAIN * f32 else "float32"
            why = f"auto: probe {mixed:.0f} (mixed_bfloat16) vs {f32:.0f} (float32) images/s"
        else:
            policy, why = "float32", "auto: no probe result"
    model_rate = rates.get(policy, {}).get("images_per_s")
    feed_rates = (feed_result or {}).get("rates", [])
    # the train job reads its images with as many threads as it has: the fastest count
    # measured (the fewest on a tie), since more threads can contend (16 read 11,300 packed
    # images/s on the H200 machine, one 30,000)
    fastest = max(feed_rates, key=lambda r: (r["images_per_s"], -r["threads"]), default=None)
    feed_rate_n, feed_threads = (
        (fastest["images_per_s"], fastest["threads"]) if fastest else (None, None)
    )
    feed_rate_1 = next((r["images_per_s"] for r in feed_rates if r["threads"] == 1), None)
    n_fit = (feed_result or {}).get("n_fit_images")
    n_val = (feed_result or {}).get("n_validation", 0)
    n_classes = (feed_result or {}).get("n_fit_classes") or len(experiment_classes(experiment))
    per_epoch = images_per_epoch(settings.train, n_fit, n_classes) if n_fit else None
    out = {
        "dtype_policy": policy,
        "dtype_policy_reason": why,
        "budget_s": args.budget,
        "preset_epochs": settings.train.epochs,
        "images_per_epoch": per_epoch,
        "model_images_per_s": model_rate,
        "feed_images_per_s": feed_rate_n,
        "feed_images_per_s_1_thread": feed_rate_1,
        "feed_threads": feed_threads,
    }
    epochs = min(settings.train.epochs, args.fallback_epochs)
    why = f"no probe: the preset's {settings.train.epochs}, at most {args.fallback_epochs}"
    if args.epochs:
        epochs, why = int(args.epochs), "EPOCHS"
    elif model_rate and feed_rate_n and per_epoch:
        rate = PLAN_EFFICIENCY * min(model_rate, feed_rate_n)
        # validation after every epoch: its PNGs are read in the main thread, one by one
        val_s = n_val / feed_rate_1 + n_val / (3 * model_rate) if feed_rate_1 else 0.0
        epoch_s = per_epoch / rate + val_s + EPOCH_OVERHEAD_S
        compile_s = rates.get(policy, {}).get("compile_s") or 0.0
        reserve = max(COMPILE_RESERVE_S, 2 * compile_s)
        fit = math.floor((args.budget - reserve) / epoch_s)
        epochs = max(1, min(settings.train.epochs, fit))
        why = (
            f"budget {args.budget:.0f} s, {reserve:.0f} s of it for compiling: {epoch_s:.1f} "
            f"s/epoch planned at {rate:.0f} images/s; at most the preset's {settings.train.epochs}"
        )
        out["planned_epoch_s"] = round(epoch_s, 1)
    out.update(epochs=epochs, epochs_reason=why)
    print(f"plan: {out}", flush=True)
    write_json(Path(args.out_dir) / "plan.json", out)
    Path(args.out_dir, "plan.yaml").write_text(
        yaml.safe_dump({"experiments": {args.experiment: {"train": {"epochs": epochs}}}})
    )
    Path(args.out_dir, "plan.env").write_text(
        f"DTYPE_POLICY_CHOSEN={policy}\nFEED_THREADS_CHOSEN={feed_threads or ''}\n"
    )


# --- report -------------------------------------------------------------------------------


def device_name() -> tuple[str, bool]:
    """(the GPU's name from nvidia-smi, True), or (the CPU model from lscpu, False)."""
    for cmd, gpu in (
        (["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"], True),
        (["lscpu"], False),
    ):
        try:
            text = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        if gpu and text.strip():
            return text.strip().splitlines()[0], True
        match = re.search(r"^Model name:\s*(.+)$", text, re.M)
        if not gpu and match:
            return match.group(1).strip(), False
    return platform.processor() or platform.machine(), False


def epoch_rates(workdir: Path, experiment: str) -> list[float]:
    """The last images/s the Progress callback logged in each epoch (validation excluded)."""
    log = workdir / "logs" / experiment / "train.log"
    last = {}
    if log.is_file():
        for match in re.finditer(
            r"epoch (\d+)/\d+ batch \d+/\d+ .*\((\d+) images/s\)", log.read_text()
        ):
            last[int(match.group(1))] = float(match.group(2))
    return [last[k] for k in sorted(last)]


def _index_in(order: list[str]):
    return lambda key: order.index(key) if key in order else len(order)


def _benchmark_seconds(path: Path) -> float | None:
    """Wall-clock seconds (column ``s``) of a Snakemake benchmark file, if there."""
    if not path.is_file():
        return None
    header, values = path.read_text().splitlines()[:2]
    return round(float(dict(zip(header.split("\t"), values.split("\t")))["s"]), 1)


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("keras", "jax", "jaxlib", "numpy", "snakemake"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def report(args) -> None:
    """``gpu_paper.json``: device, versions, settings, seconds per stage, images/s, scores."""
    workdir = Path(args.workdir)
    results = workdir / "results" / args.experiment
    info = read_json(results / "model.json") or {}
    metrics = read_json(results / "metrics.json") or {}
    given = dict(item.partition("=")[::2] for item in args.seconds)
    order = ["setup", "data", "probe_wait", "feed", "train_evaluate", "total"]
    seconds = {k: round(float(given[k]), 1) for k in sorted(given, key=_index_in(order))}
    for rule in ("train", "evaluate"):  # the jobs alone, from their Snakemake benchmark files
        seconds[f"{rule}_job"] = _benchmark_seconds(
            workdir / "results/benchmarks" / args.experiment / f"{rule}.tsv"
        )
    name, gpu = device_name()
    per_epoch = []
    history = results / "history.csv"
    if history.is_file():
        import csv

        with open(history) as handle:
            per_epoch = [float(row["seconds"]) for row in csv.DictReader(handle)]
    n_epoch = info.get("images_per_epoch") or 0
    macro = metrics.get("macro") or {}
    probe_result = read_json(args.probe)
    if probe_result and probe_result.get("jax_platform"):  # the probe has asked JAX already
        device = {k: probe_result[k] for k in ("jax_platform", "jax_device")}
    else:
        device = accelerator()
    out = {
        "device": name,
        "gpu": gpu,
        "cpu_cores": os.cpu_count(),
        "backend": info.get("backend"),
        "versions": versions(),
        **device,
        "experiment": args.experiment,
        "preset": info.get("preset"),
        "records": args.records,
        "status": args.status,
        "dtype_policy": args.policy,
        "train_settings": info.get("train"),
        "seconds": seconds,
        "n_train_images": info.get("n_train_images"),
        "images_per_epoch": n_epoch,
        "epochs_run": info.get("epochs_run"),
        "best_epoch": info.get("best_epoch"),
        "images_seen": info.get("images_seen"),
        "training_seconds": info.get("training_seconds"),
        # model.json's training record: all images seen over the whole fit (compile and the
        # validation after each epoch included)
        "images_per_s": (
            round(info["images_seen"] / info["training_seconds"], 1)
            if info.get("training_seconds")
            else None
        ),
        # per epoch (history.csv, validation included) and as the Progress log saw it
        "epoch_images_per_s": [round(n_epoch / s, 1) for s in per_epoch if s > 0],
        "epoch_images_per_s_logged": epoch_rates(workdir, args.experiment),
        "accuracy": metrics.get("accuracy"),
        "macro_sensitivity": macro.get("sensitivity"),
        "macro_ppv": macro.get("ppv"),
        "macro_f1": macro.get("f1"),
        "n_test": metrics.get("n_test"),
        "probe": probe_result,
        "feed": read_json(args.feed),
        "plan": read_json(args.plan),
    }
    write_json(args.out, out)
    print(json.dumps({k: out[k] for k in ("device", "images_per_s", "accuracy")}), flush=True)


# --- wheels -------------------------------------------------------------------------------

#: What the workflow needs (snakemake, data stages, training on Keras/JAX, evaluation) that
#: the GPU machine's image lacks (device KINDS.md package list, 2026-11-17), with pandas
#: carried for the version this project pins. Versions: those installed in this .venv
#: (requirements.txt pins and what pip resolved for them).
DEVICE_MISSING = (
    "keras namex optree "
    "snakemake snakemake-interface-common snakemake-interface-executor-plugins "
    "snakemake-interface-logger-plugins snakemake-interface-report-plugins "
    "snakemake-interface-scheduler-plugins snakemake-interface-storage-plugins "
    "argparse-dataclass conda-inject configargparse connection-pool docutils dpath "
    "fastjsonschema gitdb gitpython smmap humanfriendly immutables jsonschema "
    "jsonschema-specifications referencing rpds-py jupyter-core nbformat traitlets "
    "platformdirs pydantic pydantic-core annotated-types typing-inspection smart-open "
    "sqlalchemy sqlmodel greenlet tenacity throttler yte wfdb pandas"
).split()
PLATFORM_ARGS = (
    "--only-binary=:all: --python-version 3.12 --implementation cp "
    "--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 "
    "--platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 "
    "--platform manylinux1_x86_64"
).split()


def wheels(args) -> None:
    """Download DEVICE_MISSING, at this environment's versions, as cp312 x86-64 wheels; a
    package published as source only (pure Python) is built into a wheel here."""
    from importlib.metadata import version

    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    for name in DEVICE_MISSING:
        pin = f"{name}=={version(name)}"
        download = [*pip, "download", "--no-deps", *PLATFORM_ARGS, "-d", args.dest, pin]
        if subprocess.run(download, capture_output=True).returncode == 0:
            print(f"wheels: {pin}", flush=True)
            continue
        subprocess.run([*pip, "wheel", "--no-deps", "-w", args.dest, pin], check=True)
        print(f"wheels: {pin} (built from its source distribution)", flush=True)


#: xz with a delta filter over the 3-byte frames of WFDB format 212 (two 12-bit samples):
#: mitdb's 94 MB pack into ~34 MiB (plain xz -9: ~44 MiB), within the device tool's 64 MiB.
XZ_212 = "xz --delta=dist=3 --lzma2=preset=9,lc=0,pb=0 -T0"


def pack_data(args) -> None:
    """The records of ``--data-dir`` (.hea, .dat, .atr, RECORDS, SHA256SUMS; all records or
    ``--records``) as one tar.xz for the GPU machine, which cannot reach ../shared;
    gpu_paper.sh unpacks it and checks the files it holds against SHA256SUMS."""
    data = Path(args.data_dir)
    names = sorted(
        p.name
        for p in data.iterdir()
        if p.suffix in (".hea", ".dat", ".atr") and (not args.records or p.stem in args.records)
    )
    names += [n for n in ("RECORDS", "SHA256SUMS") if (data / n).is_file()]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as out:
        tar = subprocess.Popen(["tar", "-C", str(data), "-cf", "-", *names], stdout=subprocess.PIPE)
        subprocess.run(XZ_212.split(), stdin=tar.stdout, stdout=out, check=True)
        if tar.wait() != 0:
            raise SystemExit("pack-data: tar failed")
    print(f"pack-data: {len(names)} files, {Path(args.out).stat().st_size / 2**20:.1f} MiB")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--experiment", default="jun2018")
    common.add_argument("--config", action="append", default=[], help="configfile (repeatable)")

    p = sub.add_parser("probe", parents=[common])
    p.add_argument("--policies", default=",".join(POLICIES))
    p.add_argument("--steps", type=int, default=30, help="timed steps per policy")
    p.add_argument("--out", required=True)
    p.set_defaults(func=probe)

    p = sub.add_parser("feed", parents=[common])
    p.add_argument("--workdir", required=True)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seconds", type=float, default=5.0, help="per thread count")
    p.add_argument("--out", required=True)
    p.set_defaults(func=feed)

    p = sub.add_parser("config")
    p.add_argument("--experiment", default="jun2018")
    p.add_argument("--preset", default="paper")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--records", default="all", help='"all" or record names')
    p.add_argument("--samples-per-epoch", default=None)
    p.add_argument("--out", required=True)
    p.set_defaults(func=write_config)

    p = sub.add_parser("plan", parents=[common])
    p.add_argument("--probe")
    p.add_argument("--feed")
    p.add_argument("--policy", default="auto", choices=["auto", *POLICIES])
    p.add_argument("--epochs", default="", help="fixed number of epochs (empty: plan)")
    p.add_argument("--budget", type=float, default=330.0, help="training seconds")
    p.add_argument(
        "--fallback-epochs", type=int, default=3, help="at most these epochs without a probe"
    )
    p.add_argument("--out-dir", required=True)
    p.set_defaults(func=plan)

    p = sub.add_parser("report", parents=[common])
    p.add_argument("--workdir", required=True)
    p.add_argument("--records", default="all")
    p.add_argument("--policy", default="float32")
    p.add_argument("--status", type=int, default=0, help="the run's exit status")
    p.add_argument("--seconds", nargs="*", default=[], help="STAGE=SECONDS")
    p.add_argument("--probe")
    p.add_argument("--feed")
    p.add_argument("--plan")
    p.add_argument("--out", required=True)
    p.set_defaults(func=report)

    p = sub.add_parser("wheels")
    p.add_argument("--dest", default=str(REPO / ".whl"))
    p.set_defaults(func=wheels)

    p = sub.add_parser("pack-data")
    p.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "mitdb"))
    p.add_argument("--out", default=str(REPO / ".gpu_data" / "mitdb.tar.xz"))
    p.add_argument("--records", nargs="*", help="only these records (default: all)")
    p.set_defaults(func=pack_data)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
