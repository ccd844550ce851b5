# Report items (`snakemake --report report.html`): beat counts and example beats per
# experiment; per trained experiment, a metrics table, a per-record table and figure, and a
# gallery of its confusions; over all experiments, the headline figures beside the published
# anchors (also included in the report's front page, report/workflow.rst).
# Training curves and confusion matrices are marked for the report by rules train and evaluate.


#: Every report item these rules make, and the strips of rules/strips.smk (part of rule all).
REPORT_TARGETS = expand(
    "results/report/{experiment}/{name}",
    experiment=EXPERIMENTS,
    name=[
        "beat_counts.html",
        "beat_counts.png",
        "example_beats.png",
        "metrics.html",
        "per_record.html",
        "per_record.png",
        "gallery.png",
    ],
) + ["results/report/headline.html", *STRIP_TARGETS]

#: Report category of the headline: first in the report's menu (sorted by name).
HEADLINE_CATEGORY = "At a glance"


rule beat_counts:
    input:
        splits=split_csvs,
    output:
        table="results/report/{experiment}/beat_counts.csv",
        html=report(
            "results/report/{experiment}/beat_counts.html",
            caption="../report/beat_counts.rst",
            category="Data",
            subcategory="{experiment}",
        ),
        plot=report(
            "results/report/{experiment}/beat_counts.png",
            caption="../report/beat_counts.rst",
            category="Data",
            subcategory="{experiment}",
        ),
    log:
        "logs/{experiment}/report/beat_counts.log",
    conda:
        "../envs/report.yaml"
    params:
        labels=lambda wc: list(
            dict.fromkeys(config["experiments"][wc.experiment]["classes"].values())
        ),
    script:
        "../scripts/report_beat_counts.py"


rule example_beats:
    input:
        splits=split_csvs,
        pngs=experiment_pngs,
    output:
        report(
            "results/report/{experiment}/example_beats.png",
            caption="../report/example_beats.rst",
            category="Data",
            subcategory="{experiment}",
        ),
    log:
        "logs/{experiment}/report/example_beats.log",
    conda:
        "../envs/report.yaml"
    params:
        labels=lambda wc: list(
            dict.fromkeys(config["experiments"][wc.experiment]["classes"].values())
        ),
        per_class=8,
        seed=config["seed"],
    script:
        "../scripts/report_example_beats.py"


rule metrics_table:
    input:
        "results/{experiment}/metrics.json",
    output:
        table="results/report/{experiment}/metrics.csv",
        html=report(
            "results/report/{experiment}/metrics.html",
            caption="../report/metrics.rst",
            category="Evaluation",
            subcategory="{experiment}",
        ),
        per_record="results/report/{experiment}/per_record.csv",
        per_record_html=report(
            "results/report/{experiment}/per_record.html",
            caption="../report/per_record.rst",
            category="Evaluation",
            subcategory="{experiment}",
        ),
        per_record_plot=report(
            "results/report/{experiment}/per_record.png",
            caption="../report/per_record.rst",
            category="Evaluation",
            subcategory="{experiment}",
        ),
    log:
        "logs/{experiment}/report/metrics.log",
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report_metrics.py"


rule gallery:
    input:
        predictions="results/{experiment}/predictions.csv",
        manifest="results/{experiment}/manifest.csv",
        pngs=experiment_pngs,
    output:
        report(
            "results/report/{experiment}/gallery.png",
            caption="../report/gallery.rst",
            category="Confusions",
            subcategory="{experiment}",
        ),
    log:
        "logs/{experiment}/report/gallery.log",
    benchmark:
        "results/benchmarks/{experiment}/report_gallery.tsv"
    conda:
        "../envs/report.yaml"
    params:
        labels=lambda wc: list(
            dict.fromkeys(config["experiments"][wc.experiment]["classes"].values())
        ),
        per_cell=8,
        seed=config["seed"],
        fs=config["fs"],
    script:
        "../scripts/report_gallery.py"


rule headline:
    input:
        metrics=expand("results/{experiment}/metrics.json", experiment=EXPERIMENTS),
    output:
        html=report(
            "results/report/headline.html",
            caption="../report/headline.rst",
            category=HEADLINE_CATEGORY,
        ),
        # included by report/workflow.rst: the figures on the report's first screen
        rst="results/report/headline.rst",
    log:
        "logs/report/headline.log",
    conda:
        "../envs/report.yaml"
    params:
        experiments=EXPERIMENTS,
        classes={name: config["experiments"][name]["classes"] for name in EXPERIMENTS},
        seed=config["seed"],
    script:
        "../scripts/report_headline.py"
