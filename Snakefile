import os
import sys

from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config/config.yaml")


sys.path.insert(0, workflow.basedir)

from ecg2d.config import validate_config

validate_config(config, os.path.join(workflow.basedir, "config/schema.yaml"))


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
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        all_targets(),
        REPORT_TARGETS,
