"""DS1 probe, not built into the workflow: fewer boosting rounds for the tree expert.

The expert's gradient-boosted trees run a fixed 200 rounds (``ecg2d.expert.TREE_SETTINGS``),
set when the trees first replaced the logistic expert and never chosen since. Each round fits
what the rounds before left unexplained in the training patients; the later rounds fit the
training patients' particulars, which an unseen patient does not share. Fewer rounds are a
simpler rule. This probe refits the configured expert (``model.expert`` and
``expert_weights`` of ``inter_patient``) out of fold with each number of rounds of
``--rounds``, the first being the shipped one. DS1 only; DS2 is never read.

The rule, fixed before the run: each number of rounds is fused with the stored out-of-fold CNN
tables of ``--cnn`` at every CNN weight 0, 0.1, ..., 1 with the configured
``model.class_factors`` applied, each at its best weight by the mean ``--criterion`` over the
seeds; taken in the order given, a later one replaces the current choice only if its mean is
higher by more than the larger seed sd of the two.

    .venv/bin/python bench/ds1_trees_probe.py \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/recipe_cnn/recipe_cnn --criterion record --rounds 200 100 50

Results: ``--out`` (JSON) and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402

RULE = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]


def main(argv=None) -> None:
    import ecg2d.expert as expert
    from ecg2d.expert import fuse

    parser = ds1_fusion.probe_parser(__doc__.split("\n")[0], rule=False)
    parser.add_argument("--criterion", choices=sorted(ds1_fusion.CRITERIA), default="record")
    parser.add_argument("--rounds", type=int, nargs="+", default=[200, 100, 50])
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_trees_probe.json"))
    args = parser.parse_args(argv)
    shipped = expert.TREE_SETTINGS["max_iter"]
    if args.rounds[0] != shipped:
        raise SystemExit(f"the first number of rounds must be the shipped one, {shipped}")
    experiment = ds1_fusion.shipped_experiment()
    kind, _ = ds1_fusion.configured_expert(experiment)

    def variants_of(pairs):
        variants = {f"{kind} {shipped} rounds": (fuse, pairs)}
        for rounds in args.rounds[1:]:
            expert.TREE_SETTINGS["max_iter"] = rounds
            try:
                variants[f"{kind} {rounds} rounds"] = (
                    fuse,
                    ds1_fusion.oof_pairs(args.manifest, args.cnn, args.seeds, kind, experiment),
                )
            finally:
                expert.TREE_SETTINGS["max_iter"] = shipped
        return variants

    ds1_fusion.weight_probe(
        args,
        argv,
        "ds1_trees_probe",
        RULE,
        "DS1: boosting rounds of the `{kind}` expert",
        f"seeds {args.seeds}",
        variants_of,
    )


if __name__ == "__main__":
    main()
