"""Snakemake job: one record -> results/beats/{record}.npz."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.io import read_record
from ecg2d.segment import save_beats, segment_record, window_band, window_leads
from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    name = snakemake.wildcards.record
    record = read_record(p.data_dir, name, p.lead, p.fallback_channel, p.fs, lead2=p.lead2)
    log.info(
        "record %s: lead %s, %d samples at %g Hz",
        record.name,
        record.lead,
        len(record.signal),
        record.fs,
    )
    window = p.window
    beats = segment_record(
        record,
        window["mode"],
        tuple(window["fixed_ms"]),
        window_band(window),
        window_leads(window),
    )
    save_beats(beats, snakemake.output[0])
    log.info(
        "record %s: %d beats cut (%s windows)", record.name, len(beats["sample"]), window["mode"]
    )
