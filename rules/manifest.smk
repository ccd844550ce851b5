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
        augment=lambda wc: config["experiments"][wc.experiment]["augment"],
        n_crops=N_CROPS,
        split=lambda wc: split_settings(config["experiments"][wc.experiment]),
    script:
        "../scripts/manifest.py"
