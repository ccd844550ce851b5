"""Snakemake job: PhysioNet's SHA256SUMS.txt of mitdb -> resources/mitdb/."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.io import download_checksums
from ecg2d.workflow import job

with job(snakemake) as log:
    download_checksums(snakemake.output[0])
    log.info("downloaded %s", snakemake.output[0])
