"""Snakemake job: a dataset's prediction tables -> results/predict/{dataset}/metrics.json."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.evaluate import write_json
from ecg2d.predict import read_table, score_tables, table_classes
from ecg2d.workflow import job

with job(snakemake) as log:
    tables = [read_table(path) for path in snakemake.input]
    classes = table_classes(tables[0]) if tables else []
    report = score_tables(tables, classes, snakemake.params.settings)
    write_json(report, snakemake.output[0])
    log.info("%s: accuracy %s over %d scored beats; %s reference beats, %s missed, %s "
             "detections matching none", snakemake.wildcards.dataset, report["accuracy"],
             report["predict"]["n_scored"], report.get("n_reference"), report.get("n_missed"),
             report.get("n_unmatched_detections"))  # fmt: skip
