"""The report's front page (rules/report.smk, rule headline): how good is it?

The headline figures of each experiment, read from its ``metrics.json``, each with its 95 %
bootstrap interval, beside the published anchors: Jun et al. 2018 (accuracy, 8 classes,
intra-patient) and de Chazal et al. 2004 (SVEB and VEB Se and +P on DS2 by ANSI/AAMI EC57).
Written twice: an HTML page (a report item) and an RST fragment that report/workflow.rst
includes, so the figures are on the first screen of ``snakemake --report``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

#: Jun et al. 2018's eight classes (intra-patient): NOR, LBB, RBB, APC, PVC, PAB, VEB, VFW.
JUN_CLASSES = ("N", "L", "R", "A", "V", "/", "E", "!")
JUN = "Jun et al. 2018: 99.05 % (8 classes, intra-patient)"
DE_CHAZAL = "de Chazal et al. 2004, DS2"
#: (group, figure) of ``aami_ec57`` -> de Chazal et al. 2004's DS2 figure, in %.
DE_CHAZAL_EC57 = {
    ("SVEB", "Se"): 75.9,
    ("SVEB", "+P"): 38.5,
    ("VEB", "Se"): 77.7,
    ("VEB", "+P"): 81.9,
}
#: de Chazal et al. 2004's test set DS2 (the records their figures are on).
DS2 = (
    "100 103 105 111 113 117 121 123 200 202 210 212 213 214 219 221 222 228 231 232 233 234"
).split()
#: The columns of a headline table.
COLUMNS = ("figure", "ecg2d [95 % CI]", "anchor")


@dataclass(frozen=True)
class Headline:
    """One experiment's headline: a line of what was measured how, and its figures."""

    experiment: str
    note: str
    table: pd.DataFrame  # COLUMNS, one row per figure


def percent(value) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def with_interval(value, interval) -> str:
    """``97.47 % [97.27, 97.65]`` ("–" for an undefined value or interval)."""
    if value is None:
        return "–"
    if not isinstance(interval, list | tuple) or len(interval) != 2 or None in interval:
        return f"{percent(value)} [–]"
    return f"{percent(value)} [{100 * interval[0]:.2f}, {100 * interval[1]:.2f}]"


def _escape_beats(classes: dict) -> str:
    """How the experiment counts e and j (escape beats), from its classes mapping."""
    shown = [f"{symbol} as {classes[symbol]}" for symbol in ("e", "j") if symbol in classes]
    return ", ".join(shown) if shown else "e and j not classified"


def headline(metrics: dict, classes: dict, seed: int) -> Headline:
    """The headline of one experiment's ``metrics.json``.

    ``classes``: the experiment's symbol -> label mapping (config); ``seed``: the workflow seed
    (splits, training). Accuracy always; the Jun et al. anchor where the protocol is
    intra-patient with Jun's eight classes; the EC57 SVEB and VEB Se and +P beside de Chazal's
    DS2 figures where ``metrics.json`` has ``aami_ec57``. A missing key is a KeyError naming it.
    """
    protocol = metrics["protocol"]
    labels = list(metrics["classes"])
    rows = []
    if protocol == "intra_patient" and sorted(labels) == sorted(JUN_CLASSES):
        anchor = JUN
    elif protocol == "intra_patient":
        anchor = f"none: Jun et al. 2018 used 8 classes, this run {len(labels)}"
    else:
        anchor = "none (Jun et al. 2018 is intra-patient)"
    rows.append(("accuracy", with_interval(metrics["accuracy"], metrics["accuracy_ci95"]), anchor))
    ec57 = metrics.get("aami_ec57")
    if ec57:
        for (group, key), value in DE_CHAZAL_EC57.items():
            figure = ec57[group]
            rows.append(
                (
                    f"{group} {key} (EC57)",
                    with_interval(figure[key], figure[f"{key}_ci95"]),
                    f"{value:.1f} % ({DE_CHAZAL})",
                )
            )
    bootstrap = metrics.get("bootstrap") or {}
    parts = [
        f"{protocol.replace('_', '-')}, {len(labels)} classes ({' '.join(labels)})",
        f"{metrics['n_test']:,} test beats",
        f"seed {seed}",
    ]
    if bootstrap:
        parts.append(
            f"95 % intervals: percentile bootstrap, {bootstrap['n']:,} resamples of test "
            f"{bootstrap['unit']}s, seed {bootstrap['seed']}"
        )
    if ec57:
        tested = sorted(str(record) for record in metrics.get("per_record") or {})
        parts.append(
            "test records: DS2"
            if tested == sorted(DS2)
            else f"test records: {len(tested)}, not DS2: de Chazal's figures are on DS2's 22"
        )
        parts.append(
            "SVEB and VEB by ANSI/AAMI EC57 as de Chazal 2004 (Q beats excluded, an F beat "
            f"called V is not a false V; {_escape_beats(classes)})"
        )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return Headline(metrics["experiment"], "; ".join(parts) + ".", table)


def read_headline(path, classes: dict, seed: int) -> Headline:
    """:func:`headline` of the ``metrics.json`` at ``path`` (ValueError naming it if it is not
    one: unreadable JSON, or a key missing)."""
    import json
    from pathlib import Path

    try:
        metrics = json.loads(Path(path).read_text())
        return headline(metrics, classes, seed)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a metrics.json: {exc}") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: not a metrics.json of rule evaluate: {exc!r}") from None


#: What the intervals do not cover.
CAVEAT = (
    "One training run per experiment: the intervals resample its test beats (intra-patient) "
    "or test records (inter-patient) only; they do not include seed-to-seed variation of "
    "training."
)


def headline_html(headlines: list[Headline]) -> str:
    """A self-contained HTML page: one captioned table per experiment."""
    from ecg2d.report import html_page

    body = []
    for item in headlines:
        body.append((f"{item.experiment}: {item.note}", item.table.set_index("figure")))
    return html_page("How good is it: headline figures", body, note=CAVEAT)


def _rst_cell(text: str) -> str:
    """Text as an RST table cell: markup characters escaped."""
    return "".join(f"\\{c}" if c in "*`|_\\" else c for c in str(text))


def headline_rst(headlines: list[Headline]) -> str:
    """An RST fragment (for report/workflow.rst): per experiment, its note and a list-table."""
    lines = [
        "**How good is it?** Headline figures of each experiment from its ``metrics.json``.",
        "",
    ]
    for item in headlines:
        lines += [f"**{_rst_cell(item.experiment)}**: {_rst_cell(item.note)}", ""]
        lines += [".. list-table::", "   :header-rows: 1", ""]
        for row in [list(COLUMNS), *item.table.itertuples(index=False)]:
            first, *rest = (_rst_cell(cell) for cell in row)
            lines.append(f"   * - {first}")
            lines += [f"     - {cell}" for cell in rest]
        lines.append("")
    lines += [_rst_cell(CAVEAT), ""]
    return "\n".join(lines)
