rule split:
    input:
        "results/beats/{record}.npz",
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
        png_dir=lambda wc: f"results/png/{wc.record}",
    script:
        "../scripts/split.py"
