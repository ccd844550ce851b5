"""Snakemake job: prediction table -> WFDB annotations results/predict/{dataset}/{record}.{ext}."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

import wfdb

from ecg2d.predict import read_table, write_annotations
from ecg2d.workflow import job

with job(snakemake) as log:
    table = read_table(snakemake.input.table)
    fs = wfdb.rdheader(snakemake.input.header[: -len(".hea")]).fs
    write_annotations(table, snakemake.wildcards.record, fs, snakemake.output[0])
    log.info("%s: %d annotations (classified beats) at %g Hz", snakemake.output[0],
             int((table["detected"] == 1).sum()), fs)  # fmt: skip
