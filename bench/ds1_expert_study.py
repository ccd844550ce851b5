"""Candidate rhythm-expert features for SVEB +P, compared on DS1 record folds only.

The false SVEBs of the default inter-patient model come mostly from atrial fibrillation and
flutter, where every RR interval is irregular and a short one means nothing. This study asks,
on DS1 folds (DS2 rows are dropped when the manifest is read), whether the expert gains from:

- ``win``: the rhythm's irregularity around the beat: the median of ``rr_irregularity`` over
  the 61 beats centred on it (atrial fibrillation scores high for minutes, an isolated
  premature beat does not);
- ``p``: P-wave likeness: the correlation of the 250..70 ms before the R peak (band-passed) with
  the record's median of that segment;
- ``ix``: interactions of pre-RR, post-RR and prematurity (pre over local RR) with ``win``;
- ``:poly``: all second-order products of the standardised features;
- ``--ensemble``: the CNN's out-of-fold probabilities averaged over its seeds (geometric mean).

Every variant's expert is fitted per fold on the other folds' beats exactly like the default
``rr_shape`` expert (balanced logistic regression, standardised features) and fused with the
out-of-fold CNN probabilities of ``bench/ds1_cv.py`` at weights 0..0.4; scoring and criterion are
``bench/ds1_fusion.py``'s (EC57, mean of SVEB and VEB F1, mean ± sd over the CNN's seeds). The
rule to adopt a variant is ds1_fusion's: its best criterion must beat the default's by more
than the larger seed-to-seed sd.

    .venv/bin/python bench/ds1_expert_study.py \\
        --manifest /tmp/final3/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/irregularity/none --data-dir ../shared/data/mitdb \\
        base win p win_ix win:poly win_p:poly
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
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from ds1_cv import headline, machine  # noqa: E402

CLASSES = ["N", "S", "V", "F", "Q"]
BASE = ["pre_rr", "post_rr", "local_rr", "record_rr", "rr_irregularity"]
BASE += ["qrs_corr", "qrs_amp", "qrs_width"]
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4)
KEYS = ("SVEB_Se", "SVEB_+P", "VEB_Se", "VEB_+P", "criterion")


def p_wave_corr(data_dir: str, record: str, samples) -> np.ndarray:
    from ecg2d.io import read_record
    from ecg2d.shape import band_pass

    rec = read_record(data_dir, record, "MLII", 0)
    x = band_pass(rec.signal, rec.fs)
    a, b = int(round(0.25 * rec.fs)), int(round(0.07 * rec.fs))
    idx = np.clip(np.asarray(samples)[:, None] + np.arange(-a, -b)[None, :], 0, len(x) - 1)
    seg = x[idx]
    centred = seg - seg.mean(axis=1, keepdims=True)
    template = np.median(seg, axis=0)
    template = template - template.mean()
    norms = np.linalg.norm(centred, axis=1) * np.linalg.norm(template)
    return np.where(norms > 0, centred @ template / np.maximum(norms, 1e-12), 0.0)


def with_p_wave(rows: pd.DataFrame, data_dir: str, **derived) -> pd.DataFrame:
    """``rows`` (original beats) sorted by record and sample, with ``p_corr``
    (:func:`p_wave_corr`) and, for every ``name=function`` of ``derived``, a column ``name``:
    ``function`` of the record's ``p_corr`` in time order."""
    rows = rows.sort_values(["record", "sample"]).copy()
    for name in ("p_corr", *derived):
        rows[name] = np.nan
    for record, group in rows.groupby("record"):
        p = p_wave_corr(data_dir, record, group["sample"].to_numpy())
        rows.loc[group.index, "p_corr"] = p
        for name, function in derived.items():
            rows.loc[group.index, name] = function(p)
    return rows


def ds1_beats(manifest: str, ds1: list[str], data_dir: str) -> pd.DataFrame:
    rows = pd.read_csv(manifest, dtype={"record": str})
    rows = rows[rows["record"].isin(ds1) & (rows["augmented"] == 0)]
    rows = rows.sort_values(["record", "sample"]).copy()
    extra = []
    for record, group in rows.groupby("record"):
        irregularity = pd.Series(group["rr_irregularity"].to_numpy())
        window = irregularity.rolling(61, center=True, min_periods=1).median().to_numpy()
        p_corr = p_wave_corr(data_dir, record, group["sample"])
        extra.append(pd.DataFrame({"win_irr": window, "p_corr": p_corr}, index=group.index))
    return rows.join(pd.concat(extra))


def features(rows: pd.DataFrame, variant: str) -> np.ndarray:
    from ecg2d.expert import expert_features

    x = expert_features(rows[BASE].to_numpy(), "rr_shape")
    parts = variant.split(":")[0].split("_")
    window = np.log(rows["win_irr"].to_numpy() + 0.01)
    add = []
    if "win" in parts:
        add.append(window)
    if "p" in parts:
        add.append(rows["p_corr"].to_numpy())
    if "ix" in parts:
        add += [x[:, 0] * window, x[:, 1] * window, (x[:, 0] - x[:, 2]) * window]
    return np.column_stack([x, *add]) if add else x


