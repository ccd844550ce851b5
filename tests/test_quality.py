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


def _package_imports() -> dict[str, set[str]]:
    """For each module of ecg2d, the ecg2d modules it imports (at any level of the code)."""
    import ast

    graph = {}
    for path in sorted((REPO / "ecg2d").glob("*.py")):
        tree = ast.parse(path.read_text())
        graph[path.stem] = {
            node.module.split(".")[1]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ecg2d.")
        }
    return graph


def test_package_has_no_import_circle():
    graph = _package_imports()
    assert {"train", "evaluate", "io", "segment", "settings"} <= set(graph)

    def reachable(start):
        seen, todo = set(), list(graph[start])
        while todo:
            module = todo.pop()
            if module not in seen:
                seen.add(module)
                todo.extend(graph.get(module, ()))
        return seen

    circles = sorted(m for m in graph if m in reachable(m))
    assert not circles, f"modules in an import circle: {circles}"


def test_package_repeats_no_block_of_six_lines():
    """No six consecutive code lines (stripped; blank lines and comments left out) appear twice
    in the package: shared logic lives in one function."""
    places: dict[tuple, list[str]] = {}
    for path in sorted((REPO / "ecg2d").glob("*.py")):
        lines = [
            (n, text.strip())
            for n, text in enumerate(path.read_text().splitlines(), start=1)
            if text.strip() and not text.strip().startswith("#")
        ]
        for k in range(len(lines) - 5):
            block = tuple(text for _, text in lines[k : k + 6])
            if all(len(text) > 3 for text in block):  # not a run of brackets
                places.setdefault(block, []).append(f"{path.name}:{lines[k][0]}")
    repeated = {block[0]: where for block, where in places.items() if len(where) > 1}
    assert not repeated, f"blocks repeated: {repeated}"
