import os
import re

from ecg2d.config import (
    check_config,
    evaluated_records,
    experiment_records,
    experiment_window,
    experiment_windows,
    selected_records,
    window_prefix,
)
from ecg2d.segment import BEATS_KEYS
from ecg2d.split import split_settings
from ecg2d.workflow import coalesce_scheduler_reevaluations

check_config(config)

# One pending scheduler re-run instead of one chain per finished job: keeps Snakemake's main
# process from burning a core while a job waits for cores (issue 11, bench/scheduler_wait.py).
coalesce_scheduler_reevaluations()

# Scripts import scripts/_bootstrap.py from their own folder. Snakemake copies only the files a
# rule names into its source cache when the workflow is a remote module (github(...)), so fetch
# this helper there too; for a local checkout this is a harmless copy.
workflow.source_path("../scripts/_bootstrap.py")

RECORDS = selected_records(config)
EXPERIMENTS = list(config["experiments"])
DOWNLOAD_DIR = "resources/mitdb"
N_CROPS = len(config["crop"]["offsets"]) ** 2
#: Beat windows of experiments that set their own (results/windows/{window}/), by name.
WINDOWS = experiment_windows(config)
#: The workflow's data settings a trained model records (model.json's data block): params of
#: rules train and cv_train, with the experiment's window (params ``window``).
TRAIN_DATA_PARAMS = {
    key: config[key]
    for key in ("fs", "image_size", "crop", "lead", "fallback_channel", "lead2")
}


def rule_window(wildcards):
    """The window of a beats, detect or png job: its ``{window}`` (results/windows/...) or
    the top-level one."""
    name = getattr(wildcards, "window", None)
    return WINDOWS[name] if name else config["window"]


def window_cut(wildcards):
    """How a beats or detect job cuts its windows (``mode``, ``fixed_ms``) and the band of the
    signal they are drawn from (``highpass_hz``, ``lowpass_hz``), and whether its beats keep
    the second lead (``leads``); not amplitude."""
    window = rule_window(wildcards)
    return {
        key: window[key]
        for key in ("mode", "fixed_ms", "highpass_hz", "lowpass_hz", "leads")
    }


def window_amplitude(wildcards):
    """How a png job scales a beat's amplitude: ``beat`` or ``record``."""
    return rule_window(wildcards)["amplitude"]


def window_leads(wildcards):
    """How many leads a png job draws in each beat image: 1 or 2."""
    return rule_window(wildcards)["leads"]


def train_window(wildcards):
    """The window of experiment ``{experiment}``, recorded in its model.json."""
    return experiment_window(config, wildcards.experiment)


wildcard_constraints:
    record=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    experiment="|".join(EXPERIMENTS),
    # no experiment window of its own: nothing matches
    window="|".join(re.escape(name) for name in WINDOWS) or "(?!)",


def data_dir():
    """Where records are read: config data_dir, or the download folder."""
    return config["data_dir"] or DOWNLOAD_DIR


def record_inputs(wildcards):
    """A record's .hea/.dat/.atr that exist (a missing one is reported by the job, by name)."""
    if not config["data_dir"]:
        return expand(
            f"{DOWNLOAD_DIR}/{{record}}.{{ext}}",
            record=wildcards.record,
            ext=["hea", "dat", "atr"],
        )
    files = [f"{data_dir()}/{wildcards.record}.{ext}" for ext in ("hea", "dat", "atr")]
    return [f for f in files if os.path.exists(f)]


def beats_root(name):
    """Folder of the beats files of experiment ``name``'s segmentation and window."""
    experiment, prefix = config["experiments"][name], window_prefix(config, name)
    if experiment["segmentation"] == "detector":
        return f"results/{prefix}beats_detected/{experiment['detector']}"
    return f"results/{prefix}beats"


def experiment_beats(wildcards):
    """Beats file of a record as the experiment segments it (annotations or a detector)."""
    return f"{beats_root(wildcards.experiment)}/{wildcards.record}.npz"


def png_root(name):
    """Folder of the beat-image folders of experiment ``name``'s segmentation and window."""
    experiment, prefix = config["experiments"][name], window_prefix(config, name)
    if experiment["segmentation"] == "detector":
        return f"results/{prefix}png_detected/{experiment['detector']}"
    return f"results/{prefix}png"


