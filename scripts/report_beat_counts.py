"""Snakemake job: an experiment's split tables -> beat counts per record and class (report)."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.report import beat_count_table, html_page, plot_beat_counts, write_csv, write_text

from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    out = snakemake.output
    table = beat_count_table(list(snakemake.input.splits), p.labels)
    title = f"{snakemake.wildcards.experiment}: labelled beats per record and class"
    write_csv(table, out.table)
    write_text(
        html_page(
            title,
            [
                (
                    "Beats per record (rows) and class (columns); train/test: the record's split",
                    table,
                )
            ],
            note=f"{len(table) - 1} records, {int(table.loc['all', 'total'])} beats; "
            "original beats only (the nine crops of augmented classes are not counted).",
        ),
        out.html,
    )
    plot_beat_counts(table, title, out.plot)
    log.info("beat counts of %s:\n%s", snakemake.wildcards.experiment, table.loc["all"].to_string())
