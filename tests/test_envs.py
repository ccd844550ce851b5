"""Conda environments of the rules (``--sdm conda``), checked without conda.

Every rule that runs code names an environment file in envs/; each file parses, pins every
package to one version, and pins the versions of requirements.txt (the virtual environment
the tests run in), so a run with ``--sdm conda`` uses what the tests tested. The packages a
rule's script can import (itself and the ecg2d modules it reaches, imports inside functions
included) must be pinned in its environment.

The ecg2d package itself is not in the environments (a conda env file cannot name the
workflow's folder, which differs per checkout): each script calls scripts/_bootstrap.py, which
puts the workflow's own ecg2d/ on ``sys.path`` before the script imports it.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from tests.conftest import MITDB, REPO

ENVS = sorted((REPO / "envs").glob("*.yaml"))
PIN_CONDA = re.compile(r"^([A-Za-z0-9_.-]+)=([0-9][A-Za-z0-9_.]*)$")
PIN_PIP = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[A-Za-z0-9_,.-]+\])?==([0-9][A-Za-z0-9_.]*)$")
# Imported by Snakemake's script preamble from Snakemake's own installation, not the env.
PROVIDED = {"snakemake"}

# Loads the workflow with Snakemake's API (in a subprocess: the API changes the working
# directory) and writes, per rule, what the tests below need.
PROBE = """
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

snakefile, workdir, data_dir, out = sys.argv[1:5]
with SnakemakeApi(OutputSettings()) as api:
    workflow = api.workflow(
        resource_settings=ResourceSettings(cores=1),
        config_settings=ConfigSettings(config={"data_dir": data_dir}),
        snakefile=Path(snakefile),
        workdir=Path(workdir),
    )._workflow
    rules = {}
    for rule in workflow.rules:
        runs = bool(rule.script or rule.shellcmd or rule.wrapper or rule.notebook or rule.is_run)
        rules[rule.name] = {
            # rules made by `use rule ... with:` hold Snakemake source-file objects here
            "snakefile": str(rule.snakefile),
            "conda": None if rule.conda_env is None else str(rule.conda_env),
            "script": None if rule.script is None else str(rule.script),
            "runs_code": runs,
            "log": bool(rule.log),
        }
Path(out).write_text(json.dumps(rules))
"""


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements() -> dict[str, str]:
    """requirements.txt as {normalised name: version}."""
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = PIN_PIP.match(line)
            assert match, f"requirements.txt: {line!r} is not pinned as name==version"
            pins[normalise(match[1])] = match[2]
    return pins


@cache
def env_pins(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(conda pins, pip pins) of an environment file, as {normalised name: version}."""
    env = yaml.safe_load(path.read_text())
    conda, pip = {}, {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for line in dep["pip"]:
                match = PIN_PIP.match(line)
                assert match, f"{path.name}: pip entry {line!r} is not pinned as name==version"
                pip[normalise(match[1])] = match[2]
        else:
            match = PIN_CONDA.match(dep)
            assert match, f"{path.name}: {dep!r} is not pinned as name=version"
            conda[normalise(match[1])] = match[2]
    return conda, pip


@pytest.fixture(scope="module")
def rules(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("envs")
    out = tmp / "rules.json"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(REPO / "Snakefile"), str(tmp), str(MITDB), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(out.read_text())


def rule_file(rule: dict, relative: str) -> Path:
    return (Path(rule["snakefile"]).parent / relative).resolve()


def test_there_are_env_files():
    assert {p.name for p in ENVS} >= {"data.yaml", "train.yaml", "detect.yaml", "report.yaml"}


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_file_parses_and_pins_every_package(path):
    env = yaml.safe_load(path.read_text())
    assert set(env) <= {"name", "channels", "dependencies"}, path.name
    assert "conda-forge" in env["channels"] and "defaults" not in env["channels"]
    conda, pip = env_pins(path)  # asserts every entry is pinned
    assert "python" in conda and pip, path.name


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_pins_agree_with_requirements(path):
    conda, pip = env_pins(path)
    wanted = requirements()
    for name, version in pip.items():
        assert name in wanted, f"{path.name}: {name} is not in requirements.txt"
        assert version == wanted[name], (
            f"{path.name}: {name}=={version}, requirements.txt has {wanted[name]}"
        )
    requires_python = re.search(
        r'requires-python\s*=\s*"([^"]+)"', (REPO / "pyproject.toml").read_text()
    )[1]
    assert conda["python"] in SpecifierSet(requires_python), (path.name, conda["python"])


def test_every_rule_that_runs_code_has_a_log_and_an_env(rules):
    envs = {p.resolve() for p in ENVS}
    running = {name: rule for name, rule in rules.items() if rule["runs_code"]}
    assert {"beats", "png", "split", "crops", "manifest"} <= set(running)
    for name, rule in running.items():
        assert rule["log"], f"rule {name} has no log:"
        assert rule["conda"], f"rule {name} has no conda:"
        assert rule_file(rule, rule["conda"]) in envs, (name, rule["conda"])


def third_party_imports(script: Path) -> set[str]:
    """Top-level names of the packages a script can import, through the ecg2d modules too."""
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    found: set[str] = set()
    seen: set[Path] = set()
    todo = [script]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top == "ecg2d":
                    base = REPO / module.replace(".", "/")
                    todo += [
                        p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()
                    ]
                elif (script.parent / f"{top}.py").is_file():  # a helper beside the script
                    todo.append(script.parent / f"{top}.py")
                elif top not in stdlib:
                    found.add(top)
    return found


def test_env_of_each_rule_pins_what_its_script_imports(rules):
    distributions = importlib.metadata.packages_distributions()
    checked = 0
    for name, rule in sorted(rules.items()):
        if not rule["script"]:
            continue
        conda, pip = env_pins(rule_file(rule, rule["conda"]))
        for module in sorted(third_party_imports(rule_file(rule, rule["script"])) - PROVIDED):
            dists = {normalise(d) for d in distributions.get(module, [module])}
            assert dists & (set(pip) | set(conda)), (
                f"rule {name}: its script imports {module} ({', '.join(sorted(dists))}), "
                f"which {rule['conda']} does not pin"
            )
        checked += 1
    assert checked >= 6


def bootstrap_and_first_ecg2d_lines(script: Path) -> tuple[int | None, int | None]:
    """Line of the script's ``add_package_path(...)`` call and of its first ecg2d import."""
    call = first = None
    for node in ast.walk(ast.parse(script.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "add_package_path"
        ):
            call = node.lineno if call is None else min(call, node.lineno)
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        if any(name.split(".")[0] == "ecg2d" for name in names):
            first = node.lineno if first is None else min(first, node.lineno)
    return call, first


def test_every_script_finds_ecg2d_before_importing_it(rules):
    scripts = {rule_file(rule, rule["script"]) for rule in rules.values() if rule["script"]}
    for script in sorted(scripts):
        call, first = bootstrap_and_first_ecg2d_lines(script)
        if first is not None:
            assert call is not None and call < first, (
                f"{script.name} imports ecg2d (line {first}) before "
                "add_package_path(snakemake.scriptdir) of scripts/_bootstrap.py"
            )
    assert len(scripts) >= 6
