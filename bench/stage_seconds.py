"""Seconds per stage of a finished run, from the rules' ``benchmark:`` files.

Each stage is a folder of ``results/benchmarks`` holding one file per record (``beats``,
``jun2018/crops``, ...), summed over its jobs, or a single job's file beside such folders
(``jun2018/train``: files in a folder that has subfolders are stages of their own).

    .venv/bin/python bench/stage_seconds.py /tmp/run --out bench/results/stages.json
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from pathlib import Path


def benchmark_seconds(path: Path) -> float:
    """The wall-clock seconds (column ``s``) of one job's ``benchmark:`` file."""
    with open(path, newline="") as handle:
        return float(next(csv.DictReader(handle, delimiter="\t"))["s"])


def stage_seconds(root: Path) -> dict[str, dict]:
    """{stage: {"jobs": n, "seconds": sum}} of a run's benchmark files."""
    bench = Path(root) / "results" / "benchmarks"
    files = sorted(bench.rglob("*.tsv"))
    if not files:
        raise SystemExit(f"no benchmark files under {bench}")
    per_folder = defaultdict(list)
    for path in files:
        per_folder[path.parent].append(path)
    out = {}
    for folder, paths in per_folder.items():
        rel = folder.relative_to(bench).as_posix()
        beside = any(p.is_dir() for p in folder.iterdir())
        stages = {f"{rel}/{p.stem}": [p] for p in paths} if beside else {rel: paths}
        for stage, group in stages.items():
            seconds = sum(benchmark_seconds(path) for path in group)
            out[stage.removeprefix("./")] = {"jobs": len(group), "seconds": round(seconds, 1)}
    return dict(sorted(out.items()))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", help="working directory of a finished run")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    table = stage_seconds(Path(args.root))
    Path(args.out).write_text(json.dumps(table, indent=1) + "\n")
    for stage, row in table.items():
        print(f"{stage:40s} {row['jobs']:4d} {row['seconds']:8.1f}")


if __name__ == "__main__":
    main()
