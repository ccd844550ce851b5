"""Snakemake job: results/{experiment}/manifest.csv -> model.h5, model.json, history.csv, curves."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.model import limit_threads

limit_threads(snakemake.threads)

from ecg2d.split import read_table
from ecg2d.train import fit_model, plot_history, save_model, write_history
from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    out = snakemake.output
    manifest = read_table(snakemake.input.manifest)
    model, history, info = fit_model(
        manifest, p.experiment, seed=p.seed, workers=snakemake.threads, name=p.name
    )
    write_history(history, out.history)
    plot_history(history, out.curves, title=f"{p.name}: training curves")
    save_model(model, info, out.model)
    log.info(
        "model of %s saved: %d epochs (best %s), %d images seen in %.0f s",
        p.name,
        info["epochs_run"],
        info["best_epoch"],
        info["images_seen"],
        info["training_seconds"],
    )
