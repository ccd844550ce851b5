"""ecg2d used as a Snakemake ``module`` from another directory, with the user's own config.

The user's folder holds only a ``Snakefile`` (``module ecg2d`` + ``use rule * from ecg2d``)
and ``config/config.yaml`` with one experiment on two records: the workflow must find its own
files (schema, rules, scripts, envs) from there, and plan and run exactly that experiment.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ecg2d.config import validate_config
from tests.conftest import MITDB, REPO, run_snakemake

RECORDS = ["119", "106"]  # both have N and V beats
EXPERIMENT = "nv"
USER_SNAKEFILE = f"""\
configfile: "config/config.yaml"


module ecg2d:
    snakefile:
        "{REPO / "Snakefile"}"
    config:
        config


use rule * from ecg2d
"""
# Small images and the tiny network: the whole run takes seconds.
USER_CONFIG = {
    "data_dir": str(MITDB),
    "records": RECORDS,
    "image_size": 64,
    "crop": {"size": 48, "offsets": [0, 8, 16]},
    "experiments": {
        EXPERIMENT: {
            "protocol": "intra_patient",
            "classes": {"N": "N", "V": "V"},
            "augment": ["V"],
            "preset": "tiny",
            "train": {"epochs": 1, "samples_per_class": 16},
        }
    },
}


def shipped_config() -> dict:
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def job_counts(dry_run: str) -> dict[str, int]:
    """The "Job stats" table of a dry run as {rule: count}."""
    table = dry_run.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", table, re.M)}


def run_module(workdir: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    """Run the user's Snakefile in ``workdir`` (a later --snakefile replaces the repository's)."""
    return run_snakemake(workdir, "--snakefile", str(workdir / "Snakefile"), *args, **kwargs)


@pytest.fixture(scope="module")
def user_dir(tmp_path_factory, mitdb) -> Path:
    root = tmp_path_factory.mktemp("module_user")
    (root / "Snakefile").write_text(USER_SNAKEFILE)
    (root / "config").mkdir()
    (root / "config/config.yaml").write_text(yaml.safe_dump(USER_CONFIG, sort_keys=False))
    return root


def test_module_dry_run_plans_only_the_users_experiment_and_records(user_dir):
    dry = run_module(user_dir, "-n").stdout  # rule all of the module
    counts = job_counts(dry)
    assert counts["train"] == counts["evaluate"] == counts["manifest"] == 1
    assert counts["beats"] == counts["png"] == counts["split"] == len(RECORDS)
    assert not {"detect", "predict_record", "download_record"} & set(counts)
    experiments = set(re.findall(r"results/([A-Za-z0-9_-]+)/(?:manifest|model|metrics)\.", dry))
    assert experiments == {EXPERIMENT}  # none of the shipped experiments
    assert set(re.findall(r"results/beats/(\w+)\.npz", dry)) == set(RECORDS)


def test_module_tiny_run_writes_metrics(user_dir):
    run_module(user_dir, "--cores", "2", f"results/{EXPERIMENT}/metrics.json", timeout=600)
    metrics = json.loads((user_dir / f"results/{EXPERIMENT}/metrics.json").read_text())
    assert metrics["experiment"] == EXPERIMENT and metrics["classes"] == ["N", "V"]
    assert metrics["training"]["preset"] == "tiny" and metrics["n_test"] > 0
    predictions = (user_dir / f"results/{EXPERIMENT}/predictions.csv").read_text()
    assert {line.split(",")[0] for line in predictions.splitlines()[1:]} == set(RECORDS)
    for shipped in shipped_config()["experiments"]:
        assert not (user_dir / "results" / shipped).exists(), shipped


def test_direct_run_merges_over_the_shipped_config_unless_replaced(tmp_path, mitdb):
    user_config = tmp_path / "my_config.yaml"
    user_config.write_text(yaml.safe_dump(USER_CONFIG))
    merged = run_snakemake(tmp_path, "-n", configfile=user_config).stdout
    replaced = run_snakemake(tmp_path, "-n", "--replace-workflow-config", configfile=user_config)
    replaced = replaced.stdout
    shipped = list(shipped_config()["experiments"])
    assert job_counts(merged)["train"] == len(shipped) + 1  # the user's beside the shipped
    assert job_counts(replaced)["train"] == 1


def test_schema_defaults_are_the_shipped_settings():
    """A user's config that sets only experiments gets every other shipped setting."""
    shipped = shipped_config()
    config = {"experiments": copy.deepcopy(shipped["experiments"])}
    validate_config(config, REPO / "config/schema.yaml")
    # experiments and prediction datasets are the user's choice; every other key has a default
    for key in shipped.keys() - {"experiments", "predict"}:
        assert config[key] == shipped[key], key
    assert config["predict"] == {"datasets": {}}


BOOTSTRAP = """
import sys
sys.path.insert(0, sys.argv[1])
from _bootstrap import add_package_path
add_package_path(sys.argv[2])
import ecg2d
print(ecg2d.__file__)
"""


def bootstrap(scripts: Path, scriptdir: str, *flags: str) -> subprocess.CompletedProcess:
    """Import ecg2d the way a script does, with the _bootstrap.py copied into ``scripts``."""
    scripts.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "scripts/_bootstrap.py", scripts)
    return subprocess.run(
        [sys.executable, *flags, "-c", BOOTSTRAP, str(scripts), scriptdir],
        capture_output=True,
        text=True,
        cwd=scripts,
        timeout=60,
    )


def test_bootstrap_prefers_the_workflows_own_package(tmp_path):
    (tmp_path / "ecg2d").mkdir()
    (tmp_path / "ecg2d/__init__.py").write_text("")
    proc = bootstrap(tmp_path / "scripts", str(tmp_path / "scripts"))
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()) == tmp_path / "ecg2d/__init__.py"


def test_bootstrap_uses_the_installed_package_for_a_remote_module(tmp_path):
    url = "https://raw.githubusercontent.com/someone/ecg2d/v0.1.0/scripts"
    proc = bootstrap(tmp_path / "scripts", url)
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()) == REPO / "ecg2d/__init__.py"  # pip install -e .


def test_bootstrap_without_any_ecg2d_names_the_scripts(tmp_path):
    proc = bootstrap(tmp_path / "scripts", str(tmp_path / "scripts"), "-S")  # -S: no site-packages
    assert proc.returncode != 0
    assert "ImportError: ecg2d is neither beside the scripts" in proc.stderr
    assert str(tmp_path / "scripts") in proc.stderr
