"""Snakemake job: results/{experiment}/manifest.csv and the cross-validation crops ->
results/{experiment}/cv/fold{k}/manifest.csv (fold k's original beats test, the other folds'
beats and their crops train). Checked for leakage before it is written."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.atomic import write_csv
from ecg2d.cv import assign_folds, cv_manifest, fold_manifest
from ecg2d.split import read_table
from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    name = snakemake.wildcards.experiment
    k = int(snakemake.wildcards.k)
    where = f"experiment {name} fold {k} (experiments.{name}.cv_folds: {p.folds})"
    if not 1 <= k <= p.folds:
        raise ValueError(f"{where}: there is no such fold")
    try:
        manifest = cv_manifest(
            read_table(snakemake.input.manifest), p.augment, snakemake.input.crops, p.n_crops
        )
        table = fold_manifest(manifest, assign_folds(manifest, p.folds, p.seed), k)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc
    write_csv(table, snakemake.output[0])
    originals = manifest[manifest["augmented"] == 0]
    few = originals["label"].value_counts().loc[lambda n: n < p.folds]
    if len(few):
        log.warning(
            "%s: fewer beats than folds of %s: some folds test none of them",
            where,
            ", ".join(f"{label} ({n})" for label, n in few.items()),
        )
    log.info(
        "%s: %d rows\n%s",
        where,
        len(table),
        table.groupby(["split", "augmented", "label"]).size().to_string(),
    )
