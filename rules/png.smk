rule png:
    input:
        "results/beats/{record}.npz",
    output:
        directory("results/png/{record}"),
    log:
        "logs/png/{record}.log",
    benchmark:
        "results/benchmarks/png/{record}.tsv"
    group:
        "record"
    conda:
        "../envs/data.yaml"
    params:
        image_size=config["image_size"],
    script:
        "../scripts/png.py"
