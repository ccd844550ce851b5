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
        lead=config["lead"],
        fallback_channel=config["fallback_channel"],
        lead2=config["lead2"],
        fs=config["fs"],
        window=window_cut,
        # the arrays of a beats file: a new one (e.g. rr_irregularity) rebuilds old files
        arrays=sorted(BEATS_KEYS),
    script:
        "../scripts/beats.py"


# The same job for an experiment's own window (experiments.<name>.window).
use rule beats as beats_window with:
    output:
        "results/windows/{window}/beats/{record}.npz",
    log:
        "logs/windows/{window}/beats/{record}.log",
    benchmark:
        "results/benchmarks/windows/{window}/beats/{record}.tsv"
