"""Each record's own class prevalence, estimated from its unlabelled beats: a DS1 probe.

Patients differ far more in how many of their beats are of each class than beats of one class
differ between patients. This probe estimates, from one record's beats and the fused
probabilities alone (no label read), how common each class is in that record, by the EM of
Saerens, Latinne and Decaestecker (2002, "Adjusting the outputs of a classifier to new a priori
probabilities"; :func:`record_prevalence`, the probabilities taken as computed under equal
priors, the estimate shrunk towards the training prevalence by :data:`CONCENTRATION`
pseudo-beats), and multiplies each class's probability by (its prevalence in the record over
its training prevalence) to the power ``strength`` (:func:`adapt`; 0: unchanged, 1: the full
Bayes update). Per seed, it fuses the stored out-of-fold CNN table with the out-of-fold expert
exactly as the configuration does (``model.expert``, ``expert_weights`` and ``fusion_weight``
of ``inter_patient`` in config/config.yaml; :func:`ds1_fusion.oof_pairs`), adapts each held-out
record's beats by each strength of ``--strengths``, with the training prevalence of the folds
that trained its models, applies the configured ``model.class_factors``, and scores the pooled
DS1 predictions as ``bench/ds1_fusion.py`` does (EC57, pooled and record-mean figures). DS2 is
never read. Not part of the workflow: its rule kept strength 0 (BENCHMARKS.md).

The rule, fixed before the run: strengths are taken in the order given, the first being the
current one (0: no adaptation); a later strength replaces the current choice only if its mean
``--criterion`` over the seeds is higher by more than the larger seed-to-seed standard
deviation of the two.

    .venv/bin/python bench/ds1_adapt_probe.py \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/lp_cnn/lp_cnn --criterion record --strengths 0 0.25 0.5 0.75 1
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402
from ds1_factor_probe import sweep  # noqa: E402

RULE = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]

#: The Dirichlet prior's weight, in beats, that holds a record's estimate near the training
#: prevalence: about three minutes of beats, so that a 30-minute record is its own and a strip
#: of a few beats is not. Fixed, not tuned.
CONCENTRATION = 200.0
#: Pseudo-beats per class added to the training counts, so that no class has prevalence 0.
PSEUDO_COUNT = 1.0
#: Iterations and tolerance of the EM estimate.
ITERATIONS = 200
TOLERANCE = 1e-7
#: Probability floor against division by zero.
EPS = 1e-12


def training_prevalence(labels, classes) -> np.ndarray:
    """Each class's share of the training beats ``labels``, with :data:`PSEUDO_COUNT` pseudo-beats
    each, in ``classes`` order."""
    labels = np.asarray(labels, dtype=str)
    counts = np.array([(labels == str(c)).sum() for c in classes], dtype=np.float64)
    counts += PSEUDO_COUNT
    return counts / counts.sum()


def _check(proba, prevalence) -> tuple[np.ndarray, np.ndarray]:
    proba = np.asarray(proba, dtype=np.float64)
    prevalence = np.asarray(prevalence, dtype=np.float64)
    if proba.ndim != 2 or prevalence.shape != (proba.shape[1],):
        raise ValueError(
            f"probabilities {proba.shape} and a training prevalence of {prevalence.shape} classes"
        )
    if not (prevalence > 0).all() or not np.isclose(prevalence.sum(), 1.0):
        raise ValueError(f"the training prevalence must be positive and sum to 1: {prevalence}")
    return proba, prevalence


def record_prevalence(proba, prevalence, concentration: float = CONCENTRATION) -> np.ndarray:
    """The class prevalence of one recording's beats, estimated from their probabilities
    ``proba`` (N x C, under equal priors) by EM, shrunk towards the training ``prevalence``
    (C) by a Dirichlet prior worth ``concentration`` beats. No beats: the training prevalence.
    """
    proba, prevalence = _check(proba, prevalence)
    if len(proba) == 0:
        return prevalence.copy()
    likelihood = proba / np.maximum(proba.sum(axis=1, keepdims=True), EPS)
    estimate = prevalence.copy()
    for _ in range(ITERATIONS):
        posterior = likelihood * estimate
        posterior /= np.maximum(posterior.sum(axis=1, keepdims=True), EPS)
        updated = (posterior.sum(axis=0) + concentration * prevalence) / (
            len(proba) + concentration
        )
        done = np.abs(updated - estimate).max() < TOLERANCE
        estimate = updated
        if done:
            break
    return estimate


def adapt(proba, prevalence, strength: float, concentration: float = CONCENTRATION):
    """One recording's probabilities with each class multiplied by (its estimated prevalence in
    the recording over its training ``prevalence``) to the power ``strength`` (0..1),
    renormalised per row (float32)."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"the strength must be within 0..1, got {strength}")
    proba, prevalence = _check(proba, prevalence)
    if strength == 0.0 or len(proba) == 0:
        return proba.astype(np.float32)
    lift = (record_prevalence(proba, prevalence, concentration) / prevalence) ** strength
    out = proba * lift
    return (out / np.maximum(out.sum(axis=1, keepdims=True), EPS)).astype(np.float32)


def fold_prevalence(manifest_path, experiment: dict, classes) -> dict[str, np.ndarray]:
    """Each DS1 record's training prevalence: the class shares of the original beats of the
    DS1 records outside its fold (:func:`training_prevalence`)."""
    rows = ds1_fusion.ds1_originals(manifest_path)
    records = rows["record"].astype(str).to_numpy()
    labels = rows["label"].astype(str).to_numpy()
    out = {}
    for fold in experiment["cv_folds"]:
        fold = [str(r) for r in fold]
        prevalence = training_prevalence(labels[~np.isin(records, fold)], classes)
        out.update(dict.fromkeys(fold, prevalence))
    return out


def adapted(table, proba, prevalence: dict, strength: float) -> np.ndarray:
    """Out-of-fold probabilities ``proba`` of ``table``'s beats, each record adapted apart with
    its folds' training prevalence (:func:`adapt`)."""
    records = table["record"].astype(str).to_numpy()
    out = np.asarray(proba, dtype=np.float32).copy()
    for record in np.unique(records):
        rows = records == record
        out[rows] = adapt(proba[rows], prevalence[record], strength)
    return out


def main(argv=None) -> None:
    from ecg2d.classifier import apply_class_factors
    from ecg2d.expert import fuse

    parser = ds1_fusion.probe_parser(__doc__.split("\n")[0])
    parser.add_argument("--strengths", type=float, nargs="+", default=[0, 0.25, 0.5, 0.75, 1])
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_adapt_probe.json"))
    args = parser.parse_args(argv)
    experiment, classes, factors, kind, weight, pairs = ds1_fusion.configured_pairs(args)
    prevalence = fold_prevalence(args.manifest, experiment, classes)

    def probas(strength):
        for seed, (table, p_cnn, p_expert) in pairs.items():
            proba = adapted(table, fuse(p_cnn, p_expert, weight), prevalence, strength)
            yield seed, table, apply_class_factors(proba, classes, factors)

    sweep(
        args,
        argv,
        "ds1_adapt_probe",
        RULE,
        args.strengths,
        probas,
        classes,
        expert=kind,
        fusion_weight=weight,
        class_factors=factors,
        title=f"DS1: each record's own class prevalence, `{kind}` fused at CNN weight {weight}",
        scope=f"seeds {args.seeds}; DS1 only; class factors {factors or 'none'} after adaptation",
        column="strength",
    )


if __name__ == "__main__":
    main()
