"""Detector benchmark table: results/detection/ of a workflow run -> bench/results/detection.md.

Run the detection target first (all records, all four detectors; one core is plenty), then this
script on the run's folder:

    .venv/bin/snakemake --cores 1 --directory /tmp/det --config data_dir=$PWD/../shared/data/mitdb \
        detection
    .venv/bin/python bench/detection_table.py /tmp/det --out bench/results/detection.md
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
from pathlib import Path

import pandas as pd

#: Published figures on the whole MIT-BIH Arrhythmia Database (Se, +P in %).
ANCHORS = {
    "hamilton": ("Hamilton & Tompkins 1986", 99.69, 99.77),
    "christov": ("Christov 2004", 99.74, 99.65),
}


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores"


def seconds_per_record(run: Path, detector: str) -> float | None:
    """Mean wall-clock seconds of the detect jobs of ``detector`` (Snakemake benchmarks)."""
    files = sorted((run / "results/benchmarks/detection" / detector).glob("*.tsv"))
    if not files:
        return None
    return float(pd.concat(pd.read_csv(f, sep="\t") for f in files)["s"].mean())


def fmt(value, digits=2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def table(run: Path) -> str:
    summary = json.loads((run / "results/detection/summary.json").read_text())
    records = pd.read_csv(run / "results/detection/records.csv", dtype={"record": str})
    lines = [
        "| detector | records | TP | FN | FP | Se % | +P % | within 50 ms % | raw Se % | raw +P % "
        "| raw within 50 ms % | s/record | published Se / +P % |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, stages in summary["detectors"].items():
        ref, raw = stages["refined"], stages.get("raw", {})
        anchor = ANCHORS.get(name)
        published = f"{anchor[1]} / {anchor[2]} ({anchor[0]})" if anchor else ""
        lines.append(
            f"| {name} | {ref['records']} | {ref['TP']} | {ref['FN']} | {ref['FP']} "
            f"| {fmt(ref['Se'])} | {fmt(ref['+P'])} | {fmt(ref['within_timing'])} "
            f"| {fmt(raw.get('Se'))} | {fmt(raw.get('+P'))} | {fmt(raw.get('within_timing'))} "
            f"| {fmt(seconds_per_record(run, name), 1)} | {published} |"
        )
    lines += ["", "Worst records (refined; Se / +P %):", ""]
    refined = records[records["stage"] == "refined"].copy()
    refined["sum"] = refined["Se"] + refined["+P"]
    for name, rows in refined.groupby("detector", sort=False):
        worst = rows.nsmallest(5, "sum")
        items = ", ".join(f"{r.record} ({r.Se:.1f} / {r['+P']:.1f})" for _, r in worst.iterrows())
        lines.append(f"- {name}: {items}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="working directory of the detection run")
    parser.add_argument("--out", type=Path, default=Path("bench/results/detection.md"))
    parser.add_argument("--notes", type=Path, help="markdown appended after the table")
    args = parser.parse_args()
    settings = json.loads((args.run / "results/detection/summary.json").read_text())["settings"]
    header = [
        "# QRS detection on the MIT-BIH Arrhythmia Database",
        "",
        f"- date: {datetime.date.today().isoformat()}",
        f"- machine: {machine()} (shared with other jobs: timings are indicative)",
        "- command: `.venv/bin/snakemake --cores 1 --directory <scratch> "
        "--config data_dir=<mitdb> detection`, then "
        "`.venv/bin/python bench/detection_table.py <scratch>`",
        f"- settings: {json.dumps(settings)}",
        "- scoring: ANSI/AAMI EC57 beat-by-beat, one-to-one matches within 150 ms; references "
        "are the WFDB beat annotations except `!`; ventricular flutter episodes (`[` … `]`, "
        "record 207) are left out; whole records (no 5-minute learning period); lead MLII "
        "(channel 0 for 102 and 104); gross figures over all records.",
        "- refined = each detection moved to the largest |band-passed signal| within ±50 ms "
        "(the beats used downstream); raw = the detector's own output.",
        "",
    ]
    text = "\n".join(header) + "\n" + table(args.run) + "\n"
    if args.notes:
        text += "\n" + args.notes.read_text()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
