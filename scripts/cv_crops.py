"""Snakemake job: an experiment's uncropped beats -> results/{experiment}/cv/crops/{record}/.

In cross-validation (target ``cv``) every beat trains in the other folds, so the test beats of
an augmented class, which the experiment itself never crops, get their crops here.
"""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.augment import crop_record
from ecg2d.cv import uncropped_beats
from ecg2d.split import read_table
from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    source = uncropped_beats(read_table(snakemake.input.split), p.augment)
    n = crop_record(
        snakemake.input.png,
        source["sample"],
        snakemake.wildcards.record,
        snakemake.output[0],
        p.crop["size"],
        tuple(p.crop["offsets"]),
    )
    log.info("%d crops of %d test beats for cross-validation", n, len(source))
