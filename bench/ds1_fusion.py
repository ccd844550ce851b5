"""Choose the rhythm expert and its fusion weight by cross-validation over DS1 records.

Reads the out-of-fold CNN predictions that ``bench/ds1_cv.py train`` wrote for one or more of
its variants (``--cnn NAME=DIR``: ``DIR/seed{S}_fold{k}.csv``, the CNN's class probabilities of
every original DS1 beat of fold ``k``, from a model trained on the other folds). For every fold
the rhythm expert (:mod:`ecg2d.expert`, ``model.expert: rr``) is fitted exactly as ``make run``
fits it (:func:`ecg2d.train.fit_rhythm_expert`), on the original DS1 beats outside the fold,
and fused with the CNN's probabilities at every weight of ``--weights``
(:func:`ecg2d.expert.fuse`; weight 1 is the CNN alone, 0 the expert alone). DS2 rows are
dropped before anything is read, so no figure here depends on them. The expert's features
(RR, rhythm, QRS shape) do not depend on the beat window, so CNN variants trained on manifests
with other windows (``window:``) are compared on one footing: every variant is scored on the
DS1 beats that all of them classify (windows cut different beats at a record's ends).

Scoring is that of ``bench/ds1_cv.py``: pooled out-of-fold predictions over all 22 DS1
records, EC57 gross statistics; the criterion is the mean of the SVEB and VEB F1, averaged over
seeds. The rule, fixed before the run: for each CNN variant the weight with the highest mean
criterion is chosen; then, as in ds1_cv.py, variants are taken in the order given and a later
one replaces the current choice only if its best criterion is higher by more than the larger
seed-to-seed standard deviation of the two; a CNN named in ``--cheaper`` (one that costs less
to train, e.g. one convolution per block) replaces it unless its best criterion is lower by
more than that. With several ``--expert`` kinds (simplest first), the variants are every kind
with every CNN, kinds in the order given. With ``--criterion record`` the criterion is
``criterion_record`` of ``ds1_cv.record_headline`` instead, in the same rule: each class's Se
averaged over the DS1 records that hold at least 10 of its beats (EC57's record-by-record
average), harmonised with its gross +P, the two F1 averaged.

``--fused NAME ...``: out-of-fold tables that ``bench/ds1_cv.py`` wrote with the experiment's
expert already fused in (a variant trained while ``model.expert`` is set makes a model that
fuses, as ``make run``'s does). They are scored as they are, at weight 1.0 (no second fusion):
the whole configuration at its trained expert and weight. To compare such variants with a
CNN-only table like for like, give that one ``--weights`` of the configured fusion weight.

    .venv/bin/python bench/ds1_fusion.py --name fusion \\
        --cnn cnn_rr=results/ds1_cv/irregularity/none \\
        --cnn cnn_image=results/ds1_cv/image_only/image_only --seeds 42 43 44
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from ds1_cv import (  # noqa: E402
    RECORD_MIN_BEATS,
    check_folds,
    fmt,
    fold_manifest,
    headline,
    machine,
    record_headline,
)

#: ``--criterion``: the key of the figures that the rule compares.
CRITERIA = {"pooled": "criterion", "record": "criterion_record"}
WEIGHTS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


def expert_spec(item: str):
    """The model settings (:class:`ecg2d.settings.ModelSettings`) of an ``--expert`` item:
    ``KIND[@MIN_LEAF][~WEIGHTS]``, the expert kind, optionally the trees' fewest beats per leaf
    (``model.expert_min_leaf``) and the beats' weighting (``model.expert_weights``); what is
    left out takes the setting's default."""
    from ecg2d.settings import ModelSettings

    rest, _, weights = item.partition("~")
    kind, _, leaf = rest.partition("@")
    default = ModelSettings()
    return dataclasses.replace(
        default,
        expert=kind,
        expert_min_leaf=int(leaf) if leaf else default.expert_min_leaf,
        expert_weights=weights or default.expert_weights,
    )


