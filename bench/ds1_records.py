"""Where the inter-patient default misses S beats on DS1, per record, out of fold (DS1 only).

For the configured ``inter_patient`` expert and fusion weight, fuses each seed's out-of-fold CNN
probabilities (``--cnn DIR``, as ``bench/ds1_fusion.py`` reads them) with the out-of-fold expert
(fitted on the other folds' records, :func:`ds1_fusion.oof_expert`) and counts, per DS1 record,
its S beats, how many the fused model, the expert alone and the CNN alone call S, and the false
S calls of the fused model. DS2 rows are dropped before anything is read. It chooses nothing: it
says where a next lever would have to come from.

    .venv/bin/python bench/ds1_records.py \\
        --cnn results/ds1_cv/window_cpb1_cnn/fixed_cpb1_cnn \\
        --manifest <run>/results/inter_patient/manifest.csv --seeds 42
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from ds1_cv import check_folds, machine  # noqa: E402
from ds1_fusion import cnn_table, oof_expert  # noqa: E402


def per_record(table: pd.DataFrame, classes: list[str], p_expert, weight: float) -> pd.DataFrame:
    """S beats per record and how many each model calls S; false S calls of the fused model."""
    from ecg2d.expert import fuse

    names = np.asarray(classes, dtype=object)
    p_cnn = table[[f"p_{c}" for c in classes]].to_numpy()
    calls = {
        "fused": names[fuse(p_cnn, p_expert, weight).argmax(axis=1)],
        "expert": names[p_expert.argmax(axis=1)],
        "cnn": names[p_cnn.argmax(axis=1)],
    }
    s = (table["true"] == "S").to_numpy()
    frame = pd.DataFrame({"record": table["record"].astype(str), "S": s})
    for name, called in calls.items():
        frame[f"S_found_{name}"] = s & (called == "S")
    frame["false_S_fused"] = ~s & (calls["fused"] == "S")
    return frame.groupby("record").sum().astype(int)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cnn", required=True, help="out-of-fold CNN tables (ds1_cv.py train)")
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--config", default=str(REPO / "config/config.yaml"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_records.json"))
    args = parser.parse_args(argv)
    from ecg2d.config import experiment_classes
    from ecg2d.settings import resolve_settings
    from ecg2d.split import read_table

    experiment = yaml.safe_load(Path(args.config).read_text())["experiments"]["inter_patient"]
    classes = experiment_classes(experiment)
    model = resolve_settings(experiment).model
    train_records = [str(r) for r in experiment["train_records"]]
    folds = [[str(r) for r in fold] for fold in experiment["cv_folds"]]
    check_folds(folds, train_records)
    manifest = read_table(args.manifest)
    manifest = manifest[manifest["record"].astype(str).isin(train_records)]
    item = f"{model.expert}@{model.expert_min_leaf}~{model.expert_weights}"
    expert = oof_expert(manifest, train_records, folds, classes, 0, model)
    seeds = {}
    for seed in args.seeds:
        table = cnn_table(args.cnn, seed, len(folds), train_records)
        keys = list(zip(table["record"].astype(str), table["sample"].astype(int)))
        keep = np.array([k in expert for k in keys])
        table = table[keep].reset_index(drop=True)
        p_expert = np.stack([expert[k] for k, kept in zip(keys, keep) if kept])
        counts = per_record(table, classes, p_expert, model.fusion_weight)
        seeds[str(seed)] = counts.to_dict(orient="index")
        print(f"seed {seed} (expert {item}, weight {model.fusion_weight}):")
        print(counts[(counts["S"] > 0) | (counts["false_S_fused"] > 0)].to_string())
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "expert": item,
        "fusion_weight": model.fusion_weight,
        "cnn": args.cnn,
        "per_seed": seeds,
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
