"""Snakemake job: per-record detection scores -> results/detection/summary.json + records.csv."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.detect import read_scores, summarise, write_scores, write_summary
from ecg2d.workflow import job

with job(snakemake) as log:
    rows = [row for path in snakemake.input for row in read_scores(path)]
    summary = summarise(rows, snakemake.params.detection)
    write_scores(rows, snakemake.output.records)
    write_summary(summary, snakemake.output.summary)
    for name, stages in summary["detectors"].items():
        for stage, total in stages.items():
            log.info("%s (%s): Se %.2f %% +P %.2f %% over %d records", name, stage, total["Se"],
                     total["+P"], total["records"])  # fmt: skip