def oof_expert(manifest, train_records, folds, classes, seed: int, model) -> dict:
    """Out-of-fold expert probabilities: ``{(record, sample): p}`` over all DS1 beats, of the
    expert that model settings ``model`` describe (:func:`expert_spec` of an ``--expert``
    item)."""
    from ecg2d.expert import KIND_COLUMNS, expert_proba
    from ecg2d.train import fit_rhythm_expert

    out = {}
    for fold in folds:
        rows = fold_manifest(manifest, train_records, fold)
        expert = fit_rhythm_expert(rows, model, classes, seed)
        test = rows[(rows["split"] == "test") & (rows["augmented"] == 0)]
        proba = expert_proba(expert, test[list(KIND_COLUMNS[model.expert])].to_numpy())
        out.update(zip(zip(test["record"].astype(str), test["sample"].astype(int)), proba))
    return out


def cnn_table(folder, seed: int, n_folds: int, train_records: list[str]) -> pd.DataFrame:
    """A CNN variant's out-of-fold predictions of one seed, all folds pooled."""
    paths = [Path(folder) / f"seed{seed}_fold{k}.csv" for k in range(n_folds)]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise SystemExit(f"missing out-of-fold CNN predictions: {missing}")
    table = pd.concat(
        [pd.read_csv(p, dtype={"record": str, "true": str, "predicted": str}) for p in paths],
        ignore_index=True,
    )
    if set(table["record"]) - set(train_records):
        raise SystemExit(f"{folder}: predictions of records outside DS1")
    return table


def seed_figures(table: pd.DataFrame, proba, classes, seed: int, name: str) -> dict:
    """One seed's figures of DS1 beats ``table`` (``record``, ``sample``, ``true``) called by
    the argmax of ``proba``: its ``seed``, the pooled EC57 figures and the record-mean ones."""
    from ecg2d.evaluate import metrics_report

    scored = table[["record", "sample", "true"]].copy()
    scored["predicted"] = np.asarray(classes, dtype=object)[np.asarray(proba).argmax(axis=1)]
    report = metrics_report(scored, classes, name, "inter_patient")
    return {"seed": seed, **headline(report), **record_headline(report)}


def seed_summary(runs: list[dict]) -> dict:
    """Mean and sd over seeds of every figure of ``runs`` (one dict of figures per seed, with
    its ``seed``); a missing figure (``None``) counts as 0, the sd of one seed is NaN."""
    out = {}
    for key in (k for k in runs[0] if k != "seed"):
        values = [r[key] or 0.0 for r in runs]
        sd = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
        out[key] = {"mean": float(np.mean(values)), "sd": sd}
    return out


def seed_margin(a: dict, b: dict) -> float:
    """The rule's margin between two summaries of a figure (:func:`seed_summary`): the larger
    of their seed sds (0 where one seed gives none)."""
    return max(np.nan_to_num(a["sd"]), np.nan_to_num(b["sd"]))


def write_result(out, result: dict, lines: list[str]) -> None:
    """A DS1 probe's result: ``result`` as JSON at ``out``, its table ``lines`` as Markdown
    beside it (``.md``), and the table printed."""
    out = Path(out)
    out.write_text(json.dumps(result, indent=1) + "\n")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


#: The figures of a probe's table (:func:`probe_table`), then its two criteria.
PROBE_HEADS = ("SVEB_Se", "SVEB_Se_rec", "SVEB_+P", "VEB_Se", "VEB_Se_rec", "VEB_+P")


def probe_table(first: str, rows) -> list[str]:
    """A probe's Markdown table: column ``first`` then :data:`PROBE_HEADS` and the record and
    pooled criteria, one row per ``(label, summary)`` of ``rows`` (summaries as
    :func:`seed_summary` gives them), each cell mean ± sd."""
    keys = (*PROBE_HEADS, "criterion_record", "criterion")
    lines = [
        f"| {first} | " + " | ".join(PROBE_HEADS) + " | criterion, records | criterion, pooled |",
        "|---|" + "---|" * (len(PROBE_HEADS) + 2),
    ]
    for label, s in rows:
        cells = [f"{fmt(s[k]['mean'])} ± {fmt(s[k]['sd'])}" for k in keys]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def probe_result(script: str, argv, kind: str, key: str, **fields) -> dict:
    """A DS1 probe's JSON head: date, machine, the command that ran ``bench/{script}.py``, the
    expert ``kind`` and the ``criterion`` key, with the probe's own ``fields`` between."""
    command = f"bench/{script}.py " + " ".join(sys.argv[1:] if argv is None else argv)
    head = {"date": date.today().isoformat(), "machine": machine(), "command": command}
    return {**head, "expert": kind, **fields, "criterion": key}


