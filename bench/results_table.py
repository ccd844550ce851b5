"""The results table of a finished run, against the anchors, from its metrics.json files.

Copies ``results/{experiment}/metrics.json`` of each experiment to
``bench/results/metrics_{experiment}.json`` (the machine-readable result kept beside the table)
and writes ``bench/results/results.md``: accuracy and macro Se for every experiment; for AAMI
experiments SVEB and VEB Se / +P in both conventions (EC57 is what the literature reports), each
with its 95 % bootstrap interval.

    cd <run directory> && .venv/bin/python bench/results_table.py jun2018 inter_patient
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from ds1_cv import machine  # noqa: E402

#: Published figures compared like for like (EC57 gross statistics for de Chazal).
ANCHORS = {
    "accuracy": "Jun et al. 2018: 99.05 % (10-fold CV, paper network)",
    "macro_Se": "Jun et al. 2018: 97.85 %",
    "aami_ec57.SVEB": "de Chazal 2004: Se 75.9 / +P 38.5",
    "aami_ec57.VEB": "de Chazal 2004: Se 77.7 / +P 81.9",
}


def pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}"


def interval(ci) -> str:
    return "" if not ci else f" [{pct(ci[0])}, {pct(ci[1])}]"


def rows(name: str, m: dict) -> list[str]:
    out = [
        f"| {name} | accuracy | {pct(m['accuracy'])}{interval(m.get('accuracy_ci95'))} | "
        f"{ANCHORS['accuracy'] if name == 'jun2018' else '—'} |",
        f"| {name} | macro Se | {pct(m['macro']['sensitivity'])}"
        f"{interval(m['macro'].get('sensitivity_ci95'))} | "
        f"{ANCHORS['macro_Se'] if name == 'jun2018' else '—'} |",
    ]
    for convention in ("aami_ec57", "aami_one_vs_rest"):
        for gross, row in (m.get(convention) or {}).items():
            figure = (
                f"Se {pct(row['Se'])}{interval(row.get('Se_ci95'))} / "
                f"+P {pct(row['+P'])}{interval(row.get('+P_ci95'))}"
            )
            anchor = ANCHORS.get(f"{convention}.{gross}", "not comparable with EC57 figures")
            out.append(f"| {name} | {gross} ({convention}) | {figure} | {anchor} |")
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("experiments", nargs="+")
    args = parser.parse_args(argv)
    lines = [
        "# Results of the default configuration (`make run`)",
        "",
        f"`.venv/bin/python bench/results_table.py {' '.join(args.experiments)}` in the run's "
        f"working directory — {date.today().isoformat()}, {machine()}. 95 % bootstrap "
        "intervals in brackets (records resampled for inter-patient, beats for intra-patient); "
        "full metrics in `metrics_{experiment}.json` beside this file.",
        "",
        "| experiment | figure | ecg2d (%) | anchor (%) |",
        "|---|---|---|---|",
    ]
    for name in args.experiments:
        source = Path(f"results/{name}/metrics.json")
        metrics = json.loads(source.read_text())
        shutil.copyfile(source, REPO / "bench" / "results" / f"metrics_{name}.json")
        lines += rows(name, metrics)
    (REPO / "bench" / "results" / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
