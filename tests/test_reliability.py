"""Reliability (GitHub issue 5): bad input, interrupted runs, determinism, concurrency.

Every test runs the real workflow (or the real functions) on two or three mitdb records in a
scratch folder. Damaged records are built in tmp folders from symlinks to the read-only shared
copy, with only the damaged file written anew. Snakemake runs with ``--workflow-profile none``
and explicit flags, so the tests do not depend on profiles/default.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
import wfdb

from ecg2d import atomic, io
from ecg2d.images import PACK, PACK_NAMES, ImageReader
from ecg2d.io import RecordError
from ecg2d.segment import load_beats
from tests.conftest import REPO, SNAKEMAKE, TRAINED_OUTPUTS, run_snakemake, write_config
from tests.test_io import NAN_FRAMES, write_record_with_gaps

RECORDS = ["100", "101"]
EXPERIMENT = "rel"
REL = {
    "protocol": "intra_patient",
    "classes": {"N": "N", "A": "A", "V": "V"},
    "augment": ["A", "V"],
    # A few seconds of training: 3 epochs of 30 batches, long enough to be killed in.
    "preset": "tiny",
    "train": {"epochs": 3, "samples_per_class": 320, "patience": 0},
}
MANIFEST = f"results/{EXPERIMENT}/manifest.csv"
METRICS = f"results/{EXPERIMENT}/metrics.json"
#: The keys and columns of the trained outputs that hold timings (the only
#: parts of them that may differ between two runs on the same CPU).
TIMING_KEYS = {"training_seconds"}
TIMING_COLUMNS = ["seconds"]
NO_PROFILE = ("--workflow-profile", "none")
#: Snakemake's own marker in directory outputs; every other hidden name under results/ would be
#: the leftover of an interrupted atomic write.
SNAKEMAKE_MARKER = ".snakemake_timestamp"


# --- helpers ------------------------------------------------------------------------------------


def snakemake_cmd(workdir: Path, configfile: Path, *args: str) -> list[str]:
    """The command line :func:`tests.conftest.run_snakemake` runs, for runs started in the
    background (to be killed, paused or raced)."""
    return [
        SNAKEMAKE,
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
        *args,
    ]


_STARTED: list[subprocess.Popen] = []


def start(workdir: Path, configfile: Path, *args: str) -> subprocess.Popen:
    """Start Snakemake in its own process group (so the whole run can be signalled)."""
    with open(workdir / "background.log", "w") as log:  # the child keeps its own copy
        proc = subprocess.Popen(
            snakemake_cmd(workdir, configfile, *args),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(os.environ, PYTHONHASHSEED="0"),
        )
    _STARTED.append(proc)
    return proc


@pytest.fixture(autouse=True)
def _no_stray_runs():
    """A test that fails half-way leaves no background run of its own behind."""
    yield
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def output_digests(workdir: Path, records=RECORDS, experiment=EXPERIMENT) -> dict[str, str]:
    """SHA-256 of every data output of ``records`` (beats, PNGs, split, crops) and the manifest.

    Benchmarks (timings) and Snakemake's directory markers are left out: they differ by design.
    """
    results = workdir / "results"
    paths = [results / f"{experiment}/manifest.csv"]
    for record in records:
        paths.append(results / f"beats/{record}.npz")
        paths.append(results / f"{experiment}/split/{record}.csv")
        for folder in (results / f"png/{record}", results / f"{experiment}/crops/{record}"):
            assert folder.is_dir(), folder
            paths += sorted(p for p in folder.iterdir() if p.name != SNAKEMAKE_MARKER)
    return {
        str(p.relative_to(workdir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in paths
        if p.exists()
    }


def hidden_leftovers(workdir: Path) -> list[str]:
    """Hidden files or folders under results/ other than Snakemake's own markers."""
    return sorted(
        str(p.relative_to(workdir))
        for p in (workdir / "results").rglob(".*")
        if p.name != SNAKEMAKE_MARKER
    )


def run_config(path: Path, **overrides) -> Path:
    """A config of the small test experiment (merged over config/config.yaml)."""
    overrides.setdefault("records", RECORDS)
    overrides.setdefault("experiments", {EXPERIMENT: REL})
    return write_config(path, **overrides)


