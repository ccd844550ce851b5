"""Snakemake job: training beats' images -> results/{experiment}/crops/{record}/."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.augment import crop_record
from ecg2d.split import beats_to_augment, read_table
from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    source = beats_to_augment(read_table(snakemake.input.split), p.augment)
    n = crop_record(
        snakemake.input.png,
        source["sample"],
        snakemake.wildcards.record,
        snakemake.output[0],
        p.crop["size"],
        tuple(p.crop["offsets"]),
    )
    log.info("%d crops of %d training beats", n, len(source))
