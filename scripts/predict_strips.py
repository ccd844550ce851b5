"""Snakemake job: prediction table + record -> results/predict/{dataset}/{record}.strips.png."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.predict import read_new_record, read_table
from ecg2d.strips import MAX_ROWS, plot_strips, shown
from ecg2d.workflow import job

with job(snakemake) as log:
    p, record = snakemake.params, snakemake.wildcards.record
    table = read_table(snakemake.input.table)
    original = read_new_record(p.path, record, p.settings["lead"], p.settings["fallback_channel"])
    plan = plot_strips(original.signal, original.fs, table, snakemake.output[0], record=record,
                       lead=original.lead, reference=bool(p.settings["annotator"]))  # fmt: skip
    duration = len(original.signal) / original.fs
    log.info("%s: %d rows of 10 s: %s", snakemake.output[0], len(plan.starts),
             shown(plan, duration, MAX_ROWS))  # fmt: skip
