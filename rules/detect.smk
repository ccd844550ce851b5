rule detect:
    input:
        record_inputs,
    output:
        beats="results/beats_detected/{detector}/{record}.npz",
        scores="results/detection/{detector}/{record}.csv",
    log:
        "logs/detection/{detector}/{record}.log",
    benchmark:
        "results/benchmarks/detection/{detector}/{record}.tsv"
    wildcard_constraints:
        detector="|".join(DETECTORS),
    conda:
        "../envs/detect.yaml"
    params:
        data_dir=data_dir(),
        lead=config["lead"],
        fallback_channel=config["fallback_channel"],
        fs=config["fs"],
        window=config["window"],
        detection=DETECTION,
    script:
        "../scripts/detect.py"


rule detection_summary:
    input:
        detection_scores,
    output:
        summary="results/detection/summary.json",
        records="results/detection/records.csv",
    log:
        "logs/detection/summary.log",
    conda:
        "../envs/detect.yaml"
    params:
        detection=DETECTION,
    script:
        "../scripts/detect_summary.py"


rule detection:
    input:
        "results/detection/summary.json",


rule png_detected:
    input:
        "results/beats_detected/{detector}/{record}.npz",
    output:
        directory("results/png_detected/{detector}/{record}"),
    log:
        "logs/png_detected/{detector}/{record}.log",
    benchmark:
        "results/benchmarks/png_detected/{detector}/{record}.tsv"
    wildcard_constraints:
        detector="|".join(DETECTORS),
    conda:
        "../envs/data.yaml"
    params:
        image_size=config["image_size"],
    script:
        "../scripts/png.py"
