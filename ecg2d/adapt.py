"""Each recording's own class prevalence, estimated from its unlabelled beats.

Patients differ in how many of their beats are of each class far more than beats of one class
differ between patients: one record's beats are nearly all normal, another's mostly premature
atrial beats. A classifier trained on a population holds that population's prevalence in its
operating point. This module estimates, from one recording's beats and the classifier's own
probabilities alone (no label is read), how common each class is *in that recording*, by the
expectation-maximisation of Saerens, Latinne and Decaestecker (2002, "Adjusting the outputs of a
classifier to new a priori probabilities"), and moves the operating point by how much more or
less common each class is there than in the training beats:

``p_adapted ∝ p · (prevalence_record / prevalence_train) ** strength``

``strength`` 0 leaves the probabilities as they are; 1 is the full Bayes update. The
estimate is shrunk towards the training prevalence by a Dirichlet prior worth
:data:`CONCENTRATION` beats, so that a short recording (a strip of a few beats) barely moves.

The classifier's probabilities are taken to be computed under equal class priors (its
training balanced the classes), as the inter-patient CNN and rhythm expert are trained. The
setting is ``model.record_adaptation``; the training prevalence is recorded in ``model.json``.
"""

from __future__ import annotations

import numpy as np

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
        raise ValueError(f"model.record_adaptation must be within 0..1, got {strength}")
    proba, prevalence = _check(proba, prevalence)
    if strength == 0.0 or len(proba) == 0:
        return proba.astype(np.float32)
    lift = (record_prevalence(proba, prevalence, concentration) / prevalence) ** strength
    out = proba * lift
    return (out / np.maximum(out.sum(axis=1, keepdims=True), EPS)).astype(np.float32)


def adapt_records(
    proba, records, prevalence, strength: float, concentration: float = CONCENTRATION
) -> np.ndarray:
    """:func:`adapt` applied to each recording's beats apart (``records``: each beat's record)."""
    proba = np.asarray(proba, dtype=np.float64)
    records = np.asarray(records, dtype=str)
    if len(records) != len(proba):
        raise ValueError(f"{len(proba)} beats but {len(records)} record names")
    out = proba.astype(np.float32)
    if strength == 0.0:
        return out
    for record in np.unique(records):
        rows = records == record
        out[rows] = adapt(proba[rows], prevalence, strength, concentration)
    return out
