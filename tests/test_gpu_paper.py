"""bench/gpu_paper.sh, the one-command GPU run of the paper preset, here on the CPU under JAX:
the tiny preset on two records, through the same steps (data stages, probe, feed, plan,
training and evaluation, report) that the GPU machine runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ecg2d.settings import preset_keys
from tests.conftest import REPO

SCRIPT = REPO / "bench" / "gpu_paper.sh"
RECORDS = "100 101"
#: What OUT_DIR holds after a run: no more than the device tool brings back (8 files).
OUT_FILES = [
    "gpu_paper.json",
    "metrics.json",
    "model.json",
    "history.csv",
    "train.tsv",
    "evaluate.tsv",
    "data_stages.tsv",
    "logs.txt",
]


def run_script(out, **env) -> subprocess.CompletedProcess:
    environ = dict(os.environ, PYTHON=sys.executable, **env)
    environ.pop("KERAS_BACKEND", None)  # the script sets jax itself
    return subprocess.run(
        ["bash", str(SCRIPT), str(out)],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory, mitdb):
    """OUT_DIR and working folder of one tiny run, and its output. As on the GPU machine, the
    records come packed (``bench/gpu_paper.py pack-data``) and DATA_DIR does not exist."""
    root = tmp_path_factory.mktemp("gpu_paper")
    out, work, archive = root / "out", root / "work", root / "mitdb.tar.xz"
    pack = [sys.executable, str(REPO / "bench" / "gpu_paper.py"), "pack-data"]
    pack += ["--data-dir", str(mitdb), "--out", str(archive), "--records", *RECORDS.split()]
    subprocess.run(pack, check=True, timeout=300)
    proc = run_script(
        out,
        PRESET="tiny",
        RECORDS=RECORDS,
        DATA_DIR=str(root / "no-data"),
        DATA_ARCHIVE=str(archive),
        WORK_DIR=str(work),
        CORES="2",
        PROBE_STEPS="5",
        FEED_SECONDS="1",
        WHEELS=str(root / "no-wheels"),  # whatever .whl/ holds for the GPU machine
    )
    assert proc.returncode == 0, proc.stdout[-6000:]
    return out, work, proc.stdout


def test_the_records_are_unpacked_and_checked(run, mitdb):
    _, work, stdout = run
    assert "unpacking" in stdout
    for record in RECORDS.split():
        for ext in ("hea", "dat", "atr"):
            name = f"{record}.{ext}"
            assert (work / "mitdb" / name).read_bytes() == (mitdb / name).read_bytes(), name
    config = yaml.safe_load((work / "gpu_paper.yaml").read_text())
    assert config["data_dir"] == str(work / "mitdb")
    assert config["records"] == RECORDS.split()
    assert config["pack_images"] is True  # the feed reads packs: the GPU's limit was the feed
    for record in RECORDS.split():
        assert (work / f"results/png/{record}/pack.npy").is_file(), record


def test_the_script_is_valid_bash():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


def test_out_dir_holds_the_results(run):
    out, _, _ = run
    assert sorted(p.name for p in out.iterdir()) == sorted(OUT_FILES)
    for name in OUT_FILES:
        assert (out / name).stat().st_size > 0, name
    data = pd.read_csv(out / "data_stages.tsv", sep="\t", dtype={"record": str})
    assert {"beats", "png", "jun2018/crops"} <= set(data["stage"])
    assert set(data["record"]) == set(RECORDS.split()) and (data["s"] >= 0).all()
    assert list(pd.read_csv(out / "train.tsv", sep="\t").columns[:2]) == ["s", "h:m:s"]


def test_gpu_paper_json(run):
    out, _, _ = run
    report = json.loads((out / "gpu_paper.json").read_text())
    assert report["status"] == 0 and report["gpu"] is False and report["device"]
    assert report["backend"] == "jax" and report["jax_platform"] == "cpu"
    assert report["versions"]["keras"] and report["versions"]["jax"]
    assert report["experiment"] == "jun2018" and report["preset"] == "tiny"
    assert report["records"] == RECORDS
    assert report["images_per_s"] > 0
    assert 0 <= report["accuracy"] <= 1
    assert report["macro_sensitivity"] is None or 0 <= report["macro_sensitivity"] <= 1
    for stage in ("data", "feed", "train_evaluate", "total", "train_job", "evaluate_job"):
        assert report["seconds"][stage] > 0, stage
    # the probe timed both policies, the feed both thread counts; on a CPU the plan keeps
    # float32 and the tiny preset's single epoch
    assert set(report["probe"]["policies"]) == {"float32", "mixed_bfloat16"}
    assert all(p["images_per_s"] > 0 for p in report["probe"]["policies"].values())
    assert [r["threads"] for r in report["feed"]["rates"]] == [1, 2]
    assert report["plan"]["feed_threads"] in (1, 2)  # the faster, which the train job got
    logs = (out / "logs.txt").read_text()
    assert f"--set-threads train={report['plan']['feed_threads']} evaluate=2" in logs
    assert report["plan"]["dtype_policy"] == report["dtype_policy"] == "float32"
    assert report["plan"]["epochs"] == report["epochs_run"] == 1
    # the plan counted an epoch's images as training did (square-root sampling: 8 classes x 32)
    assert report["plan"]["images_per_epoch"] == report["images_per_epoch"]
    # the preset as defined: its keys win over jun2018's own (samples_per_class 3600 there)
    model = json.loads((out / "model.json").read_text())
    for section, keys in preset_keys("tiny").items():
        for key, value in keys.items():
            assert model[section][key] == value, f"{section}.{key}"


def test_metrics_and_model_are_the_workflows(run):
    out, work, _ = run
    for name in ("metrics.json", "model.json", "history.csv"):
        copied = (out / name).read_bytes()
        assert copied == (work / "results" / "jun2018" / name).read_bytes(), name
    info = json.loads((out / "model.json").read_text())
    assert info["backend"] == "jax" and info["preset"] == "tiny"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_test"] > 0 and metrics["training"]["preset"] == "tiny"


def test_work_dir_inside_results_is_refused(tmp_path):
    proc = run_script(tmp_path / "out", WORK_DIR=str(REPO / "results" / "gpu_paper_scratch"))
    assert proc.returncode == 2 and "scratch folder" in proc.stdout
    assert not (REPO / "results" / "gpu_paper_scratch").exists()


def test_sitecustomize_sets_the_dtype_policy_when_keras_is_imported(tmp_path):
    ours, other = tmp_path / "ours", tmp_path / "other"
    ours.mkdir()
    other.mkdir()
    (ours / "sitecustomize.py").write_text(
        (REPO / "bench" / "gpu_paper_sitecustomize.py").read_text()
    )
    # the sitecustomize it shadows still runs
    (other / "sitecustomize.py").write_text("import builtins\nbuiltins.SHADOWED_RAN = True\n")
    code = (
        "import builtins, keras; print(keras.config.dtype_policy().name, "
        "keras.layers.Dense(1).dtype_policy.compute_dtype, builtins.SHADOWED_RAN)"
    )
    env = dict(
        os.environ,
        KERAS_BACKEND="jax",
        PYTHONPATH=os.pathsep.join([str(ours), str(other), str(REPO)]),
        ECG2D_DTYPE_POLICY="mixed_bfloat16",
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.stdout.split() == ["mixed_bfloat16", "bfloat16", "True"], result.stderr[-2000:]
    env.pop("ECG2D_DTYPE_POLICY")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.stdout.split() == ["float32", "float32", "True"], result.stderr[-2000:]


def _plan(tmp_path, probe: dict | None, feed: dict | None, **options) -> dict:
    """plan.json of ``bench/gpu_paper.py plan`` given a probe and a feed result (in a fresh
    folder under ``tmp_path``)."""
    tmp_path = Path(tempfile.mkdtemp(dir=tmp_path))
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import gpu_paper
    finally:
        sys.path.remove(str(REPO / "bench"))
    config = tmp_path / "config.yaml"  # as the script writes it: the paper preset as defined
    argv = ["config", "--data-dir", str(tmp_path), "--samples-per-epoch", "100000"]
    gpu_paper.main([*argv, "--out", str(config)])
    paths = {}
    for name, data in (("probe", probe), ("feed", feed)):
        paths[name] = tmp_path / f"{name}.json"
        if data is not None:
            paths[name].write_text(json.dumps(data))
    argv = ["plan", "--config", str(config), "--out-dir", str(tmp_path)]
    argv += ["--probe", str(paths["probe"]), "--feed", str(paths["feed"])]
    for key, value in options.items():
        argv += [f"--{key}", str(value)]
    gpu_paper.main(argv)
    return json.loads((tmp_path / "plan.json").read_text())


GPU_PROBE = {
    "jax_platform": "gpu",
    "policies": {
        "float32": {"images_per_s": 5000.0, "compile_s": 20.0},
        "mixed_bfloat16": {"images_per_s": 9000.0, "compile_s": 30.0},
    },
}
FEED = {
    "n_fit_images": 270000,
    "n_validation": 8000,
    "rates": [{"threads": 1, "images_per_s": 4000.0}, {"threads": 16, "images_per_s": 40000.0}],
}


def test_plan_picks_mixed_precision_where_it_pays_and_fits_the_budget(tmp_path):
    plan = _plan(tmp_path, GPU_PROBE, FEED, budget=360)
    folder = Path(tmp_path, next(p.name for p in tmp_path.iterdir()))
    assert plan["dtype_policy"] == "mixed_bfloat16"
    # 100,000 images at 0.7 * 9,000/s, validation (8,000 read at 4,000/s, predicted at
    # 27,000/s) and 1 s for the best weights; 2 * 30 s of the budget for compiling
    epoch_s = 100000 / 6300 + 8000 / 4000 + 8000 / 27000 + 1
    assert plan["planned_epoch_s"] == pytest.approx(epoch_s, abs=0.1)
    assert plan["epochs"] == int((360 - 60) // epoch_s) == 15
    env = "DTYPE_POLICY_CHOSEN=mixed_bfloat16\nFEED_THREADS_CHOSEN=16\n"
    assert (folder / "plan.env").read_text() == env and plan["feed_threads"] == 16
    assert "epochs: 15" in (folder / "plan.yaml").read_text()


def test_plan_keeps_float32_where_mixed_precision_does_not_pay_or_no_gpu(tmp_path):
    slow = {**GPU_PROBE, "policies": {**GPU_PROBE["policies"]}}
    slow["policies"]["mixed_bfloat16"] = {"images_per_s": 5200.0}
    assert _plan(tmp_path, slow, FEED)["dtype_policy"] == "float32"
    cpu = {**GPU_PROBE, "jax_platform": "cpu"}
    assert _plan(tmp_path, cpu, FEED)["dtype_policy"] == "float32"
    # a slow feed limits the epochs; EPOCHS fixes them; no probe: 3 epochs (the paper's 30
    # could overrun the time the GPU machine is lent for)
    slow_feed = {**FEED, "rates": [{"threads": 1, "images_per_s": 500.0}]}
    assert _plan(tmp_path, GPU_PROBE, slow_feed, budget=360)["epochs"] == 1
    assert _plan(tmp_path, GPU_PROBE, FEED, epochs=3)["epochs"] == 3
    plan = _plan(tmp_path, None, None, policy="mixed_bfloat16")
    assert plan["epochs"] == 3 and plan["dtype_policy"] == "mixed_bfloat16"


def test_plan_gives_the_train_job_the_feeds_fastest_thread_count(tmp_path):
    """The train job reads images with as many threads as it has; where more threads contend
    (16 read 11,300 packed images/s on the H200 machine, one 30,000), the plan gives it the
    fastest count the feed measured, the fewest on a tie; none measured: the script's CORES."""
    contended = {
        **FEED,
        "rates": [
            {"threads": 1, "images_per_s": 30000.0},
            {"threads": 2, "images_per_s": 30000.0},
            {"threads": 16, "images_per_s": 11300.0},
        ],
    }
    plan = _plan(tmp_path, GPU_PROBE, contended)
    assert plan["feed_threads"] == 1 and plan["feed_images_per_s"] == 30000.0
    plan = _plan(tmp_path, None, None)
    assert plan["feed_threads"] is None
    script = SCRIPT.read_text()
    assert '--set-threads "train=${FEED_THREADS_CHOSEN:-$CORES}"' in script