def experiment_png(wildcards):
    """Beat-image folder of a record as the experiment segments it."""
    return f"{png_root(wildcards.experiment)}/{wildcards.record}"


def detection_inputs(wildcards):
    """Extra inputs of the evaluate job of an experiment segmented by a detector: the test
    records' annotation beats (``reference``), detector beats (``detected``) and their image
    folders (``png_dirs``), to count missed beats and unmatched detections
    (ecg2d.evaluate.detection_errors); none for annotation-based experiments."""
    name = wildcards.experiment
    if config["experiments"][name]["segmentation"] != "detector":
        return {}
    records = evaluated_records(config, name)
    reference = f"results/{window_prefix(config, name)}beats"
    return {
        "reference": [f"{reference}/{r}.npz" for r in records],
        "detected": [f"{beats_root(name)}/{r}.npz" for r in records],
        "png_dirs": [f"{png_root(name)}/{r}" for r in records],
    }


def experiment_pngs(wildcards):
    """Beat-image folders of all records of an experiment, as it segments them."""
    root = png_root(wildcards.experiment)
    records = experiment_records(config, wildcards.experiment)
    return [f"{root}/{record}" for record in records]


def split_csvs(wildcards):
    return expand(
        "results/{experiment}/split/{record}.csv",
        experiment=wildcards.experiment,
        record=experiment_records(config, wildcards.experiment),
    )


def crop_dirs(wildcards):
    return expand(
        "results/{experiment}/crops/{record}",
        experiment=wildcards.experiment,
        record=experiment_records(config, wildcards.experiment),
    )


def all_targets():
    """Every final output: manifests, models and test metrics of all experiments."""
    return expand(
        "results/{experiment}/{name}",
        experiment=EXPERIMENTS,
        name=["manifest.csv", "model.h5", "metrics.json"],
    )


# --- R-peak detection and prediction on new recordings (rules/detect.smk, rules/predict.smk)

from ecg2d.detect import DETECTORS
from ecg2d.predict import dataset_path, dataset_records, dataset_settings, model_path

DETECTION = config["detection"]


def detection_scores(wildcards):
    """Per-record detection scores of every configured detector on every selected record."""
    return expand(
        "results/detection/{detector}/{record}.csv",
        detector=DETECTION["detectors"],
        record=RECORDS,
    )


PREDICT_DATASETS = {
    name: dataset_settings(config, name) for name in config["predict"]["datasets"]
}


def predict_path(settings):
    """Folder of a dataset's records (the workflow's own: data_dir or the download folder)."""
    return dataset_path(settings, data_dir())


def predict_record_files(wildcards):
    """A dataset record's header, signal and reference annotation files that exist."""
    settings = PREDICT_DATASETS[wildcards.dataset]
    if not settings["path"]:
        return record_inputs(wildcards)
    base = f"{settings['path']}/{wildcards.record}"
    files = [f"{base}.hea", f"{base}.dat"]
    if settings["annotator"]:
        files.append(f"{base}.{settings['annotator']}")
    return [f for f in files if os.path.exists(f)]


def predict_inputs(wildcards):
    settings = PREDICT_DATASETS[wildcards.dataset]
    model = model_path(settings)
    return {
        "record": predict_record_files(wildcards),
        "model": model,
        "info": os.path.splitext(model)[0] + ".json",  # the model's sidecar
    }


def predict_targets():
    """Prediction tables, ECG strips, annotation files and (if annotated) metrics of every
    dataset."""
    targets = []
    for name, settings in PREDICT_DATASETS.items():
        records = dataset_records(settings, predict_path(settings))
        targets += expand(
            "results/predict/{dataset}/{record}.{name}",
            dataset=name,
            record=records,
            name=["csv", "strips.png"],
        )
        targets += expand(
            "results/predict/{dataset}/{record}.{ext}",
            dataset=name,
            record=records,
            ext=settings["extension"],
        )
        if settings["annotator"]:
            targets.append(f"results/predict/{name}/metrics.json")
    return targets


def dataset_tables(wildcards):
    settings = PREDICT_DATASETS[wildcards.dataset]
    return expand(
        "results/predict/{dataset}/{record}.csv",
        dataset=wildcards.dataset,
        record=dataset_records(settings, predict_path(settings)),
    )


def dataset_pattern():
    """Wildcard constraint matching exactly the configured dataset names."""
    return "|".join(map(re.escape, PREDICT_DATASETS)) or "(?!)"
