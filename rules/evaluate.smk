rule evaluate:
    input:
        # detector experiments: the test records' reference and detector beats
        unpack(detection_inputs),
        manifest="results/{experiment}/manifest.csv",
        model="results/{experiment}/model.h5",
        info="results/{experiment}/model.json",
    output:
        metrics="results/{experiment}/metrics.json",
        predictions="results/{experiment}/predictions.csv",
        confusion=report(
            "results/{experiment}/confusion_matrix.png",
            caption="../report/confusion_matrix.rst",
            category="Evaluation",
            subcategory="{experiment}",
        ),
    log:
        "logs/{experiment}/evaluate.log",
    benchmark:
        "results/benchmarks/{experiment}/evaluate.tsv"
    conda:
        "../envs/train.yaml"
    threads: 8  # capped by --cores; the SLURM profile sets its own
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        experiment=lambda wc: split_settings(config["experiments"][wc.experiment]),
        seed=config["seed"],
    script:
        "../scripts/evaluate.py"