def probe_intro(result: dict, title: str, scope: str, tail: str = "") -> list[str]:
    """A DS1 probe's Markdown head: ``title``, then the command, date and machine of
    ``result`` (:func:`probe_result`), figures as mean ± sd over ``scope``, and what its rule
    compares (``tail`` after it)."""
    return [
        f"# {title}",
        "",
        f"`.venv/bin/python {result['command']}` — {result['date']}, {result['machine']}. EC57, "
        f"%, mean ± sd over {scope}. *rec*: mean over the DS1 records with at least "
        f"{RECORD_MIN_BEATS} beats of the class. The rule compares `{result['criterion']}`{tail}.",
        "",
    ]


def weight_probe(
    args, argv, script: str, rule: str, title: str, over: str, variants_of, minimum=0.0, **fields
) -> None:
    """A DS1 probe of variants of the inter-patient fusion, each at every CNN weight of
    :data:`WEIGHTS`: the configured expert (:func:`configured_expert`) out of fold beside the
    stored out-of-fold CNN tables of ``args.cnn`` (:func:`oof_pairs`), the configured
    ``model.class_factors`` applied after fusion, every member scored by :func:`seed_figures`.
    ``variants_of(pairs)`` gives ``{name: (fusion, members)}`` in order, the current first:
    ``fusion(p_cnn, p_expert, weight)`` and ``members`` ``{member: (table, p_cnn, p_expert)}``.
    Each variant is taken at its best weight by the mean ``args.criterion``; the first stays
    unless another beats it by more than the larger sd of the two and ``minimum``
    (:func:`ds1_factor_probe.decide`). Writes ``args.out`` (JSON) and its table (``.md``),
    titled ``title`` (``{kind}``: the expert) with figures as mean ± sd over ``over``;
    ``fields``: the probe's own JSON fields."""
    from ds1_factor_probe import decide

    from ecg2d.classifier import apply_class_factors

    _, classes, factors, kind, weight, pairs = configured_pairs(args)
    variants = variants_of(pairs)
    key = CRITERIA[args.criterion]
    grid, runs = {}, {}
    for name, (fusion, members) in variants.items():
        for w in WEIGHTS:
            label = f"{name}@{w:g}"
            runs[label] = [
                seed_figures(
                    table,
                    apply_class_factors(fusion(p_cnn, p_expert, w), classes, factors),
                    classes,
                    member,
                    script,
                )
                for member, (table, p_cnn, p_expert) in members.items()
            ]
            grid[label] = seed_summary(runs[label])
    best = {
        name: max(
            (lab for lab in grid if lab.startswith(f"{name}@")),
            key=lambda lab: grid[lab][key]["mean"],
        )
        for name in variants
    }
    chosen = decide({best[name]: grid[best[name]] for name in variants}, key, minimum)
    result = probe_result(
        script,
        argv,
        kind,
        key,
        configured_fusion_weight=weight,
        class_factors=factors,
        best=best,
        chosen=chosen,
        scores=grid,
        runs=runs,
        rule=" ".join(rule.split()),
        **fields,
    )
    lines = probe_intro(
        result,
        title.format(kind=kind),
        f"{over}; DS1 only; class factors {factors or 'none'} applied after fusion",
        "; each variant's best weight is marked",
    )
    marks = {label: " (best)" for label in best.values()} | {chosen: " **(chosen)**"}
    lines += probe_table(
        "variant @ CNN weight", ((label + marks.get(label, ""), s) for label, s in grid.items())
    )
    lines += ["", f"Rule: {result['rule']}", ""]
    write_result(args.out, result, lines)


def configured_expert(experiment: dict) -> tuple[str, float]:
    """The experiment's expert as an ``--expert`` item (``KIND[~WEIGHTING]``, the configured
    ``model.expert`` and ``model.expert_weights``) and its ``model.fusion_weight``."""
    model = experiment["model"]
    weighting = model.get("expert_weights")
    return model["expert"] + (f"~{weighting}" if weighting else ""), float(model["fusion_weight"])


