"""Lint and format gates: ruff, snakefmt and snakemake --lint must be clean."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import MITDB, REPO

BIN = Path(sys.executable).parent


def _run(*cmd):
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_ruff_check():
    _run(str(BIN / "ruff"), "check", ".")


def test_snakefmt_check():
    _run(str(BIN / "snakefmt"), "--check", "Snakefile", "rules")


def test_snakemake_lint():
    proc = _run(str(BIN / "snakemake"), "--lint", "--config", f"data_dir={MITDB}")
    assert "Congratulations" in proc.stdout + proc.stderr
