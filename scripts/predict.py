"""Snakemake job: one record of a predict dataset -> results/predict/{dataset}/{record}.csv."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.model import Classifier
from ecg2d.predict import predict_record, write_table
from ecg2d.workflow import job

with job(snakemake) as log:
    p = snakemake.params
    classifier = Classifier.load(snakemake.input.model)
    log.info("model %s: classes %s", snakemake.input.model, classifier.classes)
    table, _ = predict_record(p.path, p.record, p.settings, classifier, p.fs, p.window,
                              p.image_size, p.class_map, log, p.detection)  # fmt: skip
    write_table(table, snakemake.output[0])
    log.info("record %s: %d beats, predicted %s", p.record, len(table),
             table["label"].value_counts().to_dict())  # fmt: skip
