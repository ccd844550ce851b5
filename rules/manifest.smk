rule manifest:
    input:
        splits=split_csvs,
        crops=crop_dirs,
    output:
        "results/{experiment}/manifest.csv",
    log:
        "logs/{experiment}/manifest.log",
    conda:
        "../envs/data.yaml"
    params:
        augment=lookup(dpath="experiments/{experiment}/augment", within=config),
        n_crops=N_CROPS,
        split=lambda wc: split_settings(config["experiments"][wc.experiment]),
    script:
        "../scripts/manifest.py"
