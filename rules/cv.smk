# K-fold cross-validation of intra-patient experiments (`cv_folds: K`), target `cv`; not part
# of rule all. One job per fold for the manifest, training and evaluation, so a cluster runs
# the folds side by side. The folds: ecg2d/cv.py.
import re

from ecg2d.cv import cv_experiments, cv_targets, fold_files

# {experiment: K} of the cross-validated experiments; the cv rules match only these.
CV_FOLDS = cv_experiments(config)
CV_EXPERIMENT = "|".join(map(re.escape, CV_FOLDS)) or "(?!)"


wildcard_constraints:
    k=r"[1-9][0-9]*",


# Crops of the experiment's test beats (it crops only its training beats): in cross-validation
# every beat trains in the other folds.
rule cv_crops:
    input:
        split="results/{experiment}/split/{record}.csv",
        png=experiment_png,
    output:
        directory("results/{experiment}/cv/crops/{record}"),
    log:
        "logs/{experiment}/cv/crops/{record}.log",
    benchmark:
        "results/benchmarks/{experiment}/cv/crops/{record}.tsv"
    wildcard_constraints:
        experiment=CV_EXPERIMENT,
    group:
        "record"
    conda:
        "../envs/data.yaml"
    params:
        augment=lookup(dpath="experiments/{experiment}/augment", within=config),
        crop=config["crop"],
        pack=config["pack_images"],
        beats="test",
    script:
        "../scripts/crops.py"


rule cv_manifest:
    input:
        manifest="results/{experiment}/manifest.csv",
        crops=lambda wc: expand(
            "results/{experiment}/cv/crops/{record}",
            experiment=wc.experiment,
            record=experiment_records(config, wc.experiment),
        ),
    output:
        "results/{experiment}/cv/fold{k}/manifest.csv",
    log:
        "logs/{experiment}/cv/fold{k}/manifest.log",
    wildcard_constraints:
        experiment=CV_EXPERIMENT,
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
    params:
        folds=lookup(dpath="experiments/{experiment}/cv_folds", within=config),
        augment=lookup(dpath="experiments/{experiment}/augment", within=config),
        n_crops=N_CROPS,
        seed=config["seed"],
    script:
        "../scripts/cv_manifest.py"


# Training and evaluation of one fold: the settings and scripts of rules train and evaluate, on
# the fold's manifest.
rule cv_train:
    input:
        manifest="results/{experiment}/cv/fold{k}/manifest.csv",
    output:
        model="results/{experiment}/cv/fold{k}/model.h5",
        info="results/{experiment}/cv/fold{k}/model.json",
        history="results/{experiment}/cv/fold{k}/history.csv",
        curves="results/{experiment}/cv/fold{k}/training_curves.png",
    log:
        "logs/{experiment}/cv/fold{k}/train.log",
    benchmark:
        "results/benchmarks/{experiment}/cv/fold{k}/train.tsv"
    wildcard_constraints:
        experiment=CV_EXPERIMENT,
    conda:
        "../envs/train.yaml"
    threads: 8  # capped by --cores
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        # the data settings the beats were made with, stored in model.json (its data block)
        **TRAIN_DATA_PARAMS,
        window=train_window,
        experiment=lookup(dpath="experiments/{experiment}", within=config),
        seed=config["seed"],
    script:
        "../scripts/train.py"


rule cv_evaluate:
    input:
        manifest="results/{experiment}/cv/fold{k}/manifest.csv",
        model="results/{experiment}/cv/fold{k}/model.h5",
        info="results/{experiment}/cv/fold{k}/model.json",
    output:
        metrics="results/{experiment}/cv/fold{k}/metrics.json",
        predictions="results/{experiment}/cv/fold{k}/predictions.csv",
        confusion="results/{experiment}/cv/fold{k}/confusion_matrix.png",
    log:
        "logs/{experiment}/cv/fold{k}/evaluate.log",
    benchmark:
        "results/benchmarks/{experiment}/cv/fold{k}/evaluate.tsv"
    wildcard_constraints:
        experiment=CV_EXPERIMENT,
    conda:
        "../envs/train.yaml"
    threads: 8  # capped by --cores
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        experiment=lambda wc: split_settings(config["experiments"][wc.experiment]),
        seed=config["seed"],
    script:
        "../scripts/evaluate.py"


rule cv_summary:
    input:
        lambda wc: fold_files(wc.experiment, CV_FOLDS[wc.experiment], "metrics.json"),
    output:
        summary="results/{experiment}/cv/summary.json",
        table="results/{experiment}/cv/summary.md",
    log:
        "logs/{experiment}/cv/summary.log",
    wildcard_constraints:
        experiment=CV_EXPERIMENT,
    conda:
        "../envs/data.yaml"
    params:
        seed=config["seed"],
    script:
        "../scripts/cv_summary.py"


# `snakemake cv --cores N`: the cross-validation of every experiment with cv_folds: K.
rule cv:
    input:
        cv_targets(config),
