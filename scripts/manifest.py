"""Snakemake job: per-record splits and crops -> results/{experiment}/manifest.csv."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.split import build_manifest, write_table
from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    manifest = build_manifest(snakemake.input.splits, snakemake.input.crops, p.augment, p.n_crops)
    write_table(manifest, snakemake.output[0])
    log.info(
        "manifest: %d rows\n%s",
        len(manifest),
        manifest.groupby(["split", "augmented", "label"]).size().to_string(),
    )
