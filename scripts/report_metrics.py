"""Snakemake job: results/{experiment}/metrics.json -> metrics tables (report) and CSV."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.report import html_page, metrics_tables, read_json, write_csv, write_text

from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    metrics = read_json(snakemake.input[0])
    sections = metrics_tables(metrics)
    note = metrics.get("undefined_values", "")
    write_text(html_page(f"{p.experiment}: test metrics", sections, note), snakemake.output.html)
    per_class = dict(sections).get("Per class (test split)")
    write_csv(per_class if per_class is not None else sections[0][1], snakemake.output.table)
    log.info("metrics of %s: accuracy %s", p.experiment, metrics.get("accuracy"))