def fused_oof(manifest_path, cnn: str, seeds, kind: str, weight: float, experiment: dict):
    """Per seed, the stored out-of-fold CNN table of ``cnn`` on the beats the out-of-fold expert
    ``kind`` (an ``--expert`` item) classifies, and the two fused at CNN weight ``weight``:
    ``{seed: (table, fused probabilities)}``, DS1 only, as ``make run`` would fuse them."""
    from ecg2d.expert import fuse

    pairs = oof_pairs(manifest_path, cnn, seeds, kind, experiment)
    return {
        seed: (table, fuse(p_cnn, p_expert, weight))
        for seed, (table, p_cnn, p_expert) in pairs.items()
    }


def oof_pairs(manifest_path, cnn: str, seeds, kind: str, experiment: dict):
    """Per seed, the stored out-of-fold CNN table of ``cnn`` on the beats the out-of-fold expert
    ``kind`` (an ``--expert`` item) classifies, with the two models' probabilities apart:
    ``{seed: (table, CNN probabilities, expert probabilities)}``, DS1 only."""
    from ecg2d.config import experiment_classes
    from ecg2d.split import read_table

    classes = experiment_classes(experiment)
    train = [str(r) for r in experiment["train_records"]]
    folds = [[str(r) for r in fold] for fold in experiment["cv_folds"]]
    manifest = read_table(manifest_path)
    manifest = manifest[manifest["record"].astype(str).isin(train)]
    expert = oof_expert(manifest, train, folds, classes, 0, expert_spec(kind))
    out = {}
    for seed in seeds:
        table = cnn_table(cnn, seed, len(folds), train)
        keys = list(zip(table["record"].astype(str), table["sample"].astype(int)))
        keep = np.array([k in expert for k in keys])
        table = table[keep].reset_index(drop=True)
        p_expert = np.stack([expert[k] for k, kept in zip(keys, keep) if kept])
        p_cnn = table[[f"p_{c}" for c in classes]].to_numpy()
        out[seed] = (table, p_cnn, p_expert)
    return out


def configured_pairs(args):
    """The shipped inter-patient configuration and its out-of-fold pairs for a probe's
    ``args`` (``--manifest``, ``--cnn``, ``--seeds``): ``(experiment, classes, class factors,
    expert item, fusion weight, pairs)``, the pairs as :func:`oof_pairs` gives them."""
    from ecg2d.config import experiment_classes

    experiment = shipped_experiment()
    classes = experiment_classes(experiment)
    factors = dict(experiment["model"].get("class_factors") or {})
    kind, weight = configured_expert(experiment)
    pairs = oof_pairs(args.manifest, args.cnn, args.seeds, kind, experiment)
    return experiment, classes, factors, kind, weight, pairs


def shipped_experiment() -> dict:
    """The ``inter_patient`` experiment of ``config/config.yaml`` as shipped: what the DS1
    probes compare against."""
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    return config["experiments"]["inter_patient"]


def ds1_originals(manifest_path) -> pd.DataFrame:
    """The original (uncropped) DS1 beats of an inter-patient manifest, DS1 as configured in
    ``config/config.yaml``: what a probe computes its extra column on (the expert reads
    original beats only)."""
    from ecg2d.split import read_table

    ds1 = [str(r) for r in shipped_experiment()["train_records"]]
    rows = read_table(manifest_path)
    return rows[rows["record"].isin(ds1) & (rows["augmented"] == 0)].copy()


def probe_parser(description: str, rule: bool = True) -> argparse.ArgumentParser:
    """A DS1 probe's command line: ``--manifest``, ``--cnn``, ``--seeds`` and, with ``rule``,
    the rule's ``--criterion`` and the experts' beat weighting ``--weighting``
    (``model.expert_weights``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--cnn", required=True, help="out-of-fold CNN tables (ds1_cv.py train)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    if rule:
        parser.add_argument("--criterion", choices=sorted(CRITERIA), default="pooled")
        parser.add_argument("--weighting", default="class", help="model.expert_weights")
    return parser


def probe_args(description: str, argv=None) -> argparse.Namespace:
    """A DS1 probe's parsed command line (:func:`probe_parser`)."""
    return probe_parser(description).parse_args(argv)


