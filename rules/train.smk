rule train:
    input:
        manifest="results/{experiment}/manifest.csv",
    output:
        model="results/{experiment}/model.h5",
        info="results/{experiment}/model.json",
        history="results/{experiment}/history.csv",
        curves=report(
            "results/{experiment}/training_curves.png",
            caption="../report/training_curves.rst",
            category="Training",
            subcategory="{experiment}",
        ),
    log:
        "logs/{experiment}/train.log",
    benchmark:
        "results/benchmarks/{experiment}/train.tsv"
    conda:
        "../envs/train.yaml"
    threads: 8  # capped by --cores; the SLURM profile sets its own
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
