"""The irregularity features over the intervals between non-premature beats, described on DS1 and
the stress test's records (no model fitted, nothing chosen).

Per DS1 record as recorded and per stressed copy (``bench/ds1_stress.py``; a record's name with
``s``), the medians over its N and S beats of log(x + 0.01) of the shipped ``rr_irregularity``,
``rhythm_irregularity`` and ``rhythm_cells`` and of the same computed over the intervals
between consecutive non-premature beats (``bench/ds1_between_rhythm_probe.py``'s
``between_rhythm``). DS1 only; DS2 is never read.

    .venv/bin/python bench/between_rhythm_values.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``--out`` (JSON, default ``bench/results/between_rhythm_values.json``) and its table
(``.md``) beside it.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

SHIPPED = ("rr_irregularity", "rhythm_irregularity", "rhythm_cells")


def medians(beats: dict, is_s) -> dict:
    """``{column: [N median, S median]}`` of log(x + 0.01), shipped and between (``b_*``)."""
    from ds1_between_rhythm_probe import between_rhythm

    columns = {c: np.asarray(beats[c], dtype=np.float64) for c in SHIPPED}
    columns.update(between_rhythm(beats["pre_rr"], beats["upper_rr"]))
    s = is_s(beats["symbol"])

    def median(values, mask):
        return round(float(np.median(np.log(values[mask] + 0.01))), 2) if mask.any() else None

    return {c: [median(v, ~s), median(v, s)] for c, v in columns.items()}


def main(argv=None) -> None:
    import ds1_stress
    from ds1_cv import machine

    args, setting = ds1_stress.description(__doc__, "between_rhythm_values", argv)
    train, stressed, is_s, cut = setting.train, setting.stressed, setting.is_s, setting.cut
    config = setting.config
    records = {}
    for name in train:
        record = ds1_stress.read(args.data_dir, name, config)
        records[name] = medians(cut(record), is_s)
        if name in stressed:
            records[f"{name}s"] = medians(cut(ds1_stress.stressed_record(record, is_s)[0]), is_s)
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": " ".join(["bench/between_rhythm_values.py", *(argv or sys.argv[1:])]),
        "records": records,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    columns = list(next(iter(records.values())))

    def cell(pair):
        return " / ".join("–" if v is None else f"{v:.2f}" for v in pair)

    lines = [
        "# The irregularity features over the intervals between non-premature beats",
        "",
        f"`.venv/bin/python {result['command']}` — {result['date']}, {result['machine']}. "
        "Medians of log(x + 0.01) over each record's N / S beats (a stressed copy: the "
        "record's name with `s`); `b_*`: over the intervals between non-premature beats.",
        "",
        "| record | " + " | ".join(f"`{c}`" for c in columns) + " |",
        "|---|" + "---|" * len(columns),
        *(
            f"| {name} | " + " | ".join(cell(r[c]) for c in columns) + " |"
            for name, r in records.items()
        ),
    ]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
