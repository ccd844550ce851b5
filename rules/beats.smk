rule beats:
    input:
        record_inputs,
    output:
        "results/beats/{record}.npz",
    log:
        "logs/beats/{record}.log",
    benchmark:
        "results/benchmarks/beats/{record}.tsv"
    group:
        "record"
    conda:
        "../envs/data.yaml"
    params:
        data_dir=data_dir(),
        record=lambda wc: wc.record,
        lead=config["lead"],
        fallback_channel=config["fallback_channel"],
        fs=config["fs"],
        window=config["window"],
    script:
        "../scripts/beats.py"
