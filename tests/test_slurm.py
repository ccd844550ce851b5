"""The SLURM profile (profiles/slurm) run against a live single-node SLURM on this machine.

A private SLURM (munged, slurmctld, slurmd; see tests/slurm_cluster.py) is started for this
module and stopped by its finalizer whatever happens. A tiny configuration (two records, small
images, the tiny network) runs through ``--workflow-profile profiles/slurm``: the data stages
of both experiments as one batched group job, their manifests, then train and evaluate of
jun2018. The assertions use what
SLURM itself says about the jobs (squeue) and the SLURM log files the plugin leaves behind.

Only settings that this one-node test cluster needs are given on the command line: no account
database (``--slurm-status-command squeue``, ``--slurm-no-account``), fast status checks, and
``--cores`` = the node's CPUs (the profile lets a group job use 8). Without SLURM installed the
module is skipped, except under CI=true, where that is a failure (.ci/run installs it).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pandas as pd
import pytest
import yaml

from tests import slurm_cluster
from tests.conftest import REPO, TINY, TINY_IMAGES, run_snakemake, write_config

RECORDS = ["100", "101"]
EXPERIMENTS = ["jun2018", "inter_patient"]  # 100 is in DS2, 101 in DS1
TARGETS = [
    "results/jun2018/manifest.csv",
    "results/inter_patient/manifest.csv",
    "results/jun2018/metrics.json",  # train and evaluate (tiny network)
]
PROFILE = REPO / "profiles" / "slurm"
TIMEOUT_S = 600  # hard limit of the Snakemake run (a lost status update must not hang CI)
SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+) \(log: (\S+)\)")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module")
def cluster(request):
    """A running local SLURM; its finalizer stops every daemon it started."""
    reason = slurm_cluster.unavailable_reason()
    if reason:
        if in_ci():
            pytest.fail(f"CI=true, but no local SLURM can run: {reason}")
        pytest.skip(reason)
    local = slurm_cluster.LocalSlurm()
    request.addfinalizer(local.stop)  # registered first: runs even if start() fails midway
    try:
        local.start()
    except slurm_cluster.SlurmUnavailable as exc:
        if in_ci():
            pytest.fail(f"CI=true, but no local SLURM can run: {exc}")
        pytest.skip(str(exc))
    return local


def largest_memory_request() -> int:
    """The largest mem_mb the profile asks for any rule this test runs, in MB."""
    profile = yaml.safe_load((PROFILE / "profile.yaml").read_text())
    requests = [profile["default-resources"]["mem_mb"]]
    for rule in ("manifest", "train", "evaluate"):
        requests.append(profile["set-resources"].get(rule, {}).get("mem_mb", 0))
    return max(requests)


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory, mitdb):
    """The tiny workflow run through the SLURM profile: (workdir, Snakemake output, seconds)."""
    if largest_memory_request() > cluster.memory_mb:
        pytest.fail(
            f"profiles/slurm asks up to {largest_memory_request()} MB for one job, but this "
            f"machine's test node has {cluster.memory_mb} MB (80 % of RAM): too small a machine"
        )
    root = tmp_path_factory.mktemp("slurm")
    config = write_config(
        root / "config.yaml",
        records=RECORDS,
        **TINY_IMAGES,
        experiments={"jun2018": TINY},
    )
    args = [
        "--workflow-profile",
        str(PROFILE),
        "--cores",
        str(cluster.cpus),
        "--slurm-no-account",
        "--slurm-status-command",
        "squeue",
        "--slurm-init-seconds-before-status-checks",
        "1",
        "--seconds-between-status-checks",
        "2",
        "--slurm-keep-successful-logs",
        "--latency-wait",
        "10",
        *TARGETS,
    ]
    start = time.monotonic()
    try:
        proc = run_snakemake(root, *args, configfile=config, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:  # Snakemake was killed; the finalizer scancels
        output = exc.output or ""
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        pytest.fail(
            f"the SLURM run did not finish within {TIMEOUT_S} s; SLURM's jobs:\n"
            f"{cluster.squeue_all()}\nSnakemake's output:\n{output[-4000:]}"
        )
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        pytest.fail(
            f"snakemake via SLURM failed ({proc.returncode}):\n{proc.stdout[-6000:]}\n"
            f"SLURM's jobs:\n{cluster.squeue_all()}\nslurmctld:\n{cluster.log('slurmctld')}"
        )
    print(f"SLURM run of {len(RECORDS)} records: {elapsed:.0f} s")
    return root, proc.stdout, elapsed


def submitted(output: str) -> dict[str, str]:
    """SLURM job ids -> log file paths, as Snakemake reported the submissions."""
    return {m[1]: m[2] for m in SUBMITTED.finditer(output)}


def test_outputs_of_every_stage_are_made(slurm_run):
    root, _, _ = slurm_run
    for record in RECORDS:
        assert (root / f"results/beats/{record}.npz").is_file()
        assert any((root / f"results/png/{record}").glob("*.png"))
        assert (root / f"logs/beats/{record}.log").is_file()
        for experiment in EXPERIMENTS:
            assert (root / f"results/{experiment}/split/{record}.csv").is_file()
            assert (root / f"results/{experiment}/crops/{record}").is_dir()
    for experiment in EXPERIMENTS:
        assert (root / f"results/{experiment}/manifest.csv").stat().st_size > 0
    assert (root / "results/jun2018/model.h5").stat().st_size > 0
    metrics = json.loads((root / "results/jun2018/metrics.json").read_text())
    predictions = pd.read_csv(root / "results/jun2018/predictions.csv", dtype=str)
    # The SLURM job scored exactly the beats it predicted: its accuracy is theirs.
    assert metrics["experiment"] == "jun2018"
    assert metrics["n_test"] == len(predictions) > 0
    assert metrics["accuracy"] == pytest.approx(
        (predictions["true"] == predictions["predicted"]).mean()
    )


def test_every_job_ran_as_a_slurm_job(slurm_run, cluster):
    root, output, _ = slurm_run
    jobs = submitted(output)
    # One group job for the 12 per-record jobs, then 2 manifests, train and evaluate.
    assert len(jobs) == 5, output[-4000:]
    run_id = re.search(r"SLURM run ID: (\S+)", output)[1]
    known = {}
    squeue = cluster.squeue_all()
    for line in squeue.splitlines():
        if line.count("|") < 3:
            continue
        job_id, name, state, _ = line.split("|", 3)
        known[job_id] = (name, state)
    for job_id, log in jobs.items():
        assert known.get(job_id) == (run_id, "COMPLETED"), (job_id, squeue)
        assert log.startswith(str(root / ".snakemake" / "slurm_logs")), log
        text = open(log).read()
        # The job step ran Snakemake inside the allocation, on the node.
        assert "--executor slurm-jobstep" in text
        assert "Finished jobid" in text, text[-2000:]
    # Nothing that the profile sends to SLURM ran in the submitting Snakemake itself.
    assert not re.search(
        r"^localrule (beats|png|split|crops|manifest|train|evaluate):", output, re.M
    )


def test_per_record_jobs_are_batched_in_one_group_job(slurm_run):
    root, output, _ = slurm_run
    logs = sorted((root / ".snakemake" / "slurm_logs").glob("group_record_*/*.log"))
    assert len(logs) == 1, logs
    text = logs[0].read_text()
    for record in RECORDS:
        for rule in ("beats", "png"):
            assert f"{rule}:record={record}" in text
        for rule in ("split", "crops"):
            for experiment in EXPERIMENTS:
                assert f"{rule}:experiment={experiment},record={record}" in text
    slurm_logs = root / ".snakemake" / "slurm_logs"
    for rule, experiment in [("manifest", e) for e in EXPERIMENTS] + [
        ("train", "jun2018"),
        ("evaluate", "jun2018"),
    ]:
        assert len(list(slurm_logs.glob(f"rule_{rule}/{experiment}/*.log"))) == 1, rule
