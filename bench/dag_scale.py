"""How long Snakemake takes to plan (``-n``) the workflow for many records, and its peak memory.

A scratch data folder gets the 48 MIT-BIH records plus symlinked copies of them under new
names (``x0001``...) up to ``--records`` records, with a RECORDS file; jun2018 (intra-patient)
then uses all of them, inter_patient its DS1/DS2 records. Each planner is run as its own
process (default target ``all``, as ``make dryrun`` does), timed, and its peak resident memory
read from the kernel (``ru_maxrss`` of the finished child). Goal: under 30 s for 1,000 records.

    .venv/bin/python bench/dag_scale.py                 # 1,000 records, local and SLURM profile
    .venv/bin/python bench/dag_scale.py --records 200 --cprofile /tmp/dag.prof

Results go to stdout as a Markdown table; ``--out bench/results/dag_scale.md`` writes the file.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
MITDB = (REPO / ".." / "shared" / "data" / "mitdb").resolve()
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
GOAL_S = 30.0


def make_data_dir(root: Path, n_records: int) -> list[str]:
    """``root`` gets the real records and symlinked copies up to ``n_records``; their names."""
    real = (MITDB / "RECORDS").read_text().split()
    names = list(real[:n_records])
    i = 0
    while len(names) < n_records:
        source = real[i % len(real)]
        name = f"x{i + 1:04d}"
        for ext in ("hea", "dat", "atr"):
            (root / f"{name}.{ext}").symlink_to(MITDB / f"{source}.{ext}")
        names.append(name)
        i += 1
    for name in real[:n_records]:
        for ext in ("hea", "dat", "atr"):
            (root / f"{name}.{ext}").symlink_to(MITDB / f"{name}.{ext}")
    (root / "RECORDS").write_text("\n".join(names) + "\n")
    return names


def run_measured(
    cmd: list[str], cwd: Path, cprofile: str | None
) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS in MB, output) of ``cmd`` run as a child process."""
    if cprofile:
        cmd = [sys.executable, "-m", "cProfile", "-o", cprofile, *cmd]
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: run the command with its output in a file
        with open(cwd / "planner.out", "wb") as out:
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            os.chdir(cwd)
            os.execv(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    output = (cwd / "planner.out").read_text(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"planner failed:\n{' '.join(cmd)}\n{output[-4000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, output  # ru_maxrss is in KiB on Linux


def job_total(output: str) -> int:
    match = re.search(r"^total\s+(\d+)$", output, re.M)
    return int(match[1]) if match else -1


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {len(os.sched_getaffinity(0))} cores available, {mem_gb:.0f} GB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def snakemake_version() -> str:
    return subprocess.run(
        [SNAKEMAKE, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    parser.add_argument("--cprofile", help="cProfile output of the local plan (pstats file)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="ecg2d-dag-scale-"))
    try:
        data = scratch / "data"
        data.mkdir()
        names = make_data_dir(data, args.records)
        config = scratch / "config.yaml"
        config.write_text(yaml.safe_dump({"data_dir": str(data)}))
        base = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--configfile", str(config)]
        planners = {
            "local (profiles/default)": [*base, "-n", "--quiet", "rules"],
            "SLURM (profiles/slurm)": [
                *base,
                "-n",
                "--quiet",
                "rules",
                "--workflow-profile",
                str(REPO / "profiles" / "slurm"),
            ],
        }
        rows = []
        for label, cmd in planners.items():
            work = scratch / re.sub(r"\W+", "_", label)
            work.mkdir()
            profile_out = args.cprofile if label.startswith("local") else None
            seconds, cpu, rss, output = run_measured(cmd, work, profile_out)
            rows.append((label, job_total(output), seconds, cpu, rss))
            print(
                f"{label}: {job_total(output)} jobs planned in {seconds:.1f} s "
                f"({cpu:.1f} s CPU), peak RSS {rss:.0f} MB",
                file=sys.stderr,
            )
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)

    today = datetime.date.today().isoformat()
    lines = [
        "# DAG scale: planning the workflow for many records",
        "",
        f"Command: `.venv/bin/python bench/dag_scale.py --records {args.records}` "
        f"(each planner: `snakemake -n --quiet rules`, default target `all`)  ",
        f"Date: {today}  ",
        f"Machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the end  ",
        f"Snakemake {snakemake_version()}; {len(names)} records (48 MIT-BIH records and "
        f"symlinked copies under new names); goal: under {GOAL_S:.0f} s.",
        "",
        "| planner | jobs | wall time (s) | CPU time (s) | peak RSS (MB) | goal met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for label, jobs, seconds, cpu, rss in rows:
        lines.append(
            f"| {label} | {jobs} | {seconds:.1f} | {cpu:.1f} | {rss:.0f} | "
            f"{'yes' if seconds < GOAL_S else 'no'} |"
        )
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report)


if __name__ == "__main__":
    main()
