"""DS1 probe, not built into the workflow: does a P-wave likeness help the tree expert?

The DS1 folds miss all of record 201's aberrated atrial premature beats (``bench/ds1_records.py``);
a P wave before the beat is the textbook sign that tells an aberrated APC from a PVC. This adds
``bench/ds1_expert_study.py``'s ``p_corr`` (the band-passed 250-70 ms before R, correlated with
the record's median of it) to the ``gbm_premature`` expert's features, as an extra kind
``gbm_p`` registered here only, and runs ``bench/ds1_fusion.py``'s DS1 comparison with its
rule. DS1 only; DS2 is never read.

    .venv/bin/python bench/ds1_pwave_probe.py --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/window_cpb1_cnn/fixed_cpb1_cnn --data-dir ../shared/data/mitdb

Results: ``bench/results/ds1_fusion_pwave_probe.json`` and ``.md``; the likeness's median per
record and beat symbol, for every DS1 record, in ``bench/results/ds1_pwave_probe_medians.json``
(``--medians-only`` writes that alone).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import ds1_fusion  # noqa: E402
from ds1_expert_study import p_wave_corr  # noqa: E402


def main(argv=None) -> None:
    parser = ds1_fusion.probe_parser(__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--medians-only", action="store_true")
    args = parser.parse_args(argv)
    rows = ds1_fusion.ds1_originals(args.manifest)
    rows["p_corr"] = np.nan
    for record, group in rows.groupby("record"):
        rows.loc[group.index, "p_corr"] = p_wave_corr(args.data_dir, record, group["sample"])
    medians = {
        record: {
            symbol: {"beats": int(len(beats)), "median": round(float(beats.median()), 3)}
            for symbol, beats in group.groupby("symbol")["p_corr"]
        }
        for record, group in rows.groupby("record")
    }
    out = REPO / "bench/results/ds1_pwave_probe_medians.json"
    out.write_text(json.dumps(medians, indent=1) + "\n")
    if args.medians_only:
        return
    ds1_fusion.probe_extra_column(rows, "p_corr", "gbm_p", "pwave_probe", args)


if __name__ == "__main__":
    main()
