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
        augment=lookup(dpath="experiments/{experiment}/augment", within=config),
        crop=config["crop"],
        pack=config["pack_images"],
    script:
        "../scripts/crops.py"
