"""The per-record DAG as Snakemake plans and runs it, asserted from Snakemake's own output."""

import os
import re
import shutil
import time

import pandas as pd
import pytest
import yaml

from tests.conftest import REPO, run_snakemake, shipped_prefix, write_config

RECORDS = ["100", "101", "102"]  # DS2, DS1, paced (excluded from inter_patient)
DS1 = (
    "101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220 223 230"
).split()
DS2 = (
    "100 103 105 111 113 117 121 123 200 202 210 212 213 214 219 221 222 228 231 232 233 234"
).split()
MANIFESTS = ["results/jun2018/manifest.csv", "results/inter_patient/manifest.csv"]
CONFIG = yaml.safe_load((REPO / "config/config.yaml").read_text())


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a Snakemake run or dry-run, as {rule: count}."""
    table = output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {
        m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m[1] != "total"
    }


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, mitdb):
    """A completed tiny run on private copies of three records (so they can be touched)."""
    root = tmp_path_factory.mktemp("workflow")
    data = root / "data"
    data.mkdir()
    for record in RECORDS:
        for ext in ("hea", "dat", "atr"):
            shutil.copy(mitdb / f"{record}.{ext}", data / f"{record}.{ext}")
    config = write_config(root / "config.yaml", data_dir=str(data), records=RECORDS)
    dry = run_snakemake(root, "-n", *MANIFESTS, configfile=config)
    run_snakemake(root, "--cores", "2", *MANIFESTS, configfile=config)
    return root, config, dry.stdout


def test_dry_run_plans_one_job_per_record_and_stage(workdir):
    _, _, dry = workdir
    counts = job_counts(dry)
    assert counts["beats"] == 3 and counts["png"] == 3
    # jun2018 uses all three records, inter_patient only 100 (DS2) and 101 (DS1).
    assert counts["split"] == 5 and counts["crops"] == 5 and counts["manifest"] == 2


def test_outputs_of_every_stage(workdir):
    root, _, _ = workdir
    for record in RECORDS:
        assert (root / f"results/beats/{record}.npz").is_file()
        assert any((root / f"results/png/{record}").glob(f"{record}_*.png"))
        assert (root / f"logs/beats/{record}.log").is_file()
        assert (root / f"results/benchmarks/png/{record}.tsv").is_file()
        assert (root / f"results/benchmarks/jun2018/crops/{record}.tsv").is_file()


def test_manifests_pass_the_leakage_check_and_paths_exist(workdir):
    root, _, _ = workdir
    from ecg2d.split import check_experiment_manifest, read_table

    for manifest_path in MANIFESTS:
        manifest = read_table(root / manifest_path)
        assert {"record", "sample", "symbol", "label", "split", "path", "augmented"} <= set(
            manifest.columns
        )
        assert manifest["augmented"].any()  # crops are there, and checked
        experiment = CONFIG["experiments"][manifest_path.split("/")[1]]
        check_experiment_manifest(manifest, experiment)
        for path in manifest["path"].sample(200, random_state=0):
            assert (root / path).is_file(), path


def test_inter_patient_uses_exactly_ds1_and_ds2(workdir):
    root, _, _ = workdir
    manifest = pd.read_csv(root / MANIFESTS[1], dtype={"record": str})
    assert set(manifest.loc[manifest.split == "train", "record"]) == {"101"} <= set(DS1)
    assert set(manifest.loc[manifest.split == "test", "record"]) == {"100"} <= set(DS2)
    assert "102" not in set(manifest["record"])
    assert set(manifest["label"]) <= {"N", "S", "V", "F", "Q"}


def test_a_leaky_manifest_is_never_written(workdir):
    """A DS2 beat put in train fails the manifest job, naming it; nothing is written."""
    root, config, _ = workdir
    split_csv = root / "results/inter_patient/split/100.csv"
    target = MANIFESTS[1]
    original = split_csv.read_text()
    table = pd.read_csv(split_csv, dtype={"record": str}, keep_default_na=False)
    table.loc[5, "split"] = "train"
    table.to_csv(split_csv, index=False, lineterminator="\n")
    try:
        failed = run_snakemake(root, "--cores", "1", target, configfile=config, check=False)
        assert failed.returncode != 0
        assert f"record 100 sample {table.loc[5, 'sample']} " in failed.stdout
        assert "not in train_records" in failed.stdout
        assert not (root / target).exists()
    finally:
        split_csv.write_text(original)
        run_snakemake(root, "--cores", "1", target, configfile=config)


def test_configured_lists_are_de_chazal():
    inter = CONFIG["experiments"]["inter_patient"]
    assert inter["train_records"] == DS1 and inter["test_records"] == DS2


def test_touching_one_record_reruns_only_its_jobs(workdir):
    root, config, _ = workdir
    unchanged = run_snakemake(root, "-n", *MANIFESTS, configfile=config)
    assert "Nothing to be done" in unchanged.stdout
    later = time.time() + 5
    os.utime(root / "data/101.dat", (later, later))
    plan = run_snakemake(root, "-n", *MANIFESTS, configfile=config)
    counts = job_counts(plan.stdout)
    expected = {"beats": 1, "png": 1, "split": 2, "crops": 2, "manifest": 2}
    if shipped_prefix("inter_patient"):  # its own window: 101's beats and images once more
        expected.update(beats_window=1, png_window=1)
    assert counts == expected
    assert "wildcards: record=101" in plan.stdout and "record=100" not in plan.stdout


def test_dag_and_rulegraph_render(workdir):
    root, config, _ = workdir
    rulegraph = run_snakemake(root, "--rulegraph", "dot", *MANIFESTS, configfile=config).stdout
    assert "digraph snakemake_dag" in rulegraph
    for rule in ("beats", "png", "split", "crops", "manifest"):
        assert f'label = "{rule}"' in rulegraph
    dag = run_snakemake(root, "--dag", "dot", MANIFESTS[0], configfile=config).stdout
    assert "digraph snakemake_dag" in dag and "record: 102" in dag


#: A window drawn from the lead as recorded. A config file's keys are merged into the shipped
#: config's, so an experiment window that leaves the band out keeps the shipped band.
AS_RECORDED = {"highpass_hz": None, "lowpass_hz": None}


@pytest.mark.parametrize(
    "windows, expected",
    [
        # both experiments on one window of their own: its beats are cut once per record
        ({"jun2018": {"mode": "fixed"}, "inter_patient": {"mode": "fixed"}}, {"beats_window": 3}),
        # a window equal to the top-level one is the top-level one (fixed_ms unused by jun2018)
        ({"inter_patient": {"mode": "jun2018", "fixed_ms": [100, 100]}}, {"beats": 3}),
        # one experiment on its own window: its records twice, once per window
        (
            {"inter_patient": {"mode": "midpoint", "amplitude": "record"}},
            {"beats": 3, "beats_window": 2},
        ),
        # drawing the second lead too makes a window of its own: its beats keep that lead
        (
            {"inter_patient": {"mode": "jun2018", "leads": 2}},
            {"beats": 3, "beats_window": 2},
        ),
        # the band makes a window of its own: the same cut drawn from 0.5-40 Hz
        (
            {"jun2018": {"mode": "fixed"}, "inter_patient": {"mode": "fixed", "lowpass_hz": 40}},
            {"beats_window": 5},
        ),
    ],
)
def test_experiments_share_the_beats_of_a_shared_window(tmp_path, mitdb, windows, expected):
    experiments = {name: dict(CONFIG["experiments"][name]) for name in CONFIG["experiments"]}
    for name, window in windows.items():
        experiments[name]["window"] = {**AS_RECORDED, **window}
    config = write_config(tmp_path / "config.yaml", records=RECORDS, experiments=experiments)
    counts = job_counts(run_snakemake(tmp_path, "-n", *MANIFESTS, configfile=config).stdout)
    beats = {rule: counts[rule] for rule in ("beats", "beats_window") if rule in counts}
    assert beats == expected
    assert counts.get("png_window", 0) == expected.get("beats_window", 0)
