"""The Snakemake main process's CPU while a job waits for cores, with and without a setting.

Snakemake's job-rate limiter (``--max-jobs-per-timespan``, default ``100/1s``) re-runs the
scheduler one timespan after every scheduling round, and every finished job starts another such
chain of rounds; the chains live as long as some job is ready but waiting. So after many short
jobs, while one long job holds the cores and another waits (``make run``: one experiment trains,
the other's training waits), the main process re-evaluates the waiting job hundreds of times a
second. This benchmark reproduces that with a workflow of its own: ``--short`` jobs of 0.1 s,
then a job holding both cores for ``--hold`` seconds with a second one waiting behind it. It runs
it once per ``--setting`` (``default``: Snakemake as it is; ``ecg2d``: with the workflow's
:func:`ecg2d.workflow.coalesce_scheduler_reevaluations`; anything else: Snakemake command-line
options), in an empty folder (no workflow profile applies), and reports the
main process's CPU seconds and share of one core during the hold, and its largest number of
threads (each pending re-run is a timer thread).

    .venv/bin/python bench/scheduler_wait.py --out bench/results/scheduler_wait.json \\
        --setting default --setting ecg2d --setting "--max-jobs-per-timespan 100/10s"
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ds1_cv import machine  # noqa: E402
from main_cpu import own_cpu, threads  # noqa: E402

PATCH = """
from ecg2d.workflow import coalesce_scheduler_reevaluations

coalesce_scheduler_reevaluations()
"""
SNAKEFILE = """
N = {short}
rule all:
    input: "held_a", "held_b"
rule short:
    output: "short/{{i}}"
    shell: "sleep 0.1; touch {{output}}"
rule held:
    input: expand("short/{{i}}", i=range(N))
    output: "held_{{x}}"
    threads: 2
    shell: "sleep {hold}; touch {{output}}"
"""


def run(setting: str, short: int, hold: float, snakemake: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        patched = setting == "ecg2d"
        text = (PATCH if patched else "") + SNAKEFILE.format(short=short, hold=hold)
        Path(tmp, "Snakefile").write_text(text)
        options = [] if setting in ("default", "ecg2d") else shlex.split(setting)
        command = [snakemake, "--cores", "2", "-q", "--directory", tmp, *options]
        command += ["--snakefile", str(Path(tmp, "Snakefile"))]
        log = Path(tmp, "snakemake.log").open("w")
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
        samples = []
        while process.poll() is None:
            try:
                cpu, n_threads = own_cpu(process.pid), threads(process.pid)
            except (FileNotFoundError, ProcessLookupError):
                break
            held = Path(tmp, "held_a").exists() + Path(tmp, "held_b").exists()
            samples.append((time.perf_counter() - start, cpu, n_threads, held))
            time.sleep(0.5)
        log.close()
        if process.wait() != 0:
            raise SystemExit(f"{command} failed:\n{Path(tmp, 'snakemake.log').read_text()}")
    # The hold: from the last sample before the first held job finished, back by its length.
    first_done = next(i for i, s in enumerate(samples) if s[3] >= 1)
    end = samples[first_done - 1]
    begin = next(s for s in samples if s[0] >= end[0] - hold + 1)
    return {
        "setting": setting,
        "wall_s": round(samples[-1][0], 1),
        "hold_s": round(end[0] - begin[0], 1),
        "hold_cpu_s": round(end[1] - begin[1], 2),
        "hold_core_share": round((end[1] - begin[1]) / max(end[0] - begin[0], 1e-9), 3),
        "max_threads": max(s[2] for s in samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--setting", action="append", required=True)
    parser.add_argument("--short", type=int, default=200)
    parser.add_argument("--hold", type=float, default=30.0)
    parser.add_argument("--snakemake", default=str(Path(sys.executable).parent / "snakemake"))
    args = parser.parse_args()
    rows = [run(s, args.short, args.hold, args.snakemake) for s in args.setting]
    for row in rows:
        print(json.dumps(row), flush=True)
    result = {"date": date.today().isoformat(), "machine": machine(), "short": args.short}
    result.update({"hold": args.hold, "runs": rows})
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
