rule crops:
    input:
        split="results/{experiment}/split/{record}.csv",
        png=experiment_png,
    output:
        directory("results/{experiment}/crops/{record}"),
    log:
        "logs/{experiment}/crops/{record}.log",
    benchmark:
        "results/benchmarks/{experiment}/crops/{record}.tsv"
    group:
        "record"
    conda:
        "../envs/data.yaml"
    params:
        augment=lambda wc: config["experiments"][wc.experiment]["augment"],
        crop=config["crop"],
    script:
        "../scripts/crops.py"
