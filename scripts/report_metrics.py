"""Snakemake job: results/{experiment}/metrics.json -> metrics tables, per-record table and
figure (report) and CSVs."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.report import (
    html_page,
    metrics_tables,
    per_record_table,
    plot_per_record,
    read_json,
    write_csv,
    write_text,
)

from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    out = snakemake.output
    metrics = read_json(snakemake.input[0])
    sections = metrics_tables(metrics)
    notes = [metrics.get("undefined_values", "")]
    if metrics.get("bootstrap"):
        notes.append(f"95% CI: bootstrap, {metrics['bootstrap']['method']}")
    note = ". ".join(n for n in notes if n)
    write_text(
        html_page(f"{snakemake.wildcards.experiment}: test metrics", sections, note), out.html
    )
    write_csv(sections[1][1] if len(sections) > 1 else sections[0][1], out.table)
    records = per_record_table(metrics)
    title = f"{snakemake.wildcards.experiment}: test metrics per record"
    counts = metrics.get("conventions", {}).get("per_record", "")
    write_csv(records, out.per_record)
    write_text(html_page(title, [(f"Per test record ({counts})", records)]), out.per_record_html)
    plot_per_record(records, title, out.per_record_plot)
    log.info("metrics of %s: accuracy %s", snakemake.wildcards.experiment, metrics.get("accuracy"))