def link_record(src: Path, dst: Path, record: str, as_name: str | None = None) -> None:
    """Make ``record`` of ``src`` available in ``dst`` (as ``as_name``) without copying data.

    Under its own name every file is a symlink; renamed, the header is rewritten (its record
    line and signal file names carry the name) and .dat/.atr are symlinks.
    """
    name = as_name or record
    for suffix in ("dat", "atr"):
        (dst / f"{name}.{suffix}").symlink_to(src / f"{record}.{suffix}")
    if name == record:
        (dst / f"{name}.hea").symlink_to(src / f"{record}.hea")
    else:
        text = (src / f"{record}.hea").read_text()
        (dst / f"{name}.hea").write_text(re.sub(rf"^{record}(?=[ .])", name, text, flags=re.M))


def replace(path: Path, data: bytes | str) -> None:
    """Replace a symlink (never its read-only target) by a file of ``data``."""
    path.unlink(missing_ok=True)
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)


def set_record_line(path: Path, index: int, value: str) -> None:
    """Set field ``index`` of the record line (the header's first line) of ``path``."""
    lines = path.read_text().splitlines(keepends=True)
    fields = lines[0].split()
    fields[index] = value
    lines[0] = " ".join(fields) + "\n"
    replace(path, "".join(lines))


# --- a reference run ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory, mitdb) -> Path:
    """An uninterrupted run of the test experiment on 100 and 101: the outputs to match."""
    root = tmp_path_factory.mktemp("reference")
    config = run_config(root / "config.yaml")
    run_snakemake(root, *NO_PROFILE, "--cores", "2", MANIFEST, METRICS, configfile=config)
    return root


@pytest.fixture(scope="module")
def reference_digests(reference) -> dict[str, str]:
    digests = output_digests(reference)
    n_png = sum("/png/" in path for path in digests)
    assert n_png == sum(
        len(load_beats(reference / f"results/beats/{r}.npz")["sample"]) for r in RECORDS
    )
    return digests


# --- 3. determinism -----------------------------------------------------------------------------


def test_two_clean_runs_are_byte_identical(reference, reference_digests, tmp_path):
    config = run_config(tmp_path / "config.yaml")
    run_snakemake(tmp_path, *NO_PROFILE, "--cores", "2", MANIFEST, configfile=config)
    digests = output_digests(tmp_path)
    assert digests.keys() == reference_digests.keys()
    differing = [path for path in digests if digests[path] != reference_digests[path]]
    assert not differing, differing[:10]
    assert any("/crops/" in path for path in digests)  # crops are compared too


def test_changing_only_the_seed_changes_the_split(reference, tmp_path):
    config = run_config(tmp_path / "config.yaml", seed=7)
    splits = [f"results/{EXPERIMENT}/split/{r}.csv" for r in RECORDS]
    run_snakemake(tmp_path, *NO_PROFILE, "--cores", "2", *splits, configfile=config)
    for record, split in zip(RECORDS, splits):
        # Beats do not depend on the seed.
        beats = f"results/beats/{record}.npz"
        assert (tmp_path / beats).read_bytes() == (reference / beats).read_bytes()
        new = pd.read_csv(tmp_path / split, dtype={"record": str})
        old = pd.read_csv(reference / split, dtype={"record": str})
        same = [c for c in old.columns if c != "split"]
        pd.testing.assert_frame_equal(new[same], old[same])  # the same beats, in order
        if record == "100":  # 2239 N beats: another seed picks other test beats
            assert (new["split"] != old["split"]).sum() > 100
        # Still stratified: each class's test count is the same up to the random rounding.
        for label, group in old.groupby("label"):
            n_old = (group["split"] == "test").sum()
            n_new = (new.loc[new["label"] == label, "split"] == "test").sum()
            assert abs(int(n_old) - int(n_new)) <= 1, (record, label)


# --- 1. bad input -------------------------------------------------------------------------------

#: Damaged records, each a renamed copy of 100 with one fault, and the one error naming it.
BAD_RECORDS = {
    "no_hea": r"record no_hea: missing file \S+/no_hea\.hea",
    "no_dat": r"record no_dat: missing file \S+/no_dat\.dat",
    "no_atr": r"record no_atr: missing file \S+/no_atr\.atr",
    "dat_half": r"record dat_half: signal file \S+/dat_half\.dat is truncated "
    r"\(975000 bytes, header needs 1950000\)",
    "bad_nsig": r"record bad_nsig: header \S+/bad_nsig\.hea: signal count 'two' is not a "
    r"positive integer",
    "bad_fs": r"record bad_fs: header \S+/bad_fs\.hea: sampling rate '-360' is not a positive "
    r"number \(Hz\)",
    "wrong_fs": r"record wrong_fs: beat annotations in \S+/wrong_fs\.atr are 7\.97e-05 s apart "
    r"\(median RR\) at the header's sampling rate of 3\.6e\+06 Hz",
    "other_atr": r"record other_atr: annotation file \S+/other_atr\.atr does not match the "
    r"record's signal: its beats do not sit on QRS complexes",
}


