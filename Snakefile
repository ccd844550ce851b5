from snakemake.utils import min_version

# 9.19: the first Snakemake that reads profiles/*/profile.yaml (pinned: requirements.txt).
min_version("9.19")


# Every workflow file is found relative to this Snakefile (Snakemake's source cache), so the
# workflow runs the same from its checkout, from another working directory and as a `module`.
# Run directly, the shipped config/config.yaml is the base and --configfile/--config are merged
# over it key by key. Used as a module with `config: config`, Snakemake skips this line: the
# user's config is the whole config, and every key it leaves out takes its default from
# config/schema.yaml (see config/README.md).
configfile: workflow.source_path("config/config.yaml")


from ecg2d.config import check_config_files, validate_config

check_config_files(workflow.configfiles)
validate_config(config, workflow.source_path("config/schema.yaml"))


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/beats.smk"
include: "rules/png.smk"
include: "rules/split.smk"
include: "rules/augment.smk"
include: "rules/manifest.smk"
include: "rules/train.smk"
include: "rules/evaluate.smk"
include: "rules/detect.smk"
include: "rules/predict.smk"
include: "rules/strips.smk"
include: "rules/report.smk"
include: "rules/cv.smk"


rule all:
    default_target: True
    input:
        all_targets(),
        REPORT_TARGETS,
