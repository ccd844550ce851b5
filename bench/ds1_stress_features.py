"""DS1 stress test, described: the expert's features of N and S beats, as recorded and stressed.

``bench/ds1_stress.py`` finds the configured expert calling almost none of the S beats of DS1
records whose sinus stretches between S beats are cut out. This says which of the expert's
features change when ectopic beats become as many as sinus beats: per feature of ``--expert``
(its ``ecg2d.expert.KIND_FEATURES``, computed from each record's beats as the expert computes
them), the median over the N beats and over the S beats of the stressed records (DS1 records
with at least ``--min-s`` S beats), as recorded and stressed. No model is fitted and nothing is
chosen. DS1 only; DS2 is never read.

    .venv/bin/python bench/ds1_stress_features.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``--out`` (JSON, default ``bench/results/ds1_stress_features.json``) and its table
(``.md``) beside it.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_stress  # noqa: E402
from ds1_cv import machine  # noqa: E402


def medians(tables: dict, kind: str) -> pd.DataFrame:
    """Median of every feature of ``kind`` per (recorded or stressed, N or S), over the beats of
    ``tables`` (``{record: (original table, stressed table)}``)."""
    from ecg2d.expert import KIND_COLUMNS, KIND_FEATURES, expert_features

    parts = []
    for original, stressed in tables.values():
        for which, table in (("recorded", original), ("stressed", stressed)):
            values = expert_features(table[list(KIND_COLUMNS[kind])].to_numpy(), kind)
            frame = pd.DataFrame(values, columns=list(KIND_FEATURES[kind]))
            frame["which"], frame["true"] = which, table["true"].to_numpy()
            parts.append(frame)
    beats = pd.concat(parts, ignore_index=True)
    beats = beats[beats["true"].isin(["N", ds1_stress.S_CLASS])]
    return beats.groupby(["which", "true"]).median(numeric_only=True).T


def main(argv=None) -> None:
    from ecg2d.expert import KIND_COLUMNS

    extra = [(("--expert",), {"default": "gbm_psinus", "help": "expert kind"})]
    args, setting = ds1_stress.description(__doc__, "ds1_stress_features", argv, extra)
    config, experiment, stressed = setting.config, setting.experiment, setting.stressed
    tables = ds1_stress.stress_tables(
        args.data_dir, stressed, experiment, config, list(KIND_COLUMNS[args.expert])
    )
    table = medians(tables, args.expert)
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": " ".join(["bench/ds1_stress_features.py", *(argv or sys.argv[1:])]),
        "expert": args.expert,
        "stressed_records": stressed,
        "medians": {
            feature: {f"{w} {t}": round(float(v), 3) for (w, t), v in row.items()}
            for feature, row in table.iterrows()
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    columns = list(table.columns)
    lines = [
        "# DS1 stress test: the expert's features of N and S beats, recorded and stressed",
        "",
        f"`.venv/bin/python {result['command']}` — {result['date']}, {result['machine']}. "
        f"Expert `{args.expert}`; records {', '.join(stressed)}; medians over beats.",
        "",
        "| feature | " + " | ".join(f"{w} {t}" for w, t in columns) + " |",
        "|---|" + "---|" * len(columns),
        *(
            f"| `{feature}` | " + " | ".join(f"{row[c]:.2f}" for c in columns) + " |"
            for feature, row in table.iterrows()
        ),
    ]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