@pytest.fixture(scope="module")
def bad_data(tmp_path_factory, mitdb) -> Path:
    """100 and 101 as they are, and the damaged records of :data:`BAD_RECORDS`."""
    data = tmp_path_factory.mktemp("bad_data")
    for record in RECORDS:
        link_record(mitdb, data, record)
    for name in BAD_RECORDS:
        link_record(mitdb, data, "100", as_name=name)
    (data / "no_hea.hea").unlink()
    (data / "no_dat.dat").unlink()
    (data / "no_atr.atr").unlink()
    replace(data / "dat_half.dat", (mitdb / "100.dat").read_bytes()[: 1950000 // 2])
    set_record_line(data / "bad_nsig.hea", 1, "two")
    set_record_line(data / "bad_fs.hea", 2, "-360")
    set_record_line(data / "wrong_fs.hea", 2, "3600000")
    (data / "other_atr.atr").unlink()
    (data / "other_atr.atr").symlink_to(mitdb / "101.atr")
    return data


def test_damaged_records_fail_alone_with_one_clear_error(bad_data, reference_digests, tmp_path):
    """--keep-going: each damaged record fails with its own message, nothing of it is written,
    and 100 and 101 finish with outputs identical to a clean run's."""
    records = [*RECORDS, *BAD_RECORDS]
    config = run_config(tmp_path / "config.yaml", data_dir=str(bad_data), records=records)
    proc = run_snakemake(
        tmp_path, *NO_PROFILE, "--cores", "2", "--keep-going", MANIFEST,
        configfile=config, check=False,
    )  # fmt: skip
    out = proc.stdout
    assert proc.returncode != 0
    for name, message in BAD_RECORDS.items():
        # One line on the console, from the job: 'ecg2d error in rule beats: <message>'.
        lines = re.findall(rf"^ecg2d error in rule beats: {message}.*$", out, re.M)
        assert len(lines) == 1, (name, out[-5000:])
        log = (tmp_path / f"logs/beats/{name}.log").read_text()
        assert re.search(message, log), log  # the log file has it too, with the traceback
        assert not (tmp_path / f"results/beats/{name}.npz").exists()
        assert not (tmp_path / f"results/png/{name}").exists()
    assert "Traceback" not in out  # tracebacks go to the job logs, not the console
    assert hidden_leftovers(tmp_path) == []
    # The manifest needs every record, so it is not made; the good records' outputs are whole.
    assert not (tmp_path / MANIFEST).exists()
    digests = output_digests(tmp_path)
    expected = {k: v for k, v in reference_digests.items() if not k.endswith("manifest.csv")}
    assert digests == expected


def test_damaged_record_stops_a_run_without_keep_going(bad_data, tmp_path):
    config = run_config(
        tmp_path / "config.yaml", data_dir=str(bad_data), records=["dat_half", "100"]
    )
    proc = run_snakemake(
        tmp_path, *NO_PROFILE, "--cores", "1", MANIFEST, configfile=config, check=False
    )
    assert proc.returncode != 0
    assert re.search(BAD_RECORDS["dat_half"], proc.stdout)
    assert "Exiting because a job execution failed" in proc.stdout
    assert not (tmp_path / "results/beats/dat_half.npz").exists()
    assert hidden_leftovers(tmp_path) == []


def write_beatless_record(mitdb: Path, data: Path, name: str) -> None:
    """Record ``name``: 100's signal, annotations with rhythm, noise and artefact marks only."""
    link_record(mitdb, data, "100", as_name=name)
    (data / f"{name}.atr").unlink()
    wfdb.wrann(
        name,
        "atr",
        np.array([18, 100000, 200000, 300000]),
        symbol=["+", "~", "|", "~"],
        aux_note=["(N", "", "", ""],
        fs=360,
        write_dir=str(data),
    )


def test_records_without_beats_of_any_class_give_empty_outputs(mitdb, tmp_path):
    """A record with no beats at all, and one without beats of an experiment's classes: empty,
    valid outputs; the manifests build; a class without training beats is a warning."""
    data = tmp_path / "data"
    data.mkdir()
    for record in ("100", "115"):  # 115: 1953 N beats, no A or V
        link_record(mitdb, data, record)
    write_beatless_record(mitdb, data, "beatless")
    experiments = {
        "av": {"protocol": "intra_patient", "classes": {"A": "A", "V": "V"}, "augment": ["A"]},
        "nov": {
            "protocol": "inter_patient",
            "classes": {"N": "N", "A": "A", "V": "V"},
            "train_records": ["115", "beatless"],
            "test_records": ["100"],
        },
    }
    config = run_config(
        tmp_path / "config.yaml",
        data_dir=str(data),
        records=["100", "115", "beatless"],
        experiments=experiments,
    )
    targets = [f"results/{name}/manifest.csv" for name in experiments]
    proc = run_snakemake(tmp_path, *NO_PROFILE, "--cores", "2", *targets, configfile=config)
    results = tmp_path / "results"
    beats = load_beats(results / "beats/beatless.npz")
    assert len(beats["sample"]) == 0 and len(beats["signal"]) == 650000
    assert [p.name for p in (results / "png/beatless").iterdir()] == [SNAKEMAKE_MARKER]
    empty = {
        "av": ["beatless", "115"],
        "nov": ["beatless"],
    }
    for name, records in empty.items():
        manifest = pd.read_csv(results / f"{name}/manifest.csv", dtype={"record": str})
        for record in records:
            split = pd.read_csv(results / f"{name}/split/{record}.csv")
            assert len(split) == 0 and "label" in split.columns
            crops = results / f"{name}/crops/{record}"
            assert [p.name for p in crops.iterdir()] == [SNAKEMAKE_MARKER]
            assert record not in set(manifest["record"])
        assert "100" in set(manifest["record"])
    # nov trains on 115 and beatless (no A or V beat), tests on 100 (33 A, 1 V): a warning.
    warning = (
        "experiment nov: no training beats of classes A, V (test beats: A=33, V=1); a model "
        "trained on this manifest cannot predict them"
    )
    assert warning in proc.stdout
    assert warning in (tmp_path / "logs/nov/manifest.log").read_text()
    assert "experiment av: no training beats" not in proc.stdout


#: Config faults caught before anything runs: (overrides, the error's text).
CONFIG_ERRORS = {
    "unknown_record": ({"records": ["100", "999"]}, "records: unknown record '999'"),
    "record_path": (
        {"records": ["../x"]},
        "config key records.0: '../x' does not match '^[A-Za-z0-9][A-Za-z0-9_-]*$'",
    ),
    "experiment_path": (
        {"experiments": {"../x": REL}},
        "config key experiments: '../x' does not match '^[A-Za-z0-9][A-Za-z0-9_-]*$'",
    ),
    "experiment_key": (
        {"experiments": {EXPERIMENT: {**REL, "clases": {"N": "N"}}}},
        f"config key experiments.{EXPERIMENT}: Additional properties are not allowed "
        "('clases' was unexpected)",
    ),
    "top_level_key": ({"sed": 1}, "config key (top level): Additional properties are not allowed"),
    "class_symbol": (
        {"experiments": {EXPERIMENT: {**REL, "classes": {"N": "N", "Z": "V"}}}},
        f"experiments.{EXPERIMENT}.classes: unknown beat symbol 'Z'",
    ),
    "experiment_record": (
        {
            "experiments": {
                "inter": {
                    "protocol": "inter_patient",
                    "classes": {"N": "N", "V": "V"},
                    "train_records": ["101", "1O1"],
                    "test_records": ["100"],
                }
            }
        },
        "experiments.inter.train_records: unknown record '1O1'",
    ),
}


@pytest.mark.parametrize("case", CONFIG_ERRORS)
def test_config_errors_name_the_key_and_write_nothing(case, tmp_path):
    overrides, message = CONFIG_ERRORS[case]
    config = run_config(tmp_path / "config.yaml", **overrides)
    proc = run_snakemake(tmp_path, *NO_PROFILE, "--cores", "1", configfile=config, check=False)
    assert proc.returncode != 0
    assert proc.stdout.count(message) == 1, proc.stdout[-3000:]
    assert not (tmp_path / "results").exists() and not (tmp_path / "logs").exists()


def test_a_repeated_config_key_is_an_error_not_a_silent_drop(tmp_path):
    """A second ``train:`` block in one experiment: YAML would keep only the last and drop the
    first's settings without a word. The workflow names the file, key and lines instead, and
    writes nothing."""
    config = run_config(tmp_path / "config.yaml")
    lines = config.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{EXPERIMENT}:"))
    indent = " " * (len(lines[at + 1]) - len(lines[at + 1].lstrip()))
    lines[at + 1 : at + 1] = [f"{indent}train: {{epochs: 1}}", f"{indent}train: {{epochs: 2}}"]
    config.write_text("\n".join(lines) + "\n")
    proc = run_snakemake(tmp_path, *NO_PROFILE, "-n", configfile=config, check=False)
    assert proc.returncode != 0
    message = f"config file {config}, line {at + 3}: key 'train' repeats the key at line {at + 2}"
    assert proc.stdout.count(message) == 1, proc.stdout[-3000:]
    assert not (tmp_path / "results").exists() and not (tmp_path / "logs").exists()


def test_checksum_mismatch_discards_the_download(mitdb, tmp_path, monkeypatch):
    sums = io.parse_checksums((mitdb / "SHA256SUMS").read_text())
    # verify_file on its own.
    fake = tmp_path / "100.hea"
    fake.write_text("100 2 360 650000\n")
    with pytest.raises(RecordError, match=r"100\.hea: checksum mismatch .*the file was discarded"):
        io.verify_file(fake, sums)
    assert not fake.exists()
    # download_record with a .dat that arrives damaged: nothing of the record is kept.
    shutil.copy(mitdb / "SHA256SUMS", tmp_path / "SHA256SUMS.txt")

    def dl_files(db, dl_dir, files, keep_subdirs=True, overwrite=False):
        for name in files:
            data = (mitdb / name).read_bytes()
            if name.endswith(".dat"):
                data = data[:-1] + bytes([data[-1] ^ 1])  # one bit flipped
            Path(dl_dir, name).write_bytes(data)

    monkeypatch.setattr(wfdb, "dl_files", dl_files)
    dest = tmp_path / "mitdb"
    with pytest.raises(
        RecordError, match=r"^100\.dat: checksum mismatch \(got [0-9a-f]{64}, expected "
        rf"{sums['100.dat']}\); the file was discarded$",
    ):  # fmt: skip
        io.download_record("100", dest, tmp_path / "SHA256SUMS.txt")
    assert list(dest.iterdir()) == []  # no record files, no temporary folder


# --- silent fixes of bad data: warnings in the job logs (issue 9, item 7) ---------------------


def test_data_warnings_reach_the_job_logs(mitdb, tmp_path):
    """102 (no MLII) and a copy of 100 with 500 invalid samples: the beats jobs succeed, and
    the warnings of ecg2d.io, naming the record and the count, are in their logs."""
    gaps, data = tmp_path / "gaps", tmp_path / "data"
    write_record_with_gaps(mitdb, gaps)  # as record 100 in gaps/
    data.mkdir()
    link_record(gaps, data, "100", as_name="holes")
    for record in (*RECORDS, "102"):  # 100 and 101 keep the shipped experiments valid
        link_record(mitdb, data, record)
    records = [*RECORDS, "102", "holes"]
    config = run_config(tmp_path / "config.yaml", data_dir=str(data), records=records)
    targets = ["results/beats/102.npz", "results/beats/holes.npz"]
    proc = run_snakemake(tmp_path, *NO_PROFILE, "--cores", "1", *targets, configfile=config)
    names = wfdb.rdheader(str(mitdb / "102")).sig_name
    fallback = (  # the shipped lead: MLII, else II
        f"ecg2d.io WARNING record 102: no lead of ['MLII', 'II'] (has {', '.join(names)}): "
        f"reading channel 0 ('{names[0]}') instead"
    )
    n = len(NAN_FRAMES)
    length = wfdb.rdheader(str(mitdb / "100")).sig_len
    nan = f"ecg2d.io WARNING record holes: {n} NaN samples ({100 * n / length:.2f} %) set to 0 mV"
    for record, line in (("102", fallback), ("holes", nan)):
        assert line in (tmp_path / f"logs/beats/{record}.log").read_text(), record
        assert line.split(" WARNING ", 1)[1] in proc.stdout  # and on the console
    assert str(load_beats(tmp_path / "results/beats/102.npz")["lead"]) == names[0]
    assert str(load_beats(tmp_path / "results/beats/holes.npz")["lead"]) == "MLII"


def test_model_json_records_the_data_settings_of_the_config(reference):
    """The data block of the workflow's model.json holds config/config.yaml's values (the run
    overrides none of them) and is what Classifier.data_settings returns."""
    import yaml

    from ecg2d.classifier import Classifier

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    model = reference / f"results/{EXPERIMENT}/model.h5"
    data = json.loads(model.with_suffix(".json").read_text())["data"]
    assert data == {
        "fs": float(config["fs"]),
        "window": {
            "mode": config["window"]["mode"],
            "fixed_ms": [float(v) for v in config["window"]["fixed_ms"]],
            "amplitude": config["window"]["amplitude"],
            "leads": config["window"]["leads"],
            "highpass_hz": config["window"].get("highpass_hz"),  # the schema's default: null
            "lowpass_hz": config["window"].get("lowpass_hz"),
        },
        "image_size": config["image_size"],
        "crop": config["crop"],
        "lead": config["lead"],
        "fallback_channel": config["fallback_channel"],
        "lead2": config["lead2"],
        "segmentation": "annotations",  # REL's default
        "detector": None,  # no detector cut these beats
    }
    assert Classifier.load(model).data_settings == data


# --- 2. interruption ----------------------------------------------------------------------------


def kill_when(proc: subprocess.Popen, ready, timeout: float = 300) -> object:
    """SIGKILL the run's whole process group as soon as ``ready()`` returns something truthy.

    Returns what ``ready()`` returned, or None if the run ended first. Polls every millisecond.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        found = ready()
        if found:
            jobs = psutil.Process(proc.pid).children(recursive=True)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            _, alive = psutil.wait_procs(jobs, timeout=10)
            assert not alive, f"job processes survived the kill: {alive}"
            return found
        time.sleep(0.001)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("timed out waiting for the moment to kill the run")


def partial_png_dir(workdir: Path):
    """A png temp folder (``results/png/.{record}.tmp-*``) holding some images, if any."""
    png = workdir / "results/png"
    if not png.is_dir():
        return None
    for entry in os.scandir(png):
        if entry.name.startswith(".") and entry.is_dir():
            try:
                if len(os.listdir(entry.path)) >= 20:
                    return Path(entry.path)
            except FileNotFoundError:  # renamed into place meanwhile
                pass
    return None


def resume_after_kill(workdir: Path, config: Path, *targets: str, show_lock=False) -> None:
    """Resume a killed run as README says: --unlock, then rerun with --rerun-incomplete.

    ``show_lock``: first check that a plain rerun is refused, the dead run's lock naming
    --unlock as the way out.
    """
    if show_lock:
        locked = run_snakemake(
            workdir, *NO_PROFILE, "--cores", "2", *targets, configfile=config, check=False
        )
        assert locked.returncode != 0
        assert "Directory cannot be locked" in locked.stdout and "--unlock" in locked.stdout
    # --cores: rules/train.smk sizes its threads by it, even for --unlock.
    run_snakemake(workdir, *NO_PROFILE, "--cores", "1", "--unlock", *targets, configfile=config)
    run_snakemake(
        workdir, *NO_PROFILE, "--cores", "2", "--rerun-incomplete", *targets, configfile=config
    )


def test_sigkill_in_png_stage_then_rerun_matches_a_clean_run(reference_digests, tmp_path):
    config = run_config(tmp_path / "config.yaml")
    for attempt in range(3):  # the png job is short: retry if it finished before the kill
        workdir = tmp_path / f"attempt{attempt}"
        workdir.mkdir()
        proc = start(workdir, config, *NO_PROFILE, "--cores", "1", MANIFEST)
        partial = kill_when(proc, lambda w=workdir: partial_png_dir(w))
        if partial is None:  # finished before the moment came
            continue
        record = partial.name.split(".")[1]
        if partial.exists() and not (workdir / f"results/png/{record}").exists():
            break
    else:
        pytest.fail("could not kill the run in the middle of a png job in 3 attempts")
    # Killed mid-job: the images so far sit in the hidden temp folder, the target is absent.
    assert len(list(partial.iterdir())) >= 20
    assert hidden_leftovers(workdir) == [str(partial.relative_to(workdir))]
    resume_after_kill(workdir, config, MANIFEST, show_lock=True)
    assert output_digests(workdir) == reference_digests
    assert hidden_leftovers(workdir) == []  # the dead job's temp folder was cleaned up


def without_timings(value):
    """A parsed JSON value without its :data:`TIMING_KEYS`, at any depth."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def assert_same_training(workdir: Path, reference: Path) -> None:
    """Training and evaluation outputs of two CPU runs agree: byte for byte, timings aside."""
    folder = f"results/{EXPERIMENT}"
    for name in TRAINED_OUTPUTS:
        new, old = workdir / folder / name, reference / folder / name
        assert new.is_file(), new
        if name.endswith(".json"):
            assert without_timings(json.loads(new.read_text())) == without_timings(
                json.loads(old.read_text())
            ), name
        elif name == "history.csv":
            pd.testing.assert_frame_equal(
                pd.read_csv(new).drop(columns=TIMING_COLUMNS),
                pd.read_csv(old).drop(columns=TIMING_COLUMNS),
            )
        else:  # model weights, predictions, the figures
            assert new.read_bytes() == old.read_bytes(), name


def test_sigkill_in_training_then_rerun_matches_a_clean_run(reference, tmp_path):
    """Killed in epoch 2 of 3, training reruns from scratch to the same model and metrics as
    the uninterrupted reference run (so training is also deterministic on CPU)."""
    workdir = tmp_path / "run"
    # The reference's data stages, Snakemake state included; its training outputs removed.
    shutil.copytree(reference, workdir, symlinks=True)
    for name in TRAINED_OUTPUTS:
        (workdir / f"results/{EXPERIMENT}/{name}").unlink()
    log = workdir / f"logs/{EXPERIMENT}/train.log"
    log.unlink(missing_ok=True)
    config = run_config(workdir / "config.yaml")
    proc = start(workdir, config, *NO_PROFILE, "--cores", "2", METRICS)

    def training_in_epoch_2():
        return log.is_file() and "epoch 1 validation" in log.read_text()

    assert kill_when(proc, training_in_epoch_2), "training ended before it could be killed"
    assert not (workdir / f"results/{EXPERIMENT}/model.h5").exists()
    assert "epoch 3 validation" not in log.read_text()
    resume_after_kill(workdir, config, METRICS)
    assert_same_training(workdir, reference)
    assert hidden_leftovers(workdir) == []


# --- 5. concurrency -----------------------------------------------------------------------------


def test_second_run_on_the_same_directory_is_refused(reference_digests, tmp_path):
    """While a run holds the lock, a second one is refused and the first finishes intact."""
    config = run_config(tmp_path / "config.yaml")
    first = start(tmp_path, config, *NO_PROFILE, "--cores", "1", MANIFEST)
    locks = tmp_path / ".snakemake/locks"
    deadline = time.monotonic() + 300
    while not (locks.is_dir() and any(locks.iterdir())):
        assert first.poll() is None, "the first run ended before it took its lock"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(first.pid, signal.SIGSTOP)  # hold the first run (and its job) inside its lock
    try:
        second = run_snakemake(
            tmp_path, *NO_PROFILE, "--cores", "1", MANIFEST, configfile=config, check=False
        )
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    assert second.returncode != 0
    assert "Directory cannot be locked" in second.stdout
    assert first.wait(timeout=600) == 0, (tmp_path / "background.log").read_text()[-3000:]
    assert output_digests(tmp_path) == reference_digests
    assert hidden_leftovers(tmp_path) == []
    assert not locks.exists() or not any(locks.iterdir())  # the first run released its lock


# --- 4. safe loading ----------------------------------------------------------------------------


class _Payload:
    """Unpickling this creates ``marker``: proof that a loader ran code from a file."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def real_beats(reference) -> Path:
    return reference / "results/beats/100.npz"


def test_pickled_arrays_are_refused(real_beats, tmp_path):
    marker = tmp_path / "code-ran"
    beats = load_beats(real_beats)
    path = tmp_path / "100.npz"
    np.savez(path, **beats, evil=np.array([_Payload(marker)], dtype=object))
    refused = r"100\.npz: refusing to load pickled \(object\) arrays"
    with pytest.raises(ValueError, match=refused):
        io.load_npz(path)
    with pytest.raises(ValueError, match=refused):
        load_beats(path)
    # A bare pickle, and a damaged archive, are refused with the file named too.
    bare = tmp_path / "bare.npz"
    bare.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ValueError, match=r"bare\.npz: refusing to load pickled"):
        load_beats(bare)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(real_beats.read_bytes()[:1000])
    with pytest.raises(ValueError, match=r"cut\.npz: not a readable \.npz file"):
        load_beats(cut)
    # An image pack holding a pickle, memory-mapped or not: refused, the pack named.
    folder = tmp_path / "png"
    folder.mkdir()
    np.save(folder / PACK, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    np.save(folder / PACK_NAMES, np.array(["a.png"]))
    for mmap in (False, True):
        with pytest.raises(ValueError, match=r"pack\.npy: not a readable \.npy array"):
            io.load_array(folder / PACK, mmap=mmap)
    with pytest.raises(ValueError, match=r"pack\.npy: not a readable image pack"):
        ImageReader(tmp_path).read("png/a.png")
    assert not marker.exists()


def test_workflow_refuses_a_pickled_beats_file(real_beats, tmp_path):
    """A crafted results/beats/100.npz stops the png job with the refusal, running nothing."""
    marker = tmp_path / "code-ran"
    beats = load_beats(real_beats)
    (tmp_path / "results/beats").mkdir(parents=True)
    np.savez(
        tmp_path / "results/beats/100.npz", **beats, evil=np.array([_Payload(marker)], dtype=object)
    )
    config = run_config(tmp_path / "config.yaml")
    proc = run_snakemake(
        tmp_path, *NO_PROFILE, "--cores", "1", "results/png/100", configfile=config, check=False
    )
    assert proc.returncode != 0
    assert re.search(
        r"^ecg2d error in rule png: \S+/100\.npz: refusing to load pickled \(object\) arrays",
        proc.stdout,
        re.M,
    ), proc.stdout[-3000:]
    assert not (tmp_path / "results/png/100").exists() and not marker.exists()
    assert hidden_leftovers(tmp_path) == []


#: Code that must never appear in the workflow's code.
FORBIDDEN = {
    "allow_pickle=True": re.compile(r"allow_pickle\s*=\s*True"),
    "eval(": re.compile(r"(?<![\w.])eval\s*\("),
    "exec(": re.compile(r"(?<![\w.])exec\s*\("),
    "pickle.load": re.compile(r"\bpickle\.loads?\s*\("),
}


def test_no_code_unpickles_or_evaluates():
    files = [REPO / "Snakefile", *(REPO / "rules").glob("*.smk")]
    files += [*(REPO / "ecg2d").glob("*.py"), *(REPO / "scripts").glob("*.py")]
    assert len(files) > 15
    found = [
        f"{path.relative_to(REPO)}:{number}: {name}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), 1)
        for name, pattern in FORBIDDEN.items()
        if pattern.search(line.split("#", 1)[0])
    ]
    assert found == []
    # The one np.load of the package refuses pickles.
    loads = [
        f"{path.relative_to(REPO)}: {line.strip()}"
        for path in files
        for line in path.read_text().splitlines()
        if re.search(r"\bnp\.load\s*\(", line)
    ]
    assert loads == ["ecg2d/io.py: return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)"]


@pytest.mark.parametrize("target", ["results/beats/.x.npz", "results/../x/split/100.csv"])
def test_targets_cannot_escape_results(target, tmp_path):
    """Wildcards only match plain names: no rule makes a hidden or an escaping path."""
    config = run_config(tmp_path / "config.yaml")
    proc = run_snakemake(tmp_path, *NO_PROFILE, "-n", target, configfile=config, check=False)
    assert proc.returncode != 0
    assert "MissingRuleException" in proc.stdout and "No rule to produce" in proc.stdout


def test_atomic_writes_clean_up_after_failures_and_dead_jobs(tmp_path):
    target = tmp_path / "out" / "100.npz"
    # A failing write leaves neither the target nor its temporary file.
    with pytest.raises(RuntimeError), atomic.atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert list(target.parent.iterdir()) == []
    # Leftovers of a job killed outright (no cleanup ran) go with the next write of the target,
    # and only they: another target's temp files and look-alike names stay.
    dead_file = target.parent / f"{atomic.temp_prefix(target)}abc123.npz"
    dead_file.write_bytes(b"half")
    folder = tmp_path / "out" / "100"
    dead_dir = folder.parent / f"{atomic.temp_prefix(folder)}xyz"
    (dead_dir / "sub").mkdir(parents=True)
    other = target.parent / f"{atomic.temp_prefix(tmp_path / '1000.npz')}q.npz"
    other.write_bytes(b"other")
    with atomic.atomic_path(target) as tmp:
        tmp.write_bytes(b"whole")
    with atomic.atomic_dir(folder) as tmp:
        (tmp / "a.png").write_bytes(b"png")
    assert sorted(p.name for p in target.parent.iterdir()) == sorted(["100.npz", "100", other.name])
    # Outputs get the usual permissions (umask), not mkstemp's private 0600/0700.
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask
