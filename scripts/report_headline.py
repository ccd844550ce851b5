"""Snakemake job: every experiment's metrics.json -> headline table (HTML page, RST fragment)."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.headline import headline_html, headline_rst, read_headline

from ecg2d.report import write_text
from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    headlines = [
        read_headline(path, p.classes[name], p.seed)
        for name, path in zip(p.experiments, snakemake.input.metrics, strict=True)
    ]
    write_text(headline_html(headlines), snakemake.output.html)
    write_text(headline_rst(headlines), snakemake.output.rst)
    log.info("headline of %s", ", ".join(h.experiment for h in headlines))
