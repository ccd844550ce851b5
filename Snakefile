import sys

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "config/schema.yaml")

sys.path.insert(0, workflow.basedir)


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/beats.smk"
include: "rules/png.smk"
include: "rules/split.smk"
include: "rules/augment.smk"
include: "rules/manifest.smk"


rule all:
    default_target: True
    input:
        all_targets(),
