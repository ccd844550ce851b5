"""Snakemake job: beats' images -> nine crops each, in the rule's output folder.

Rule ``crops`` (results/{experiment}/crops/{record}/) crops the record's training beats of the
``augment`` classes; rule ``cv_crops`` (``params.beats: test``; results/{experiment}/cv/crops/)
crops its test beats of those classes, which train in the other folds of cross-validation.
"""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.augment import crop_record
from ecg2d.cv import uncropped_beats
from ecg2d.split import beats_to_augment, read_table
from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    which = p.get("beats", "training")
    choose = uncropped_beats if which == "test" else beats_to_augment
    source = choose(read_table(snakemake.input.split), p.augment)
    n = crop_record(
        snakemake.input.png,
        source["sample"],
        snakemake.wildcards.record,
        snakemake.output[0],
        p.crop["size"],
        tuple(p.crop["offsets"]),
        p.pack,
    )
    log.info("%d crops of %d %s beats", n, len(source), which)
