"""Snakemake job: per-record splits and crops -> results/{experiment}/manifest.csv.

The manifest is checked for leakage (:func:`ecg2d.split.check_manifest`) before it is written:
a leaky manifest fails the job, naming the record and sample, and is never written.
"""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.atomic import write_csv
from ecg2d.split import (
    build_manifest,
    check_experiment_manifest,
    untrained_classes,
)
from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    experiment = snakemake.wildcards.experiment
    split = p.split
    manifest = build_manifest(snakemake.input.splits, snakemake.input.crops, p.augment, p.n_crops)
    check_experiment_manifest(manifest, split)
    write_csv(manifest, snakemake.output[0])
    log.info(
        "manifest: %d rows\n%s",
        len(manifest),
        manifest.groupby(["split", "augmented", "label"]).size().to_string(),
    )
    # A class without training beats is a warning, not an error: small record subsets lack
    # rare classes, but a model trained on this manifest cannot predict them.
    untrained = untrained_classes(manifest, split["classes"])
    if untrained:
        log.warning(
            "experiment %s: no training beats of %s %s (test beats: %s); a model trained on "
            "this manifest cannot predict them: add records with such beats or remove them "
            "from experiments.%s.classes",
            experiment,
            "class" if len(untrained) == 1 else "classes",
            ", ".join(untrained),
            ", ".join(f"{label}={n}" for label, n in untrained.items()),
            experiment,
        )
