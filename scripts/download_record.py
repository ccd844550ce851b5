"""Snakemake job: download one mitdb record with wfdb and verify its SHA-256 checksums."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.io import download_record
from ecg2d.workflow import job

with job(snakemake) as log:
    download_record(snakemake.wildcards.record, snakemake.params.dest, snakemake.input[0])
    log.info("record %s downloaded and verified", snakemake.wildcards.record)
