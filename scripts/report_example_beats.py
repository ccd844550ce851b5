"""Snakemake job: an experiment's split tables and beat images -> grid of examples per class."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.report import pick_examples, plot_examples

from ecg2d.split import read_table
from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    splits = list(snakemake.input.splits)
    picked = pick_examples(splits, p.labels, p.per_class, p.seed)
    counts = {}
    for path in splits:
        for label, n in read_table(path)["label"].value_counts().items():
            counts[label] = counts.get(label, 0) + int(n)
    title = f"{snakemake.wildcards.experiment}: example beat images per class (record:sample)"
    plot_examples(picked, counts, p.per_class, title, snakemake.output[0])
    log.info("examples: %s", {label: len(rows) for label, rows in picked.items()})
