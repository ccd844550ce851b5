# ECG strips of each experiment's test records (report category "Strips", part of rule all
# through REPORT_TARGETS): checkpoint strip_records counts the misclassified test beats of each
# record in predictions.csv and chooses the report.strips_per_experiment records with the
# most; rule experiment_strips draws one of them (ecg2d/strips.py) from its predictions and the
# lead of its beats file, as the experiment read it (lead, fallback_channel, fs).

from ecg2d.strips import shown_records

#: Input functions of rule all, one per experiment (each waits only for its own checkpoint):
#: the strips of the records that checkpoint strip_records chose.
STRIP_TARGETS = [
    lambda wildcards, e=experiment: expand(
        "results/{experiment}/strips/{record}.strips.png",
        experiment=e,
        record=shown_records(checkpoints.strip_records.get(experiment=e).output[0]),
    )
    for experiment in (EXPERIMENTS if config["report"]["strips_per_experiment"] else [])
]


checkpoint strip_records:
    input:
        predictions="results/{experiment}/predictions.csv",
    output:
        "results/{experiment}/strips/records.csv",
    log:
        "logs/{experiment}/strips/records.log",
    benchmark:
        "results/benchmarks/{experiment}/strips/records.tsv"
    conda:
        "../envs/report.yaml"
    params:
        labels=lambda wc: list(
            dict.fromkeys(config["experiments"][wc.experiment]["classes"].values())
        ),
        n=config["report"]["strips_per_experiment"],
    script:
        "../scripts/experiment_strips.py"


rule experiment_strips:
    input:
        predictions="results/{experiment}/predictions.csv",
        beats=experiment_beats,
    output:
        report(
            "results/{experiment}/strips/{record}.strips.png",
            caption="../report/experiment_strips.rst",
            category="Strips",
            subcategory="{experiment}",
        ),
    log:
        "logs/{experiment}/strips/{record}.log",
    benchmark:
        "results/benchmarks/{experiment}/strips/{record}.tsv"
    conda:
        "../envs/report.yaml"
    params:
        labels=lambda wc: list(
            dict.fromkeys(config["experiments"][wc.experiment]["classes"].values())
        ),
    script:
        "../scripts/experiment_strips.py"
