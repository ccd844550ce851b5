"""How the inter-patient CNN and expert are fused, chosen by cross-validation over DS1 records.

The workflow fuses the CNN's and the expert's probabilities by a weighted geometric mean
(:func:`ecg2d.expert.fuse`, the product rule): one model's near-zero probability vetoes a
class whatever the other says. The weighted arithmetic mean (the sum rule) lets either model
keep a class alive; Kittler et al. (1998, "On combining classifiers") found the sum rule the
more robust of the two where a model's probabilities are badly estimated, as a model's are on
patients unlike its training ones. This probe fuses, per seed, the stored out-of-fold CNN
table with the out-of-fold configured expert (``model.expert``, ``expert_weights`` of
``inter_patient`` in config/config.yaml; :func:`ds1_fusion.oof_pairs`) by each rule at every
CNN weight of ``ds1_fusion.WEIGHTS``, applies the configured ``model.class_factors`` to both,
and scores the pooled DS1 predictions as ``bench/ds1_fusion.py`` does (EC57, pooled and
record-mean figures). DS2 is never read.

The rule, fixed before the run: each fusion rule at its best CNN weight by the mean
``--criterion`` over the seeds; the geometric mean (the current) stays unless the arithmetic
mean's criterion is higher by more than the larger seed-to-seed standard deviation of the two.

    .venv/bin/python bench/ds1_fusion_rule_probe.py \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/window_cpb1_cnn/fixed_cpb1_cnn --criterion record
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402
from ds1_cv import RECORD_MIN_BEATS, machine  # noqa: E402
from ds1_factor_probe import decide  # noqa: E402

RULE = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]


def arithmetic(p_cnn, p_expert, weight: float) -> np.ndarray:
    """Weighted arithmetic mean ``weight · p_cnn + (1 − weight) · p_expert`` (rows sum to 1)."""
    return (weight * np.asarray(p_cnn, np.float64) + (1.0 - weight) * np.asarray(p_expert)).astype(
        np.float32
    )


def main(argv=None) -> None:
    from ecg2d.classifier import apply_class_factors
    from ecg2d.config import experiment_classes
    from ecg2d.expert import fuse

    parser = ds1_fusion.probe_parser(__doc__.split("\n")[0], rule=False)
    parser.add_argument("--criterion", choices=sorted(ds1_fusion.CRITERIA), default="record")
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_fusion_rule_probe.json"))
    args = parser.parse_args(argv)
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    experiment = config["experiments"]["inter_patient"]
    classes = experiment_classes(experiment)
    factors = dict(experiment["model"].get("class_factors") or {})
    kind, weight = ds1_fusion.configured_expert(experiment)
    pairs = ds1_fusion.oof_pairs(args.manifest, args.cnn, args.seeds, kind, experiment)
    key = ds1_fusion.CRITERIA[args.criterion]
    rules = {"geometric": fuse, "arithmetic": arithmetic}
    grid, runs = {}, {}
    for name, rule in rules.items():
        for w in ds1_fusion.WEIGHTS:
            label = f"{name}@{w:g}"
            runs[label] = []
            for seed, (table, p_cnn, p_expert) in pairs.items():
                proba = apply_class_factors(rule(p_cnn, p_expert, w), classes, factors)
                runs[label].append(
                    ds1_fusion.seed_figures(table, proba, classes, seed, "fusion_rule_probe")
                )
            grid[label] = ds1_fusion.seed_summary(runs[label])
    best = {
        name: max(
            (lab for lab in grid if lab.startswith(f"{name}@")),
            key=lambda lab: grid[lab][key]["mean"],
        )
        for name in rules
    }
    chosen = decide({best[name]: grid[best[name]] for name in rules}, key)
    command = "bench/ds1_fusion_rule_probe.py " + " ".join(sys.argv[1:] if argv is None else argv)
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": command,
        "expert": kind,
        "configured_fusion_weight": weight,
        "class_factors": factors,
        "criterion": key,
        "best": best,
        "chosen": chosen,
        "scores": grid,
        "runs": runs,
        "rule": " ".join(RULE.split()),
    }
    lines = [
        f"# DS1 fusion rule: `{kind}` and the CNN, geometric against arithmetic mean",
        "",
        f"`.venv/bin/python {command}` — {result['date']}, {result['machine']}. EC57, %, mean ± "
        f"sd over seeds {args.seeds}; DS1 only; class factors {factors or 'none'} applied after "
        f"either rule. *rec*: mean over the DS1 records with at least {RECORD_MIN_BEATS} beats "
        f"of the class. The rule compares `{key}`; each rule's best weight is marked.",
        "",
    ]
    marks = {label: " (best)" for label in best.values()} | {chosen: " **(chosen)**"}
    lines += ds1_fusion.probe_table(
        "rule @ CNN weight", ((label + marks.get(label, ""), s) for label, s in grid.items())
    )
    lines += ["", f"Rule: {result['rule']}", ""]
    ds1_fusion.write_result(args.out, result, lines)


if __name__ == "__main__":
    main()
