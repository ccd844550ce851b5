"""Snakemake jobs of rules/strips.smk, from an experiment's predictions.csv:

- checkpoint strip_records -> results/{experiment}/strips/records.csv (the records to draw);
- rule experiment_strips, with a record's beats file ->
  results/{experiment}/strips/{record}.strips.png.
"""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.atomic import write_csv
from ecg2d.gallery import read_predictions
from ecg2d.segment import load_beats
from ecg2d.strips import (
    MAX_ROWS,
    experiment_heading,
    experiment_table,
    plot_strips,
    shown,
    strip_records,
)
from ecg2d.workflow import job

with job(snakemake) as log:
    p, wildcards = snakemake.params, snakemake.wildcards
    predictions = read_predictions(snakemake.input.predictions, p.labels)
    if snakemake.rule == "strip_records":
        records = strip_records(predictions, p.n)
        write_csv(records, snakemake.output[0])
        log.info("strips of %s (test beats, errors):\n%s", wildcards.experiment,
                 records.to_string(index=False))  # fmt: skip
    else:
        record, beats = wildcards.record, load_beats(snakemake.input.beats)
        lead, fs = str(beats["lead"]), float(beats["fs"])
        table = experiment_table(predictions, record, lead)
        heading = experiment_heading(table, wildcards.experiment, record, lead)
        plan = plot_strips(beats["signal"], fs, table, snakemake.output[0], record=record,
                           lead=lead, reference=True, heading=heading)  # fmt: skip
        log.info("%s: %s; %d rows of 10 s: %s", snakemake.output[0], heading, len(plan.starts),
                 shown(plan, len(beats["signal"]) / fs, MAX_ROWS))  # fmt: skip
