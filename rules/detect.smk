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
        lead2=config["lead2"],
        fs=config["fs"],
        window=window_cut,
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
        amplitude=window_amplitude,
        leads=window_leads,
        pack=config["pack_images"],
    script:
        "../scripts/png.py"


# Detector beats and their images for an experiment's own window (experiments.<name>.window);
# the detection scores do not depend on the window and are written again beside them.
use rule detect as detect_window with:
    output:
        beats="results/windows/{window}/beats_detected/{detector}/{record}.npz",
        scores="results/windows/{window}/detection/{detector}/{record}.csv",
    log:
        "logs/windows/{window}/detection/{detector}/{record}.log",
    benchmark:
        "results/benchmarks/windows/{window}/detection/{detector}/{record}.tsv"


use rule png_detected as png_detected_window with:
    input:
        "results/windows/{window}/beats_detected/{detector}/{record}.npz",
    output:
        directory("results/windows/{window}/png_detected/{detector}/{record}"),
    log:
        "logs/windows/{window}/png_detected/{detector}/{record}.log",
    benchmark:
        "results/benchmarks/windows/{window}/png_detected/{detector}/{record}.tsv"