def register_probe_kind(
    kind: str, column, base: str = "gbm_premature", may_be_missing: bool = False
) -> None:
    """Register, for this process only, tree expert kind ``kind``: ``base`` that also reads
    manifest column ``column`` (a name, or a tuple of names) as features as they are, missing
    values allowed in them with ``may_be_missing``."""
    import ecg2d.expert as expert

    columns = (column,) if isinstance(column, str) else tuple(column)
    expert.KIND_COLUMNS[kind] = (*expert.KIND_COLUMNS[base], *columns)
    expert.KIND_FEATURES[kind] = (*expert.KIND_FEATURES[base], *columns)
    expert.TREE_KINDS = (*expert.TREE_KINDS, kind)
    expert.EXPERTS = (*expert.EXPERTS, kind)
    if may_be_missing:
        expert.MAY_BE_MISSING = (*expert.MAY_BE_MISSING, *columns)


def column_probe(
    args, argv, script: str, rule: str, title: str, experiment, kind, rows, candidates, **fields
):
    """A probe's comparison of the configured expert ``kind`` with ``candidates`` (expert items
    of kinds that read extra columns of ``rows``, DS1 original beats, registered by
    :func:`register_probe_kind`), through a temporary manifest of ``rows``: every one at every
    CNN weight, as :func:`weight_probe` does (``fields``: its extra JSON fields and
    ``minimum``)."""
    import tempfile

    from ecg2d.expert import fuse

    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "manifest.csv"
        rows.to_csv(manifest, index=False)

        def variants_of(pairs):
            variants = {kind: (fuse, pairs)}
            for item in candidates:
                variants[item] = (fuse, oof_pairs(manifest, args.cnn, args.seeds, item, experiment))
            return variants

        args.manifest = str(manifest)
        weight_probe(args, argv, script, rule, title, f"seeds {args.seeds}", variants_of, **fields)


def extension_probe_args(doc: str, script: str, base: str, argv=None, extra=None):
    """The command line of a probe whose candidate extends expert kind ``base`` with columns
    (``--manifest``, ``--cnn``, ``--seeds``, ``--criterion`` record by default, ``--out``
    ``bench/results/{script}.json``, and what ``extra(parser)`` adds), checked against the
    configured expert: ``(args, experiment, configured expert item, its weighting suffix)``,
    the suffix ``~WEIGHTING`` or empty."""
    parser = probe_parser(doc.split("\n")[0], rule=False)
    parser.add_argument("--criterion", choices=sorted(CRITERIA), default="record")
    parser.add_argument("--out", default=str(REPO / f"bench/results/{script}.json"))
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    experiment = shipped_experiment()
    kind, _ = configured_expert(experiment)
    configured, _, weighting = kind.partition("~")
    if configured != base:
        raise SystemExit(f"the candidate extends {base}; the configured expert is {kind}")
    return args, experiment, kind, f"~{weighting}" if weighting else ""


def probe_extra_column(rows, column, kind: str, name: str, args: argparse.Namespace) -> None:
    """Run this comparison for a probe: ``gbm_premature`` against an extra expert kind ``kind``
    that also reads manifest column ``column`` (a name, or a tuple of names) of ``rows`` (DS1
    originals) as features as they are, registered for this process only; both experts weigh
    their beats by ``args.weighting`` and the rule compares ``args.criterion``
    (:func:`probe_parser`). Results as ``--name name``, suffixed by the criterion and the
    weighting where they are not the defaults (``pooled``, ``class``)."""
    import tempfile

    register_probe_kind(kind, column)
    suffix = "" if args.weighting == "class" else f"~{args.weighting}"
    if (args.criterion, args.weighting) != ("pooled", "class"):
        name = f"{name}_{args.criterion}_{args.weighting}"
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "manifest.csv"
        rows.to_csv(manifest, index=False)
        main(
            ["--name", name, "--cnn", f"fixed_cpb1={args.cnn}", "--manifest", str(manifest)]
            + ["--expert", f"gbm_premature{suffix}", f"{kind}{suffix}"]
            + ["--seeds", *map(str, args.seeds), "--criterion", args.criterion]
        )


