"""Snakemake job: results/{experiment}/manifest.csv -> model.h5, model.json, history.csv, curves."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.model import limit_threads

limit_threads(snakemake.threads)

from ecg2d.split import read_table
from ecg2d.train import data_settings, fit_model, plot_history, save_model, write_history
from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    out = snakemake.output
    name = snakemake.wildcards.experiment
    data = data_settings(
        fs=p.fs,
        window=p.window,
        image_size=p.image_size,
        crop=p.crop,
        lead=p.lead,
        fallback_channel=p.fallback_channel,
        lead2=p.lead2,
        segmentation=p.experiment["segmentation"],
        detector=p.experiment["detector"],
    )
    manifest = read_table(snakemake.input.manifest)
    model, history, info = fit_model(
        manifest, p.experiment, seed=p.seed, workers=snakemake.threads, name=name, data=data
    )
    write_history(history, out.history)
    plot_history(history, out.curves, title=f"{name}: training curves")
    save_model(model, info, out.model)
    log.info(
        "model of %s saved: %d epochs (best %s), %d images seen in %.0f s",
        name,
        info["epochs_run"],
        info["best_epoch"],
        info["images_seen"],
        info["training_seconds"],
    )
