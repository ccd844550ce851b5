"""Run a command and measure the CPU its main process uses itself (children excluded).

    .venv/bin/python bench/main_cpu.py --out bench/results/make_run_cpu.json -- \\
        .venv/bin/snakemake --cores 2 --config data_dir=...

Every ``--every`` seconds the main process's own user+system CPU time (``/proc/PID/stat``
fields 14-15, which leave out its children: Snakemake's jobs) and its number of threads are
sampled; at the end the JSON holds the wall time, the main process's CPU seconds and share of
one core, the samples ``[seconds, cpu seconds, threads]``, the machine and the exit status.
For the Snakemake main process's share while jobs wait (issue 11).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ds1_cv import machine  # noqa: E402


def own_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def threads(pid: int) -> int:
    """How many threads the process has (``Threads:`` of ``/proc/PID/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--every", type=float, default=10.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    start = time.perf_counter()
    process = subprocess.Popen(command)
    samples, cpu = [], 0.0
    while process.poll() is None:
        try:
            cpu, n_threads = own_cpu(process.pid), threads(process.pid)
        except (FileNotFoundError, ProcessLookupError):
            break
        samples.append([round(time.perf_counter() - start, 1), round(cpu, 2), n_threads])
        time.sleep(args.every)
    rc = process.wait()
    wall = time.perf_counter() - start
    result = {
        "command": command,
        "date": date.today().isoformat(),
        "machine": machine(),
        "returncode": rc,
        "wall_s": round(wall, 1),
        "main_cpu_s": round(cpu, 1),
        "main_core_share": round(cpu / wall, 3),
        "max_threads": max((s[2] for s in samples), default=0),
        "samples": samples,
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}))


if __name__ == "__main__":
    main()
