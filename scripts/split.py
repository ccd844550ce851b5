"""Snakemake job: results/beats/{record}.npz -> results/{experiment}/split/{record}.csv."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.segment import load_beats
from ecg2d.atomic import write_csv
from ecg2d.split import split_table
from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    table = split_table(load_beats(snakemake.input[0]), p.experiment, p.seed, p.png_dir)
    write_csv(table, snakemake.output[0])
    counts = table.groupby(["split", "label"]).size()
    log.info("split of %d labelled beats:\n%s", len(table), counts.to_string())
