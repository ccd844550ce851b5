rule split:
    input:
        experiment_beats,
    output:
        "results/{experiment}/split/{record}.csv",
    log:
        "logs/{experiment}/split/{record}.log",
    group:
        "record"
    conda:
        "../envs/data.yaml"
    params:
        experiment=lambda wc: split_settings(config["experiments"][wc.experiment]),
        seed=config["seed"],
        png_dir=experiment_png,
    script:
        "../scripts/split.py"
