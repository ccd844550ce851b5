"""Checks and lookups on the workflow configuration beyond what the JSON Schema can say.

The schema (``config/schema.yaml``) rejects unknown keys and malformed values; this module
checks what needs the data: record names exist, class symbols are beat codes, augmented labels
are classes of the experiment. Each failure is one :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import copy
from pathlib import Path

from ecg2d.io import BEAT_SYMBOLS, MITDB_RECORDS, RECORD_SUFFIXES
from ecg2d.segment import window_leads
from ecg2d.shape import band_error


class ConfigError(ValueError):
    """The configuration is inconsistent; the message names the offending key."""


def _with_defaults(validator_class):
    """A validator class that also fills in the schema's ``default`` values."""
    from jsonschema import validators

    check_properties = validator_class.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):
        if isinstance(instance, dict):
            for key, sub in props.items():
                if "default" in sub:
                    instance.setdefault(key, copy.deepcopy(sub["default"]))
        yield from check_properties(validator, props, instance, schema)

    return validators.extend(validator_class, {"properties": properties})


def check_config_files(paths) -> None:
    """Config files ``paths`` (YAML) whose mappings repeat a key are a :class:`ConfigError`
    naming the file, the key and both lines. YAML loaders keep the last value of a repeated key
    without a word, so a second ``train:`` block of an experiment would silently drop the
    first's settings; the schema never sees them."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(
                    f"config file {loader.name}, line {line}: key {key!r} repeats the key at line "
                    f"{seen[key]} of the same mapping (YAML would keep only the last, dropping "
                    "the first's settings)"
                )
            seen[key] = line
        return yaml.SafeLoader.construct_mapping(loader, node, deep)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    for path in paths:
        with open(path) as stream:  # the loader's name is the file's path
            yaml.load(stream, Loader)  # a SafeLoader: no arbitrary objects


def validate_config(config: dict, schema_path: str | Path) -> None:
    """Validate ``config`` against the JSON Schema in ``schema_path``, filling in defaults.

    Raises one :class:`ConfigError` naming the offending key, e.g. ``config key
    experiments.jun2018: Additional properties are not allowed ('lable' was unexpected)``.
    """
    import yaml
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    schema = yaml.safe_load(Path(schema_path).read_text())
    error = best_match(_with_defaults(Draft202012Validator)(schema).iter_errors(config))
    if error is not None:
        key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
        raise ConfigError(f"config key {key}: {error.message}")


def available_records(data_dir: str | None) -> list[str]:
    """Records that can be used: those with a header in ``data_dir``, or all of mitdb."""
    if not data_dir:
        return list(MITDB_RECORDS)
    directory = Path(data_dir)
    listing = directory / "RECORDS"
    if listing.is_file():
        return listing.read_text().split()
    return sorted(p.stem for p in directory.glob("*.hea"))


def selected_records(config: dict) -> list[str]:
    """The ``records:`` of the config (``all`` = every available record), checked to exist."""
    available = available_records(config.get("data_dir"))
    records = config.get("records", "all")
    if records == "all":
        return available
    records = [str(r) for r in records]
    data_dir = config.get("data_dir")
    for record in records:
        # A record with some of its files present is known: reading it later names the file
        # that is missing, which says more than "unknown record".
        partly_there = data_dir and any(
            (Path(data_dir) / f"{record}.{suffix}").exists() for suffix in RECORD_SUFFIXES
        )
        if record not in available and not partly_there:
            where = data_dir or "PhysioNet mitdb"
            raise ConfigError(f"records: unknown record {record!r} (not in {where})")
    return list(dict.fromkeys(records))


def experiment_records(config: dict, name: str) -> list[str]:
    """The selected records an experiment uses, in ``records:`` order."""
    experiment = config["experiments"][name]
    selected = selected_records(config)
    if experiment["protocol"] == "inter_patient":
        wanted = set(map(str, experiment["train_records"])) | set(
            map(str, experiment["test_records"])
        )
    else:
        wanted = experiment.get("records", "all")
        wanted = set(selected) if wanted == "all" else set(map(str, wanted))
    return [r for r in selected if r in wanted]


def experiment_classes(experiment: dict) -> list[str]:
    """Class labels of an experiment, in order of first appearance in its ``classes`` map."""
    return list(dict.fromkeys(str(label) for label in experiment["classes"].values()))


def evaluated_records(config: dict, name: str) -> list[str]:
    """The records experiment ``name`` tests on: its selected test records (inter-patient) or
    all of its records (intra-patient, where each record's beats are split)."""
    experiment = config["experiments"][name]
    records = experiment_records(config, name)
    if experiment["protocol"] == "inter_patient":
        test = set(map(str, experiment["test_records"]))
        records = [r for r in records if r in test]
    return records


def experiment_window(config: dict, name: str) -> dict:
    """The beat window experiment ``name`` cuts its beats with: its own ``window`` or the
    top-level one (both validated, so ``mode`` and ``fixed_ms`` are filled in)."""
    return config["experiments"][name].get("window") or config["window"]


def window_name(window: dict) -> str:
    """A window's folder name: its mode, with the milliseconds for mode fixed
    (``fixed_250_400``), ``_record`` for amplitude record (``jun2018_record``), ``_2leads``
    where images draw the second lead too (``fixed_250_400_2leads``) and
    ``_hp{Hz}`` and ``_lp{Hz}`` for the band beats are drawn from
    (``fixed_250_400_hp0.5_lp40``). Two windows
    cut and render beats alike exactly when their names are equal (``fixed_ms`` counts for
    mode fixed only)."""
    name = window["mode"]
    if name == "fixed":
        name += "".join(f"_{repr(float(ms)).removesuffix('.0')}" for ms in window["fixed_ms"])
    if window.get("amplitude", "beat") != "beat":
        name += f"_{window['amplitude']}"
    if window_leads(window) != 1:
        name += f"_{window_leads(window)}leads"
    if window.get("highpass_hz") is not None:
        name += f"_hp{float(window['highpass_hz']):g}"
    if window.get("lowpass_hz") is not None:
        name += f"_lp{float(window['lowpass_hz']):g}"
    return name


def window_prefix(config: dict, name: str) -> str:
    """Where experiment ``name``'s beats and images live below results/: ``""`` (results/beats/,
    results/png/) for the top-level window, ``windows/{window_name}/`` for a window of its own.
    Experiments that share a window share its beats and images."""
    own = window_name(experiment_window(config, name))
    return "" if own == window_name(config["window"]) else f"windows/{own}/"


def experiment_windows(config: dict) -> dict[str, dict]:
    """``{window_name: window}`` of every experiment window other than the top-level one."""
    out = {}
    for name in config["experiments"]:
        if window_prefix(config, name):
            window = experiment_window(config, name)
            out[window_name(window)] = window
    return out


def check_config(config: dict) -> None:
    """Raise :class:`ConfigError` for the first inconsistency the schema cannot catch."""
    selected_records(config)
    if not config["experiments"]:
        raise ConfigError("experiments: at least one experiment is needed")
    check_band(config["window"], "window", config["fs"])
    crop = config["crop"]
    if crop["size"] + max(crop["offsets"]) > config["image_size"]:
        raise ConfigError(
            f"crop: {crop['size']} px at offset {max(crop['offsets'])} does not fit "
            f"image_size {config['image_size']}"
        )
    for name, experiment in config["experiments"].items():
        key = f"experiments.{name}"
        if experiment.get("window"):
            check_band(experiment["window"], f"{key}.window", config["fs"])
        for symbol in experiment["classes"]:
            if symbol not in BEAT_SYMBOLS:
                raise ConfigError(
                    f"{key}.classes: unknown beat symbol {symbol!r} "
                    f"(beat symbols: {' '.join(sorted(BEAT_SYMBOLS))})"
                )
        labels = set(experiment["classes"].values())
        for label in experiment.get("augment", []):
            if label not in labels:
                raise ConfigError(f"{key}.augment: {label!r} is not a class of this experiment")
        for label in (experiment.get("model") or {}).get("class_factors") or {}:
            if label not in labels:
                raise ConfigError(
                    f"{key}.model.class_factors: {label!r} is not a class of this experiment"
                )
        if experiment["protocol"] == "inter_patient":
            for side in ("train_records", "test_records"):
                if side not in experiment:
                    raise ConfigError(f"{key}.{side}: required by protocol inter_patient")
            overlap = set(map(str, experiment["train_records"])) & set(
                map(str, experiment["test_records"])
            )
            if overlap:
                raise ConfigError(
                    f"{key}: records {sorted(overlap)} are in both train_records and test_records"
                )
            folds = [str(r) for fold in experiment.get("cv_folds", []) for r in fold]
            if folds and sorted(folds) != sorted(map(str, experiment["train_records"])):
                raise ConfigError(
                    f"{key}.cv_folds: the folds must hold every train_records record exactly once"
                )
        for side in ("records", "train_records", "test_records"):
            names = experiment.get(side, "all")
            if names != "all":
                check_known_records(config, names, f"{key}.{side}")
        if not experiment_records(config, name):
            raise ConfigError(f"{key}: none of its records is among the selected records")


def check_band(window: dict, key: str, fs: float) -> None:
    """A :class:`ConfigError` naming ``key`` where a window's band cannot be filtered at ``fs``
    (:func:`ecg2d.shape.band_error`)."""
    error = band_error(window.get("highpass_hz"), window.get("lowpass_hz"), fs)
    if error:
        raise ConfigError(f"{key}: {error}")


def check_known_records(config: dict, records, key: str) -> None:
    """Raise :class:`ConfigError` naming ``key`` for a record name that exists nowhere.

    Experiments may name records that ``records:`` does not select or that a partial data_dir
    lacks (they are left out), but a name that is neither a record of data_dir nor of mitdb is
    a typo, not a choice.
    """
    available = set(available_records(config.get("data_dir"))) | set(MITDB_RECORDS)
    data_dir = config.get("data_dir")
    for record in map(str, records):
        partly_there = data_dir and any(
            (Path(data_dir) / f"{record}.{suffix}").exists() for suffix in RECORD_SUFFIXES
        )
        if record not in available and not partly_there:
            where = data_dir or "PhysioNet mitdb"
            raise ConfigError(f"{key}: unknown record {record!r} (not in {where})")
