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
        amplitude=window_amplitude,
        leads=window_leads,
        pack=config["pack_images"],
    script:
        "../scripts/png.py"


use rule png as png_window with:
    input:
        "results/windows/{window}/beats/{record}.npz",
    output:
        directory("results/windows/{window}/png/{record}"),
    log:
        "logs/windows/{window}/png/{record}.log",
    benchmark:
        "results/benchmarks/windows/{window}/png/{record}.tsv"