def score(args, experiment: dict, folds, classes) -> dict:
    from ecg2d.expert import fuse
    from ecg2d.split import read_table

    criterion = CRITERIA[args.criterion]
    manifest = read_table(args.manifest)
    train_records = [str(r) for r in experiment["train_records"]]
    manifest = manifest[manifest["record"].astype(str).isin(train_records)]
    experts = {
        kind: oof_expert(manifest, train_records, folds, classes, 0, expert_spec(kind))
        for kind in args.expert
    }
    result = {"variants": {}}
    variants = [
        (cnn if len(args.expert) == 1 else f"{cnn}+{kind}", cnn, folder, kind)
        for kind in args.expert
        for cnn, folder in args.cnn
    ]
    tables = {
        (folder, seed): cnn_table(folder, seed, len(folds), train_records)
        for _, folder in args.cnn
        for seed in args.seeds
    }
    # Beat windows of other modes cut other beats at a record's ends (a fixed window needs
    # its span inside the signal, jun2018 both neighbours): every variant is scored on the
    # beats that all of them classify and the expert has features for.
    expert_keys = set(next(iter(experts.values())))
    common = set(expert_keys)
    for table in tables.values():
        common &= set(zip(table["record"], table["sample"].astype(int)))
    result["beats_scored"] = len(common)
    fused_in = set(args.fused or [])
    result["fused_in_training"] = sorted(fused_in)
    result["beats_dropped"] = {
        f"{folder} seed {seed}": int(len(table) - len(common))
        for (folder, seed), table in tables.items()
    }
    result["beats_dropped"]["expert"] = int(len(expert_keys) - len(common))
    for name, cnn, folder, kind in variants:
        expert = experts[kind]
        # a table with the expert fused in is scored as it is (no second fusion)
        per_weight = {w: [] for w in ([1.0] if cnn in fused_in else args.weights)}
        for seed in args.seeds:
            table = tables[(folder, seed)]
            keep = [k in common for k in zip(table["record"], table["sample"].astype(int))]
            table = table[keep].sort_values(["record", "sample"], ignore_index=True)
            keys = zip(table["record"], table["sample"].astype(int))
            p_expert = np.stack([expert[k] for k in keys])
            p_cnn = table[[f"p_{c}" for c in classes]].to_numpy()
            for w in per_weight:
                fused = fuse(p_cnn, p_expert, w)
                per_weight[w].append(seed_figures(table, fused, classes, seed, name))
        weights = {str(w): seed_summary(runs) for w, runs in per_weight.items()}
        best = max(weights, key=lambda w: weights[w][criterion]["mean"])
        result["variants"][name] = {
            "cnn_name": cnn,
            "cnn": str(folder),
            "expert": kind,
            "weights": weights,
            "best_weight": best,
        }
    chosen = variants[0][0]
    cheaper = set(args.cheaper or [])
    for name, cnn, _, _ in variants[1:]:
        scored = result["variants"]
        a = scored[chosen]["weights"][scored[chosen]["best_weight"]][criterion]
        b = scored[name]["weights"][scored[name]["best_weight"]][criterion]
        margin = seed_margin(a, b)
        if b["mean"] - a["mean"] > margin or (cnn in cheaper and a["mean"] - b["mean"] <= margin):
            chosen = name
    result["decision"] = {
        "criterion": criterion,
        "chosen": chosen,
        "expert": result["variants"][chosen]["expert"],
        "fusion_weight": float(
            experiment["model"]["fusion_weight"]
            if result["variants"][chosen]["cnn_name"] in fused_in
            else result["variants"][chosen]["best_weight"]
        ),
        "rule": " ".join(
            __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0].split()
        ),
    }
    return result


