"""Snakemake job: results/beats/{record}.npz -> results/png/{record}/ (or a window's own)."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.render import render_record
from ecg2d.segment import load_beats
from ecg2d.workflow import job

with job(snakemake) as log:
    beats = load_beats(snakemake.input[0])
    p = snakemake.params
    n = render_record(beats, snakemake.output[0], p.image_size, p.amplitude, p.pack, p.leads)
    log.info("%d images written to %s", n, snakemake.output[0])
