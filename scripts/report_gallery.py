"""Snakemake job: an experiment's predictions and test-beat images -> gallery of confusions."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.gallery import gallery_table, pick_cells, plot_gallery

from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    table = gallery_table(snakemake.input.predictions, snakemake.input.manifest, p.labels)
    cells = pick_cells(table, p.labels, p.per_cell, p.seed)
    title = (
        f"{snakemake.wildcards.experiment}: test beats by true and predicted class "
        f"(record mm:ss, p of the call; seed {p.seed})"
    )
    plot_gallery(cells, p.per_cell, p.fs, title, snakemake.output[0])
    log.info(
        "cells: %s",
        {f"{c.true}->{c.predicted}": f"{len(c.beats)}/{c.count}" for c in cells},
    )
