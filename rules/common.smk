from ecg2d.config import check_config, experiment_records, selected_records

check_config(config)

RECORDS = selected_records(config)
EXPERIMENTS = list(config["experiments"])
DOWNLOAD_DIR = "resources/mitdb"
N_CROPS = len(config["crop"]["offsets"]) ** 2


wildcard_constraints:
    record=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    experiment="|".join(EXPERIMENTS),


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
    """Every final output: manifests of all experiments."""
    return expand("results/{experiment}/manifest.csv", experiment=EXPERIMENTS)