def oof_expert(rows, folds, variant: str) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import PolynomialFeatures

    out = {}
    for fold in folds:
        train, test = rows[~rows["record"].isin(fold)], rows[rows["record"].isin(fold)]
        xt, xe = features(train, variant), features(test, variant)
        mean, scale = xt.mean(axis=0), xt.std(axis=0) + 1e-6
        xt, xe = (xt - mean) / scale, (xe - mean) / scale
        if variant.endswith(":poly"):
            poly = PolynomialFeatures(2, include_bias=False)
            xt, xe = poly.fit_transform(xt), poly.transform(xe)
        model = LogisticRegression(class_weight="balanced", max_iter=5000)
        model.fit(xt, train["label"])
        p = np.zeros((len(test), len(CLASSES)))
        p[:, [CLASSES.index(c) for c in model.classes_]] = model.predict_proba(xe)
        out.update(zip(zip(test["record"], test["sample"]), p))
    return out


def cnn_tables(folder: str, seeds, n_folds: int, ensemble: bool) -> dict:
    tables = {}
    for seed in seeds:
        paths = [Path(folder) / f"seed{seed}_fold{k}.csv" for k in range(n_folds)]
        frame = pd.concat(
            [pd.read_csv(p, dtype={"record": str, "true": str, "predicted": str}) for p in paths]
        )
        tables[seed] = frame.sort_values(["record", "sample"]).reset_index(drop=True)
    if ensemble:
        first = tables[seeds[0]].copy()
        columns = [f"p_{c}" for c in CLASSES]
        logs = [np.log(t[columns].to_numpy() + 1e-6) for t in tables.values()]
        first[columns] = np.exp(np.mean(logs, axis=0))
        tables = {"ensemble": first}
    return tables


def main(argv=None) -> None:
    from ecg2d.evaluate import metrics_report
    from ecg2d.expert import fuse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--cnn", required=True, help="bench/ds1_cv.py out-of-fold folder")
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared/data/mitdb"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--ensemble", action="store_true")
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_expert_study"))
    args = parser.parse_args(argv)
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    experiment = config["experiments"]["inter_patient"]
    ds1 = [str(r) for r in experiment["train_records"]]
    folds = [[str(r) for r in fold] for fold in experiment["cv_folds"]]
    rows = ds1_beats(args.manifest, ds1, args.data_dir)
    tables = cnn_tables(args.cnn, args.seeds, len(folds), args.ensemble)
    result = {"date": date.today().isoformat(), "machine": machine(), "variants": {}}
    for variant in args.variants:
        expert = oof_expert(rows, folds, variant)
        result["variants"][variant] = {}
        for w in WEIGHTS:
            runs = []
            for table in tables.values():
                p_expert = np.stack([expert[k] for k in zip(table["record"], table["sample"])])
                fused = fuse(table[[f"p_{c}" for c in CLASSES]].to_numpy(), p_expert, w)
                scored = table[["record", "sample", "true"]].copy()
                scored["predicted"] = np.asarray(CLASSES, dtype=object)[fused.argmax(axis=1)]
                runs.append(headline(metrics_report(scored, CLASSES, "x", "inter_patient")))
            result["variants"][variant][str(w)] = {
                k: [
                    100 * float(np.mean([r[k] for r in runs])),
                    100 * float(np.std([r[k] for r in runs], ddof=1)) if len(runs) > 1 else 0.0,
                ]
                for k in KEYS
            }
            cells = " ".join(
                f"{k} {v[0]:.1f}±{v[1]:.1f}" for k, v in result["variants"][variant][str(w)].items()
            )
            print(f"{variant} w={w}: {cells}", flush=True)
    lines = [
        "# Rhythm-expert feature candidates on DS1 folds",
        "",
        f"Command: `.venv/bin/python bench/ds1_expert_study.py {' '.join(sys.argv[1:])}`  ",
        f"Date: {result['date']}; machine: {result['machine']}. EC57, pooled out-of-fold over "
        "the 22 DS1 records, mean ± sd over the CNN's seeds (%); DS2 never read.",
        "",
        "| variant | weight | " + " | ".join(KEYS) + " |",
        "|---|---|" + "---|" * len(KEYS),
    ]
    for variant, weights in result["variants"].items():
        best = max(weights, key=lambda w: weights[w]["criterion"][0])
        for w, row in weights.items():
            mark = " **(best)**" if w == best else ""
            cells = " | ".join(f"{m:.1f} ± {s:.1f}" for m, s in row.values())
            lines.append(f"| {variant} | {w}{mark} | {cells} |")
    out = Path(args.out + ("_ensemble" if args.ensemble else ""))
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
