"""Snakemake job: one record, one detector -> detector-based beats and detection scores."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.detect import detect_record, write_scores
from ecg2d.io import read_record
from ecg2d.segment import save_beats
from ecg2d.workflow import job

with job(snakemake) as log:
    p, w = snakemake.params, snakemake.wildcards
    record = read_record(p.data_dir, w.record, p.lead, p.fallback_channel, p.fs, lead2=p.lead2)
    log.info("record %s: lead %s, %d samples at %g Hz", record.name, record.lead,
             len(record.signal), record.fs)  # fmt: skip
    beats, rows = detect_record(record, w.detector, p.detection, p.window)
    for row in rows:
        log.info("%s %s (%s): TP %d FN %d FP %d Se %.2f %% +P %.2f %%", w.record, w.detector,
                 row["stage"], row["TP"], row["FN"], row["FP"], row["Se"], row["+P"])  # fmt: skip
    save_beats(beats, snakemake.output.beats)
    write_scores(rows, snakemake.output.scores)
    log.info("record %s: %d detector-based beats (%d unmatched)", w.record,
             len(beats["sample"]), int((~beats["matched"]).sum()))  # fmt: skip
