"""The configuration tables of README.md and config/README.md against config/schema.yaml.

The schema is the one home of every key and of its default (model and training keys: of
their names; their defaults are the ``default`` preset's, ecg2d.settings). The tables must name
only keys the schema has, state the schema's defaults, and leave no key of the schema out.
"""

import re

import pytest
import yaml

from ecg2d.settings import ModelSettings, TrainSettings
from tests.conftest import REPO

SCHEMA = yaml.safe_load((REPO / "config/schema.yaml").read_text())
TICKS = re.compile(r"`([^`]*)`")


def table_rows(text: str, start: str, stop: str) -> list[list[str]]:
    """Cells of the table rows (not header or rule) between headings ``start`` and ``stop``."""
    section = text.split(start, 1)[1].split(stop, 1)[0]
    rows = []
    for line in section.splitlines():
        if line.startswith("| `"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def resolved(node: dict) -> dict:
    """``node`` with a local ``$ref`` (``#/$defs/...``) merged in; its own keys win."""
    if "$ref" not in node:
        return node
    target = SCHEMA
    for part in node["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    return {**resolved(target), **{k: v for k, v in node.items() if k != "$ref"}}


def node_at(path: list[str]) -> dict:
    node = SCHEMA
    for part in path:
        if part == "<name>":
            node = node["additionalProperties"]
        else:
            properties = resolved(node).get("properties") or {}
            assert part in properties, f"README documents {'.'.join(path)}: not in the schema"
            node = properties[part]
    return resolved(node)


def documented(rows) -> dict[tuple, dict]:
    """``{key path: {"default": README's default or None, "listed": names in the row}}``."""
    out = {}
    for key_cell, default_cell, meaning in rows:
        keys = TICKS.findall(key_cell)
        first = keys[0].split(".")
        # later keys are full paths (`crop.offsets`) or siblings of the first (`test_records`)
        paths = [first] + [
            k.split(".") if k.split(".")[0] == first[0] else first[:-1] + k.split(".")
            for k in keys[1:]
        ]
        defaults = TICKS.findall(default_cell)
        for i, path in enumerate(paths):
            default = defaults[i] if len(defaults) == len(paths) else None
            out[tuple(path)] = {"default": default, "meaning": meaning}
    return out


@pytest.fixture(scope="module")
def readme_keys():
    text = (REPO / "README.md").read_text()
    return documented(table_rows(text, "## Configuration", "### The two shipped experiments"))


def test_readme_names_only_schema_keys_with_their_defaults(readme_keys):
    for path, doc in readme_keys.items():
        if path[-1] == "*":
            node = node_at(list(path[:-1]))
            listed = set(TICKS.findall(doc["meaning"]))
            missing = sorted(set(node["properties"]) - listed)
            assert not missing, f"README's {'.'.join(path)} leaves out {missing}"
            for name, value in re.findall(r"`(\w+)` \(([^)]*)\)", doc["meaning"]):
                spec = node["properties"].get(name, {})
                if "default" in spec and re.fullmatch(r"[\w.\-]+", value):
                    assert yaml.safe_load(value) == spec["default"], f"{'.'.join(path)}.{name}"
            continue
        node = node_at(list(path))
        if doc["default"] is not None and "default" in node:
            assert yaml.safe_load(doc["default"]) == node["default"], ".".join(path)


def test_readme_leaves_no_schema_key_out(readme_keys):
    def covered(prefix: tuple) -> bool:
        return any(path[: len(prefix)] == prefix for path in readme_keys)

    for key in SCHEMA["properties"]:
        assert covered((key,)), f"README's configuration table lacks {key}"
    experiment = SCHEMA["properties"]["experiments"]["additionalProperties"]["properties"]
    for key in experiment:
        assert covered(("experiments", "<name>", key)), f"README lacks experiments.<name>.{key}"


def test_model_and_train_rows_list_the_settings(readme_keys):
    for section, cls in (("model", ModelSettings), ("train", TrainSettings)):
        meaning = readme_keys[("experiments", "<name>", section, "*")]["meaning"]
        listed = set(TICKS.findall(meaning))
        missing = sorted(set(cls.__dataclass_fields__) - listed)
        assert not missing, f"README's experiments.<name>.{section}.* leaves out {missing}"


def test_config_readme_lists_every_top_level_key():
    text = (REPO / "config/README.md").read_text()
    rows = table_rows(text, "## Top-level keys", "\n## ")
    listed = {k for row in rows for k in TICKS.findall(row[0])}
    assert listed == set(SCHEMA["properties"])


def test_a_wrong_default_in_the_readme_is_caught():
    rows = [["`fs`", "`250`", "resampling rate"]]
    with pytest.raises(AssertionError, match="fs"):
        test_readme_names_only_schema_keys_with_their_defaults(documented(rows))
    with pytest.raises(AssertionError, match="not in the schema"):
        test_readme_names_only_schema_keys_with_their_defaults(
            documented([["`lable`", "", "a typo"]])
        )