def markdown(result: dict, args) -> str:
    lines = [
        f"# DS1 cross-validation of the rhythm expert's fusion: {args.name}",
        "",
        f"Command: `.venv/bin/python bench/ds1_fusion.py {' '.join(sys.argv[1:])}`  ",
        f"Date: {result['date']}; machine: {result['machine']}; seeds {args.seeds}.",
        "",
        "Pooled out-of-fold predictions over all 22 DS1 records (DS2 never read), EC57 gross "
        "statistics (Q excluded, F called V not a false VEB), e/j counted as N; mean ± sd over "
        "the CNN's seeds (%). Weight 1.0 is the CNN alone, 0.0 the rhythm expert alone. "
        f"Scored on the {result['beats_scored']:,} DS1 beats that every CNN variant classifies "
        f"(dropped at record ends: {result['beats_dropped']}).",
        "",
    ]
    heads = ["SVEB Se", "SVEB +P", "VEB Se", "VEB +P", "criterion", "accuracy"]
    keys = ["SVEB_Se", "SVEB_+P", "VEB_Se", "VEB_+P", "criterion", "accuracy"]
    if result["decision"]["criterion"] == CRITERIA["record"]:
        heads[5:5] = ["SVEB Se, record mean", "VEB Se, record mean", "criterion, records"]
        keys[5:5] = ["SVEB_Se_rec", "VEB_Se_rec", "criterion_record"]
        lines[-1] += (
            " Record means: each class's Se averaged over the DS1 records with at least "
            f"{RECORD_MIN_BEATS} of its beats; *criterion, records*: their F1 with the gross +P, "
            "averaged over the two classes: what the rule compared."
        )
    lines += [
        "",
        "| CNN | weight | " + " | ".join(heads) + " |",
        "|---|---|" + "---|" * len(heads),
    ]
    for name, v in result["variants"].items():
        for w, s in v["weights"].items():
            mark = " **(best)**" if w == v["best_weight"] else ""
            if v["cnn_name"] in result["fused_in_training"]:
                w = "as trained (expert fused in)"
            cells = [f"{fmt(s[k]['mean'])} ± {fmt(s[k]['sd'])}" for k in keys]
            lines.append(f"| {name} | {w}{mark} | " + " | ".join(cells) + " |")
    d = result["decision"]
    lines += [
        "",
        f"Chosen: **{d['chosen']}**: expert {d['expert']}, fusion_weight **{d['fusion_weight']}**",
        "",
        f"Rule: {d['rule']}",
        "",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--cnn", action="append", required=True, metavar="NAME=DIR")
    parser.add_argument("--experiment", default="inter_patient")
    parser.add_argument("--config", default=str(REPO / "config/config.yaml"))
    parser.add_argument("--manifest", default="results/inter_patient/manifest.csv")
    parser.add_argument("--out", default=None, help="bench/results/ds1_fusion_NAME(.json/.md)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--weights", type=float, nargs="+", default=WEIGHTS)
    parser.add_argument(
        "--criterion",
        choices=sorted(CRITERIA),
        default="pooled",
        help="what the rule compares: pooled EC57 F1 (ds1_cv.headline) or record-averaged Se "
        "with gross +P (ds1_cv.record_headline)",
    )
    parser.add_argument(
        "--cheaper", nargs="+", metavar="NAME", help="CNNs (--cnn names) that cost less to train"
    )
    parser.add_argument(
        "--fused", nargs="+", metavar="NAME", help="CNN tables with the expert fused in training"
    )
    parser.add_argument(
        "--expert",
        nargs="+",
        default=["rr"],
        help="expert kinds, simplest first (rr rr_shape); KIND@N: trees with N beats per leaf; "
        "KIND~W: beats weighed by W (model.expert_weights)",
    )
    args = parser.parse_args(argv)
    args.cnn = [tuple(item.split("=", 1)) for item in args.cnn]
    if any(len(item) != 2 for item in args.cnn):
        raise SystemExit("--cnn takes NAME=DIR")
    from ecg2d.config import experiment_classes

    config = yaml.safe_load(Path(args.config).read_text())
    experiment = config["experiments"][args.experiment]
    folds = [[str(r) for r in fold] for fold in experiment["cv_folds"]]
    check_folds(folds, [str(r) for r in experiment["train_records"]])
    result = score(args, experiment, folds, experiment_classes(experiment))
    result.update({"date": date.today().isoformat(), "machine": machine(), "seeds": args.seeds})
    out = Path(args.out or REPO / "bench/results" / f"ds1_fusion_{args.name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(result, args))
    print(markdown(result, args))


if __name__ == "__main__":
    main()
