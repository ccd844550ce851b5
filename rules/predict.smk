rule predict_record:
    input:
        unpack(predict_inputs),
    output:
        "results/predict/{dataset}/{record}.csv",
    log:
        "logs/predict/{dataset}/{record}.log",
    benchmark:
        "results/benchmarks/predict/{dataset}/{record}.tsv"
    wildcard_constraints:
        dataset=dataset_pattern(),
    conda:
        "../envs/detect.yaml"
    params:
        path=lambda wc: predict_path(PREDICT_DATASETS[wc.dataset]),
        settings=lookup(dpath="{dataset}", within=PREDICT_DATASETS),
        class_map=lambda wc: config["experiments"][
            PREDICT_DATASETS[wc.dataset]["experiment"]
        ]["classes"],
        detection=config["detection"],
        # the workflow's data settings (the experiment's window), used only for models whose
        # model.json lacks them
        workflow_data=lambda wc: {
            "fs": config["fs"],
            "window": experiment_window(
                config, PREDICT_DATASETS[wc.dataset]["experiment"]
            ),
            "image_size": config["image_size"],
        },
    script:
        "../scripts/predict.py"


rule predict_annotations:
    input:
        table="results/predict/{dataset}/{record}.csv",
        header=lambda wc: f"{predict_path(PREDICT_DATASETS[wc.dataset])}/{wc.record}.hea",
    output:
        "results/predict/{dataset}/{record}.{ext}",
    log:
        "logs/predict/{dataset}/{record}.{ext}.log",
    wildcard_constraints:
        dataset=dataset_pattern(),
        ext=r"(?!(csv|json|log|tsv)$)[A-Za-z][A-Za-z0-9]*",
    conda:
        "../envs/detect.yaml"
    script:
        "../scripts/predict_annotations.py"


rule predict_strips:
    input:
        table="results/predict/{dataset}/{record}.csv",
        record=predict_record_files,
    output:
        report(
            "results/predict/{dataset}/{record}.strips.png",
            caption="../report/strips.rst",
            category="Strips",
            subcategory="{dataset}",
        ),
    log:
        "logs/predict/{dataset}/{record}.strips.log",
    benchmark:
        "results/benchmarks/predict/{dataset}/{record}.strips.tsv"
    wildcard_constraints:
        dataset=dataset_pattern(),
    conda:
        "../envs/detect.yaml"
    params:
        path=lambda wc: predict_path(PREDICT_DATASETS[wc.dataset]),
        settings=lookup(dpath="{dataset}", within=PREDICT_DATASETS),
    script:
        "../scripts/predict_strips.py"


rule predict_metrics:
    input:
        dataset_tables,
    output:
        "results/predict/{dataset}/metrics.json",
    log:
        "logs/predict/{dataset}/metrics.log",
    wildcard_constraints:
        dataset=dataset_pattern(),
    conda:
        "../envs/detect.yaml"
    params:
        settings=lookup(dpath="{dataset}", within=PREDICT_DATASETS),
    script:
        "../scripts/predict_metrics.py"


rule predict:
    input:
        lambda wc: predict_targets(),
