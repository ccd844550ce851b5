"""Snakemake job: model.h5 + manifest test split -> metrics.json, predictions.csv, confusion.

Detector experiments also get the test records' reference and detector beats (inputs
``reference``, ``detected``, ``png_dirs``): missed beats and unmatched detections are counted.
"""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.model import limit_threads

limit_threads(snakemake.threads)

import json

from ecg2d.evaluate import evaluate_experiment
from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    out = snakemake.output
    inputs = snakemake.input
    detection = None
    if "detected" in inputs.keys():
        detection = {
            "reference": list(inputs.reference),
            "detected": list(inputs.detected),
            "png_dirs": list(inputs.png_dirs),
            "experiment": p.experiment,
        }
    metrics = evaluate_experiment(
        inputs.manifest,
        inputs.model,
        snakemake.wildcards.experiment,
        out.metrics,
        out.predictions,
        out.confusion,
        seed=p.seed,
        detection=detection,
    )
    log.info(
        "%s: accuracy %s on %d reference beats (%d scored, %d missed; %d unmatched "
        "detections)\nper class: %s",
        snakemake.wildcards.experiment,
        metrics["accuracy"],
        metrics["n_reference"],
        metrics["n_test"],
        metrics["n_missed"],
        metrics["n_unmatched_detections"],
        json.dumps(metrics["per_class"], indent=1),
    )
