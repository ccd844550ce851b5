"""Data-stage benchmark: all records through beats -> png -> split -> crops -> manifest.

Runs the workflow's manifest targets in a scratch folder with ``--cores N`` and reports the wall
time, the summed job time per stage (from the rules' ``benchmark:`` files), and the bytes and
file count each stage leaves on disk.

Usage: .venv/bin/python bench/data_stages.py [--workdir /tmp/ecg2d-bench] [--cores 2]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
STAGES = {
    "beats": "results/beats",
    "png": "results/png",
    "jun2018 crops": "results/jun2018/crops",
    "inter_patient crops": "results/inter_patient/crops",
    "jun2018 split+manifest": "results/jun2018/split",
    "inter_patient split+manifest": "results/inter_patient/split",
}


def disk_usage(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="/tmp/ecg2d-bench")
    parser.add_argument("--cores", default="2")
    parser.add_argument("--data-dir", default=str((REPO / "../shared/data/mitdb").resolve()))
    args = parser.parse_args()
    workdir = Path(args.workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    snakemake = Path(sys.executable).with_name("snakemake")
    targets = ["results/jun2018/manifest.csv", "results/inter_patient/manifest.csv"]
    cmd = [
        str(snakemake),
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(workdir),
        "--cores",
        args.cores,
        "--config",
        f"data_dir={args.data_dir}",
        "--quiet",
        "progress",
        "--",
        *targets,
    ]
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - start
    print(f"wall time, --cores {args.cores}: {wall:.1f} s")
    print("| stage | job time (s, summed) | bytes | files |\n|---|---|---|---|")
    bench = workdir / "results/benchmarks"
    job_time = {
        "beats": bench / "beats",
        "png": bench / "png",
        "jun2018 crops": bench / "jun2018/crops",
        "inter_patient crops": bench / "inter_patient/crops",
    }
    for stage, folder in STAGES.items():
        size, count = disk_usage(workdir / folder)
        if "manifest" in stage:
            manifest = workdir / folder.replace("split", "manifest.csv")
            size, count = size + manifest.stat().st_size, count + 1
        seconds = (
            sum(pd.read_csv(f, sep="\t")["s"].iloc[0] for f in job_time[stage].glob("*.tsv"))
            if stage in job_time
            else float("nan")
        )
        print(f"| {stage} | {seconds:.1f} | {size / 1e6:.1f} MB | {count} |")


if __name__ == "__main__":
    main()
