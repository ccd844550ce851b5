"""ECG strips benchmark: time ecg2d.strips.plot_strips on full 30-min MIT-BIH records.

Per record, the prediction table is made from the reference beats by
ecg2d.predict.prediction_table (as rule predict_record makes it) with errors all over the record
(every 40th beat relabelled, every 200th missed, 10 extra detections): every 10-s stretch holds
an error, so the row bound is hit (30 rows, the largest figure). The same record is also drawn
without errors (the first minute only: 6 rows). Each figure is drawn --repeat times; the table
gives the median seconds of plot_strips (drawing and writing the PNG) and of reading the record
(ecg2d.predict.read_new_record) and the table (ecg2d.predict.read_table), which rule
predict_strips does too.

Usage: .venv/bin/python bench/strips_bench.py [--data-dir ../shared/data/mitdb]
       [--records 100 208 232] [--repeat 3]
Writes bench/results/strips.md and bench/results/strips.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from ecg2d.atomic import write_csv  # noqa: E402
from ecg2d.io import beat_mask  # noqa: E402
from ecg2d.predict import prediction_table, read_new_record, read_table  # noqa: E402
from ecg2d.strips import plot_strips  # noqa: E402

CLASSES = ["N", "S", "V", "F", "Q"]


def table_with_errors(record, class_map: dict, errors: bool):
    """A prediction table of ``record``'s reference beats (see the module docstring)."""
    is_beat = beat_mask(record.ann_symbol)
    samples, symbols = record.ann_sample[is_beat], record.ann_symbol[is_beat]
    labels = np.array([class_map.get(s, "Q") for s in symbols], dtype=object)
    found = np.ones(len(samples), dtype=bool)
    added = np.zeros(0, dtype=np.int64)
    if errors:
        labels[::40] = np.where(labels[::40] == "N", "V", "N")
        found[5::200] = False
        k = np.linspace(10, len(samples) - 2, 10).astype(int)
        added = (samples[k] + samples[k + 1]) // 2
    sample = np.concatenate([samples[found], added])
    order = np.argsort(sample, kind="stable")
    matched = np.repeat([True, False], [int(found.sum()), len(added)])[order]
    labels = np.concatenate([labels[found], np.full(len(added), "N")])[order]
    beats = {
        "record": record.name,
        "fs": record.fs,
        "sample": sample[order],
        "symbol": np.concatenate([symbols[found], np.full(len(added), "N")])[order],
        "matched": matched,
        "ref_sample": np.where(matched, sample[order], -1),
    }
    proba = np.eye(len(CLASSES), dtype=np.float32)[[CLASSES.index(x) for x in labels]]
    return prediction_table(beats, proba, CLASSES, record, record, class_map, {})


def cpu_model() -> str:
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    return next(
        (ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")),
        "?",
    )


def timed(repeat: int, function, *args, **kwargs):
    """(median seconds of ``repeat`` calls, the last call's result)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared/data/mitdb"))
    parser.add_argument("--records", nargs="+", default=["100", "208", "232"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(REPO / "bench/results/strips"))
    args = parser.parse_args(argv)

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    class_map = config["experiments"]["inter_patient"]["classes"]
    load = os.getloadavg()[0]  # other jobs on the machine make the times pessimistic
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.records:
            read_s, _ = timed(args.repeat, read_new_record, args.data_dir, name)
            record = read_new_record(args.data_dir, name, annotator="atr")
            for errors in (True, False):
                table = table_with_errors(record, class_map, errors)
                csv = Path(tmp, f"{name}.csv")
                write_csv(table, csv)
                table_s, _ = timed(args.repeat, read_table, csv)
                png = Path(tmp, f"{name}.strips.png")
                plot_s, plan = timed(args.repeat, plot_strips, record.signal, record.fs, table,
                                     png, record=name, lead=record.lead)  # fmt: skip
                rows.append(
                    {
                        "record": name,
                        "minutes": round(len(record.signal) / record.fs / 60, 2),
                        "beats": int((table["detected"] == 1).sum()),
                        "errors": errors,
                        "rows": len(plan.starts),
                        "png_kb": round(png.stat().st_size / 1024),
                        "plot_s": round(plot_s, 3),
                        "read_s": round(read_s + table_s, 3),
                    }
                )
                print(rows[-1], flush=True)
    result = {
        "date": datetime.date.today().isoformat(),
        "cpu": cpu_model(),
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        "repeat": args.repeat,
        "load_average_1min_at_start": round(load, 2),
        "records": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(f"{args.out}.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# ECG strips (ecg2d.strips.plot_strips)",
        "",
        f"`.venv/bin/python bench/strips_bench.py` — {result['date']}, {result['cpu']}, "
        f"{result['machine']}; median of {args.repeat} runs; load average {load:.1f} at the "
        "start (other jobs running make the times pessimistic).",
        "",
        "| record | min | beats | table | rows | PNG (KiB) | plot_strips (s) | read record + "
        "table (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        kind = "errors everywhere" if row["errors"] else "no errors"
        lines.append(
            f"| {row['record']} | {row['minutes']} | {row['beats']} | {kind} | {row['rows']} | "
            f"{row['png_kb']} | {row['plot_s']:.2f} | {row['read_s']:.2f} |"
        )
    Path(f"{args.out}.md").write_text("\n".join(lines) + "\n")
    print(Path(f"{args.out}.md").read_text())


if __name__ == "__main__":
    main()
