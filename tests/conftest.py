"""Shared fixtures: the real MIT-BIH data, and running the workflow in a scratch folder."""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
MITDB = (REPO / ".." / "shared" / "data" / "mitdb").resolve()
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def load_bench(name: str):
    """A script of bench/ as a module (bench/ on sys.path while it imports, as when it runs)."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "bench"))
    return module


def shipped_prefix(experiment: str) -> str:
    """Where a shipped experiment's beats and images live below results/ (ecg2d.config
    .window_prefix): "" for the top-level window, "windows/{name}/" for a window of its own."""
    from ecg2d.config import window_prefix

    return window_prefix(yaml.safe_load((REPO / "config/config.yaml").read_text()), experiment)


#: What the train and evaluate rules write into results/{experiment}/.
TRAINED_OUTPUTS = [
    "model.h5",
    "model.json",
    "history.csv",
    "training_curves.png",
    "metrics.json",
    "predictions.csv",
    "confusion_matrix.png",
]
#: Experiment settings for end-to-end runs in seconds: the tiny network, one short epoch.
TINY = {"preset": "tiny", "train": {"epochs": 1, "samples_per_class": 16}}
#: Image settings of the tiny end-to-end runs: 32-px beat images, four 24-px crops.
TINY_IMAGES = {"image_size": 32, "crop": {"size": 24, "offsets": [0, 8]}}


def tiny_experiments(validation_record: str = "118") -> dict:
    """Both shipped experiments with :data:`TINY` settings; inter_patient validates on one
    DS1 record."""
    return {
        "jun2018": TINY,
        "inter_patient": {
            **TINY,
            "train": {**TINY["train"], "validation_records": [validation_record]},
        },
    }


@functools.cache
def _segmented(record: str, mode: str) -> dict:
    from ecg2d.io import read_record
    from ecg2d.segment import segment_record

    return segment_record(read_record(MITDB, record), mode)


def segmented(record: str, mode: str = "jun2018") -> dict:
    """``segment_record(read_record(mitdb, record), mode)``, computed once per session (tests
    segment the same records many times over) and handed out as a fresh copy."""
    return {key: value.copy() for key, value in _segmented(record, mode).items()}


@pytest.fixture(scope="session")
def mitdb() -> Path:
    """The read-only MIT-BIH Arrhythmia Database shipped beside the project."""
    if not (MITDB / "RECORDS").is_file():
        pytest.fail(f"MIT-BIH data not found at {MITDB}")
    return MITDB


def write_config(path: Path, **overrides) -> Path:
    """Write a config file of ``overrides`` (merged by Snakemake over config/config.yaml)."""
    overrides.setdefault("data_dir", str(MITDB))
    path.write_text(yaml.safe_dump(overrides, sort_keys=False))
    return path


def run_snakemake(
    workdir: Path, *args: str, configfile: Path | None = None, timeout: float = 900, check=True
) -> subprocess.CompletedProcess:
    """Run the workflow with ``workdir`` as working directory; output is in ``.stdout``."""
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    if configfile is not None:
        cmd += ["--configfile", str(configfile)]
    cmd += list(args)
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        env=env,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-6000:]}")
    return proc


#: Records of the tiny run: inter_patient trains on 101, validates on 118, tests on 100.
REPORT_RECORDS = ["100", "101", "118"]
#: inter_patient's window in the tiny run: a window of its own, one amplitude scale per record,
#: drawn from the monitoring band as the default.
OWN_WINDOW = {
    "mode": "fixed",
    "fixed_ms": [250, 400],
    "amplitude": "record",
    "leads": 1,
    "highpass_hz": 0.5,
    "lowpass_hz": 40,
}


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, mitdb):
    """One finished tiny `snakemake` (rule all) of both experiments, inter_patient with a
    window of its own (OWN_WINDOW), shared by the tests of training, evaluation and the
    report: (workdir, configfile, the dry run of rule all made before it)."""
    root = tmp_path_factory.mktemp("tiny_run")
    experiments = tiny_experiments()
    experiments["inter_patient"]["window"] = OWN_WINDOW
    config = write_config(
        root / "config.yaml", records=REPORT_RECORDS, **TINY_IMAGES, experiments=experiments
    )
    dry = run_snakemake(root, "-n", configfile=config)
    run_snakemake(root, "--cores", "2", configfile=config, timeout=900)
    return root, config, dry.stdout


@pytest.fixture(scope="session")
def tiny_report(tiny_run):
    """The tiny run's report, made as `make report` makes it, shared by tests/test_report.py
    and tests/test_browser.py: (workdir, report.html)."""
    root, config, _ = tiny_run
    out = root / "report.html"
    stylesheet = str(REPO / "report" / "report.css")
    run_snakemake(
        root,
        "--report",
        str(out),
        "--report-stylesheet",
        stylesheet,
        configfile=config,
        timeout=300,
    )
    return root, out
