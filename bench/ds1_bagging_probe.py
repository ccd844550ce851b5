"""DS1 probe, not built into the workflow: the tree expert averaged over subsets of patients.

The expert's trees learn from 22 DS1 patients (17 or 18 in a fold), each given an equal share
of its class (``model.expert_weights: record``), so a rule that holds for one patient's few S
beats weighs as much as one that holds for another's hundreds. Such rules are what an unseen
patient does not share. Averaging experts that each saw a different subset of the patients
(subagging: subsample aggregating, Bühlmann and Yu 2002) keeps what most patients agree on and
averages away what rests on one. Per fold, ``--bags`` experts of the configured kind are each
fitted on a seeded random ``--fraction`` of the fold's training records (without replacement:
with record weights a repeated record would add no weight), and their class probabilities are
averaged. Patients, not beats, are subsampled, as the folds hold out patients. DS1 only; DS2 is
never read.

The rule, fixed before the run: the shipped expert (``model.expert`` and ``expert_weights`` of
``inter_patient``), then the same averaged over 10 subsets of two thirds of the fold's training
records, each fused with the stored out-of-fold CNN tables of ``--cnn`` at every CNN weight 0,
0.1, ..., 1 with the configured ``model.class_factors`` applied, each at its best weight by the
mean ``--criterion`` over the seeds; the second replaces the first only if its mean is higher
by more than the larger seed sd of the two.

    .venv/bin/python bench/ds1_bagging_probe.py \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/recipe_cnn/recipe_cnn --criterion record

Results: ``--out`` (JSON) and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402

RULE = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]


def record_subsets(records, bags: int, fraction: float, seed: int) -> list[list[str]]:
    """``bags`` seeded subsets of ``records``, each ``round(fraction * len(records))`` of them
    (at least one) drawn without replacement, sorted."""
    records = sorted(str(r) for r in records)
    size = max(1, int(round(fraction * len(records))))
    rng = np.random.default_rng(seed)
    return [sorted(rng.choice(records, size, replace=False).tolist()) for _ in range(bags)]


def bagged_oof_expert(bags: int, fraction: float):
    """An ``oof_expert`` (:func:`ds1_fusion.oof_expert`'s signature) whose expert, per fold,
    is the mean of ``bags`` experts each fitted on a subset of the fold's training records
    (:func:`record_subsets`, seeded by the fold's index)."""
    from ds1_cv import fold_manifest

    from ecg2d.expert import KIND_COLUMNS, expert_proba
    from ecg2d.train import fit_rhythm_expert

    def oof_expert(manifest, train_records, folds, classes, seed: int, model) -> dict:
        out = {}
        columns = list(KIND_COLUMNS[model.expert])
        for k, fold in enumerate(folds):
            rows = fold_manifest(manifest, train_records, fold)
            test = rows[(rows["split"] == "test") & (rows["augmented"] == 0)]
            training = rows["split"] == "train"
            records = sorted(set(rows.loc[training, "record"].astype(str)))
            proba = np.zeros((len(test), len(classes)))
            for subset in record_subsets(records, bags, fraction, 1000 * seed + k):
                kept = rows[~training | rows["record"].astype(str).isin(subset)]
                expert = fit_rhythm_expert(kept, model, classes, seed)
                proba += expert_proba(expert, test[columns].to_numpy())
            proba /= bags
            out.update(zip(zip(test["record"].astype(str), test["sample"].astype(int)), proba))
        return out

    return oof_expert


def main(argv=None) -> None:
    from ecg2d.expert import fuse

    parser = ds1_fusion.probe_parser(__doc__.split("\n")[0], rule=False)
    parser.add_argument("--criterion", choices=sorted(ds1_fusion.CRITERIA), default="record")
    parser.add_argument("--bags", type=int, default=10)
    parser.add_argument("--fraction", type=float, default=2 / 3)
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_bagging_probe.json"))
    args = parser.parse_args(argv)
    experiment = ds1_fusion.shipped_experiment()
    kind, _ = ds1_fusion.configured_expert(experiment)

    def variants_of(pairs):
        shipped = ds1_fusion.oof_expert
        ds1_fusion.oof_expert = bagged_oof_expert(args.bags, args.fraction)
        try:
            bagged = ds1_fusion.oof_pairs(args.manifest, args.cnn, args.seeds, kind, experiment)
        finally:
            ds1_fusion.oof_expert = shipped
        name = f"{kind} over {args.bags} subsets of {args.fraction:.2f} of the records"
        return {kind: (fuse, pairs), name: (fuse, bagged)}

    ds1_fusion.weight_probe(
        args,
        argv,
        "ds1_bagging_probe",
        RULE,
        "DS1: the `{kind}` expert averaged over subsets of the training records",
        f"seeds {args.seeds}",
        variants_of,
        bags=args.bags,
        fraction=args.fraction,
    )


if __name__ == "__main__":
    main()
