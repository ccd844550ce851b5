"""Where a regime candidate's DS1 false SVEBs sit, a description (nothing fitted beyond the
candidate's own experts, nothing chosen): out of fold over DS1's records, the beats the
candidate calls S (``--candidate``: round 19's ``gbm_either_p``, ``bench/ds1_pwave_long_probe.py``,
round 18's pair of experts with the P wave judged against the beats ending the longer interval
group; or round 20's ``gbm_either_pc``, ``bench/ds1_coherent_regime_probe.py``, the same with the
regime only where those beats share a P wave), split by whether the configured ``gbm_gated``
calls them S too and by the regime (round 15's cycle the longer group's), with, per group,
the beats' prematurity against round 15's cycle (``pre_rr / cycle``) and against the upper
quartile, and their ``zl_pre_upper``, ``z_p_long`` and ``p_coherence``, as medians and as the
share of beats at most 0.9 of the cycle (the usual threshold of prematurity). It says whether
a false S of the regime is a beat that is not premature against the sinus cycle at all, which
a constraint could rule out, or one that is. DS1 only; DS2 is never read.

    .venv/bin/python bench/regime_false_s.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv [--candidate gbm_either_pc]

Results: ``bench/results/regime_false_s.json`` (round 19's candidate) or
``regime_false_s_{candidate}.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_coherent_regime_probe  # noqa: E402
import ds1_fusion  # noqa: E402
import ds1_long_cycle_probe  # noqa: E402
import ds1_pwave_long_probe  # noqa: E402
import ds1_stress  # noqa: E402
from ds1_cv import fold_manifest, machine  # noqa: E402

#: The configured expert, then the candidates this describes (the first is the default).
CONFIGURED = "gbm_gated~record"
CANDIDATES = ("gbm_either_p", "gbm_either_pc")
#: Prematurity threshold against the cycle.
PREMATURE = 0.9


def oof_calls(manifest: pd.DataFrame, experiment: dict, item: str) -> pd.Series:
    """Out-of-fold class calls of expert ``item`` for every original DS1 beat of ``manifest``
    (indexed as the manifest), with the configured class factors."""
    from ecg2d.classifier import apply_class_factors
    from ecg2d.config import experiment_classes
    from ecg2d.expert import KIND_COLUMNS, expert_proba
    from ecg2d.train import fit_rhythm_expert

    classes = experiment_classes(experiment)
    factors = dict(experiment["model"].get("class_factors") or {})
    train = [str(r) for r in experiment["train_records"]]
    model = ds1_fusion.expert_spec(item)
    calls = pd.Series(index=manifest.index, dtype=object)
    for fold in experiment["cv_folds"]:
        rows = fold_manifest(manifest, train, [str(r) for r in fold])
        expert = fit_rhythm_expert(rows, model, classes, 0)
        test = rows[(rows["split"] == "test") & (rows["augmented"] == 0)]
        proba = expert_proba(expert, test[list(KIND_COLUMNS[model.expert])].to_numpy())
        proba = apply_class_factors(proba, classes, factors)
        calls[test.index] = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    return calls


def describe(group: pd.DataFrame) -> dict:
    """Count, and medians and the premature share of a group of beats."""
    if group.empty:
        return {"beats": 0}
    return {
        "beats": len(group),
        "records": {str(r): int(n) for r, n in group.groupby("record").size().items()},
        "pre_over_cycle": float(group["pre_over_cycle"].median()),
        "pre_over_upper": float((group["pre_rr"] / group["upper_rr"]).median()),
        "premature_share": float((group["pre_over_cycle"] <= PREMATURE).mean()),
        "zl_pre_upper": float(group["zl_pre_upper"].median()),
        "z_p_long": float(group["z_p_long"].median()),
        "p_coherence": float(group["p_coherence"].median()),
    }


def main(argv=None) -> None:
    from ecg2d.split import read_table

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--candidate", choices=CANDIDATES, default=CANDIDATES[0])
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    suffix = "" if args.candidate == CANDIDATES[0] else f"_{args.candidate}"
    out = Path(args.out or REPO / f"bench/results/regime_false_s{suffix}.json")
    items = (CONFIGURED, f"{args.candidate}~record")

    ds1_coherent_regime_probe.register()
    experiment = ds1_fusion.shipped_experiment()
    config = ds1_stress.yaml.safe_load((REPO / "config/config.yaml").read_text())
    train = [str(r) for r in experiment["train_records"]]
    manifest = read_table(args.manifest)
    manifest = manifest[manifest["record"].astype(str).isin(train)]
    manifest = ds1_stress.manifest_signal_derived(manifest, args.data_dir, config)
    manifest = ds1_stress.with_derived(manifest)
    original = manifest[manifest["augmented"] == 0].sort_values(["record", "sample"])
    manifest["pre_over_cycle"] = np.nan
    for _, rows in original.groupby("record"):
        cycle = ds1_long_cycle_probe.cycle(rows["pre_rr"], rows["upper_rr"])
        manifest.loc[rows.index, "pre_over_cycle"] = rows["pre_rr"].to_numpy() / cycle
    calls = {item: oof_calls(manifest, experiment, item) for item in items}
    beats = manifest.loc[original.index].copy()
    configured, candidate = (calls[item].loc[beats.index] for item in items)
    regime = beats[ds1_pwave_long_probe.ds1_regime_probe.REGIME] > 0.5
    new = (candidate == "S") & (configured != "S")
    groups = {}
    for name, label in (
        ("false", beats["label"].isin(["N", "V", "F"])),
        ("true", beats["label"] == "S"),
    ):
        for where, mask in (("regime", regime), ("elsewhere", ~regime)):
            groups[f"{name} S, called by the candidate only, {where}"] = describe(
                beats[label & new & mask]
            )
            groups[f"{name} S, called by both, {where}"] = describe(
                beats[label & (candidate == "S") & (configured == "S") & mask]
            )
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": " ".join(
            ["bench/regime_false_s.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "items": items,
        "groups": groups,
    }
    out.write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        f"# `{args.candidate}`'s DS1 calls of S, by who calls them and where (a description)",
        "",
        f"`.venv/bin/python {result['command']}` — {result['date']}, {result['machine']}. Out of "
        "fold over DS1's records; *regime*: round 15's cycle is the longer interval group's; "
        f"*premature*: `pre_rr` at most {PREMATURE} of that cycle; medians.",
        "",
        "| beats | n | records | pre_rr / cycle | pre_rr / upper_rr | premature share "
        "| zl_pre_upper | z_p_long | p_coherence |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, g in groups.items():
        if not g["beats"]:
            lines.append(f"| {name} | 0 | | | | | | | |")
            continue
        recs = ", ".join(f"{r}: {n}" for r, n in sorted(g["records"].items(), key=lambda x: -x[1]))
        lines.append(
            f"| {name} | {g['beats']} | {recs} | {g['pre_over_cycle']:.2f} | "
            f"{g['pre_over_upper']:.2f} | {100 * g['premature_share']:.0f} % | "
            f"{g['zl_pre_upper']:.2f} | {g['z_p_long']:.2f} | {g['p_coherence']:.2f} |"
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
