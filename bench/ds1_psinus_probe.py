"""DS1 probe, not built into the workflow: the P wave judged against the record's sinus beats.

``z_p_corr`` (``gbm_pwave``) scores each beat's P-wave likeness against the record's usual
atrial activity: the likeness correlates the stretch before the QRS with the median stretch of
*all* the record's beats, and its robust z-score takes median and spread over all of them too.
That holds while sinus beats are the majority. Where premature atrial beats outnumber them
(frequent ectopy, runs, bigeminy), the median stretch and the usual likeness are the ectopic
beats' own, and an ectopic P wave looks usual; the RR features already meet that case with the
dominant cycle, the upper quartile of RR over about a minute (``ecg2d.segment.upper_rr``). The
candidate column ``z_p_sinus`` takes both the median stretch and the z-score's median and
spread over the beats that are not premature, those whose RR is at least that dominant cycle
(:func:`ecg2d.rr.sinus_reference`; all beats where fewer than 8 are): sinus beats, even where
they are few. Computed here exactly as the beats stage computes ``z_p_corr`` (around the aligned
QRS, the experiment's window deciding which beats are cut), which the probe checks by
reproducing the manifest's ``z_p_corr``. DS1 only; DS2 is never read. Why now: DS2's record 232
(disclosed in BENCHMARKS.md) is such a record; DS1 holds none, so DS1 can only say whether the
column costs or gains where sinus beats are the majority, and the rule below is DS1's.

The rule, fixed before the run: the configured expert (``gbm_pwave``, record weights), then
``gbm_psinus`` (``z_p_sinus`` in place of ``z_p_corr``), then ``gbm_pwave_psinus`` (both), each
fused with the stored out-of-fold CNN tables of ``--cnn`` at every CNN weight 0, 0.1, ..., 1
with the configured ``model.class_factors`` applied, each at its best weight by the mean
``--criterion`` over the seeds; in that order, a later one replaces the one chosen so far only
if its mean is higher by more than the larger of 0.5 and the larger seed sd of the two
(``bench/ds1_shape_z_probe.py``'s margin).

    .venv/bin/python bench/ds1_psinus_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/recipe_cnn/recipe_cnn --criterion record

Results: ``--out`` (JSON) and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402
from ds1_shape_z_probe import MARGIN  # noqa: E402

RULE = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]


def record_columns(data_dir: str, name: str, config: dict, window: dict) -> pd.DataFrame:
    """Per beat the workflow cuts from record ``name``: its sample, ``z_p_corr`` as the beats
    stage computes it and the candidate ``z_p_sinus``."""
    from ecg2d.io import beat_mask, read_record
    from ecg2d.rr import PWAVE_FLOOR, robust_z, sinus_reference
    from ecg2d.segment import beat_windows, fiducials, rr_features
    from ecg2d.shape import p_wave_likeness, qrs_shape

    record = read_record(
        data_dir, name, config["lead"], config["fallback_channel"], config["fs"],
        lead2=config["lead2"],
    )  # fmt: skip
    r = np.asarray(record.ann_sample[beat_mask(record.ann_symbol)], dtype=np.int64)
    _, shift = qrs_shape(record.signal, record.fs, r)
    points = fiducials(r, shift, record.name)
    centres = np.round(points).astype(np.int64) if window["mode"] == "fixed" else r
    _, _, keep = beat_windows(
        centres, len(record.signal), record.fs, window["mode"], tuple(window["fixed_ms"])
    )
    rr = rr_features(points, record.fs)
    reference = sinus_reference(rr["pre_rr"], rr["upper_rr"])
    usual = p_wave_likeness(record.signal, record.fs, points)
    sinus = p_wave_likeness(record.signal, record.fs, points, reference=reference)
    return pd.DataFrame(
        {
            "sample": r[keep],
            "z_p_corr_check": robust_z(usual[keep], PWAVE_FLOOR),
            "z_p_sinus": robust_z(sinus[keep], PWAVE_FLOOR, reference=reference[keep]),
            "sinus_reference": reference[keep],
        }
    )


def psinus_column(rows: pd.DataFrame, data_dir: str) -> pd.DataFrame:
    """``rows`` (DS1 original beats) with ``z_p_sinus``; stops if the probe's ``z_p_corr`` is
    not the manifest's (then it would not compute the column as the workflow would)."""
    import yaml

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    window = {**config["window"], **ds1_fusion.shipped_experiment().get("window", {})}
    parts = []
    for name, group in rows.groupby("record"):
        columns = record_columns(data_dir, name, config, window)
        merged = group.merge(columns, on="sample", how="left", validate="one_to_one")
        if merged["z_p_sinus"].isna().any():
            raise SystemExit(f"record {name}: beats of the manifest the probe did not cut")
        gap = float(np.max(np.abs(merged["z_p_corr_check"] - merged["z_p_corr"])))
        if gap > 1e-3:
            raise SystemExit(f"record {name}: z_p_corr differs from the manifest's by {gap}")
        share = float(merged["sinus_reference"].mean())
        print(f"record {name}: {len(merged)} beats, {share:.0%} sinus reference", flush=True)
        parts.append(merged.drop(columns=["z_p_corr_check", "sinus_reference"]))
    return pd.concat(parts, ignore_index=True)


def main(argv=None) -> None:
    def data_dir(parser):
        parser.add_argument("--data-dir", required=True, help="the MIT-BIH records")

    args, experiment, kind, suffix = ds1_fusion.extension_probe_args(
        __doc__, "ds1_psinus_probe", "gbm_pwave", argv, data_dir
    )
    ds1_fusion.register_probe_kind("gbm_psinus", ("z_p_sinus",), "gbm_unusual")
    ds1_fusion.register_probe_kind("gbm_pwave_psinus", ("z_p_sinus",), "gbm_pwave")
    rows = psinus_column(ds1_fusion.ds1_originals(args.manifest), args.data_dir)
    ds1_fusion.column_probe(
        args,
        argv,
        "ds1_psinus_probe",
        RULE,
        "DS1: the P wave judged against the record's sinus beats, in `{kind}`",
        experiment,
        kind,
        rows,
        ["gbm_psinus" + suffix, "gbm_pwave_psinus" + suffix],
        minimum=MARGIN,
        margin=MARGIN,
    )


if __name__ == "__main__":
    main()
