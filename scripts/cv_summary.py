"""Snakemake job: the folds' metrics.json -> results/{experiment}/cv/summary.json and .md."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

import json

from ecg2d.atomic import atomic_path
from ecg2d.cv import cv_summary, load_metrics, summary_markdown
from ecg2d.workflow import job

with job(snakemake) as log:
    name = snakemake.wildcards.experiment
    paths = list(snakemake.input)
    summary = cv_summary(load_metrics(paths), name, paths, seed=snakemake.params.seed)
    table = summary_markdown(summary)
    for text, path in (
        (json.dumps(summary, indent=2) + "\n", snakemake.output.summary),
        (table, snakemake.output.table),
    ):
        with atomic_path(path) as tmp:
            tmp.write_text(text)
    log.info("%s: %d folds\n%s", name, summary["folds"], table)
