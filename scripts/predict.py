"""Snakemake job: one record of a predict dataset -> results/predict/{dataset}/{record}.csv."""

from _bootstrap import add_package_path

add_package_path(snakemake.scriptdir)

from ecg2d.classifier import Classifier
from ecg2d.atomic import write_csv
from ecg2d.predict import model_settings, predict_record
from ecg2d.workflow import job

with job(snakemake) as log:
    p, record = snakemake.params, snakemake.wildcards.record
    model = snakemake.input.model
    classifier = Classifier.load(model)
    data = model_settings(classifier.info, p.workflow_data, model, log)
    log.info("model %s: classes %s, fs %g, window %s, image size %d, trained on lead %s; "
             "dataset lead %s (fallback channel %s)", model, classifier.classes, data["fs"],
             data["window"], data["image_size"],
             (classifier.info.get("data") or {}).get("lead", "(not recorded)"),
             p.settings["lead"], p.settings["fallback_channel"])  # fmt: skip
    table, _ = predict_record(p.path, record, p.settings, classifier, data["fs"],
                              data["window"], data["image_size"], p.class_map, log,
                              p.detection)  # fmt: skip
    write_csv(table, snakemake.output[0])
    detected = table[table["detected"] == 1]
    log.info("record %s: %d beats, predicted %s", record, len(detected),
             detected["label"].value_counts().to_dict())  # fmt: skip
