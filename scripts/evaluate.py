"""Snakemake job: model.h5 + manifest test split -> metrics.json, predictions.csv, confusion."""

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
    metrics = evaluate_experiment(
        snakemake.input.manifest,
        snakemake.input.model,
        p.name,
        out.metrics,
        out.predictions,
        out.confusion,
    )
    log.info(
        "%s: accuracy %.4f on %d test beats\nper class: %s",
        p.name,
        metrics["accuracy"],
        metrics["n_test"],
        json.dumps(metrics["per_class"], indent=1),
    )
