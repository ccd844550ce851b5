"""DS1 stress test: the rhythm expert on records whose ectopic beats are as many as their sinus
beats, made of DS1's own beats.

Every record-relative measure (the record's mean RR, the usual P wave, a robust z-score against
all the record's beats) assumes that a record's usual beat is a sinus beat. DS2's record 232,
whose atrial premature beats are most of its beats, breaks that assumption, and DS1 holds no
such record, so the DS1 folds cannot see the failure (BENCHMARKS.md, issue 10). This benchmark
makes such records out of DS1's own: for each DS1 record with at least ``--min-s`` S beats, the
stretches of sinus rhythm between its S beats are cut out, keeping each S beat with the beat
before and the beat after it, and the kept stretches are joined at R peaks (the beat after one
kept stretch and the beat before the next become one beat: its P wave and RR interval before
are the first's, its QRS from the peak on and its RR interval after the second's). Isolated
atrial premature beats become atrial bigeminy (N S N S, the sinus beats after the pause of each
S), runs keep their length, so S beats are half or more of the beats. Every interval is one the
patient had; only the sinus stretches are gone. The stressed record then goes through the
workflow's own beats code (:func:`ecg2d.segment.segment_record`, the experiment's window), so
every column is computed as ``make run`` would compute it for such a recording.

For each expert item (``--expert``, e.g. ``gbm_psinus~record``), one expert per DS1 fold is
fitted on the other folds' original beats of ``--manifest`` exactly as the DS1 probes fit it
(an item ending ``+stressed``: also on the stressed copies of the training folds' records, each
a record of its own, never of a held-out one; ``+stressed_pooled``: the copies together one
record), and classifies every DS1 beat of the held-out
fold (the DS1 criterion of the probes, ``criterion_record``, the expert alone) and the held-out
fold's records, original and stressed, with the configured class factors applied (the CNN is
not read: the configured fusion weight is 0, and no CNN has out-of-fold predictions of stressed
records). Reported per record and pooled: the S beats'
share, SVEB Se and +P (EC57 rules as the evaluation applies them), VEB Se; a merged beat whose
two halves had different symbols is left out of the scoring. DS1 only; DS2 is never read.

    .venv/bin/python bench/ds1_stress.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --expert gbm_unusual~record gbm_pwave~record gbm_psinus~record

Results: ``--out`` (JSON) and its table (``.md``) beside it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402
import ds1_selection_noise as noise  # noqa: E402
from ds1_cv import fold_manifest, machine  # noqa: E402

#: Signal kept before the first kept beat and after the last (s), so their windows fit.
MARGIN_S = 1.0
#: Columns a probe derives itself, ``{column: function of one record's beats table in time
#: order -> values}``: added to the manifest and to every beats table before the experts read
#: them (a probe of a column not yet in beats files sets it; empty here).
DERIVED: dict = {}
#: Columns a probe computes from the recording itself, ``{column: function of an
#: :class:`ecg2d.io.Record` -> values of all its annotated beats, a Series indexed by sample}``:
#: added to the manifest's DS1 beats and to every beats table, original and stressed, from the
#: record they were cut from (empty here).
SIGNAL_DERIVED: dict = {}
#: Every how many S beats one keeps the beat after it (:func:`kept_blocks`), as
#: ``--after-every`` sets it: 1, every S beat with the beats on either side, atrial bigeminy;
#: more (``ds1_runs_stress``): runs of S beats broken by one normal beat after a pause.
AFTER_EVERY = 1
#: The suffix of an ``--expert`` item also trained on stressed copies of its training records.
STRESSED = "+stressed"
#: The suffix of an item trained on them as one record (``stressed``): together they weigh as
#: one patient in the per-record weights, not one each.
POOLED = "_pooled"
#: The AAMI class of supraventricular ectopic beats, as the experiment's class map names it.
S_CLASS = "S"
LOG = logging.getLogger("ds1_stress")


def kept_blocks(is_s: np.ndarray, after_every: int = 1) -> list[tuple[int, int]]:
    """The stretches of beats kept around S beats: each S beat with the beat before and after
    it (S beats without both are not kept), as ``(first, last)`` beat indices of contiguous
    stretches, in order. With ``after_every`` > 1 (:data:`AFTER_EVERY`), only every
    ``after_every``-th S beat (the first, then every ``after_every``-th after it) keeps the beat
    after it."""
    n = len(is_s)
    keep = np.zeros(n, dtype=bool)
    for k, i in enumerate(i for i in np.flatnonzero(is_s) if 0 < i < n - 1):
        keep[i - 1 : i + (2 if k % after_every == 0 else 1)] = True
    blocks, start = [], None
    for i in range(n):
        if keep[i] and start is None:
            start = i
        if start is not None and (i == n - 1 or not keep[i + 1]):
            blocks.append((start, i))
            start = None
    return blocks


def stressed_record(record, is_s_symbol, after_every: int = 1, is_n_symbol=None):
    """``record`` (an :class:`ecg2d.io.Record`) with the sinus stretches between its S beats cut
    out (:func:`kept_blocks`), the kept stretches joined at R peaks: ``(stressed record, mask of
    its beats that are merged from two beats of different symbols)``. ``is_s_symbol(symbols)``
    tells which beat symbols are S.

    With ``after_every`` > 1 a merged beat is named after its first half (its P wave and the
    interval before it, which make a beat premature and atrial, are the first's), and counted as
    merged from different symbols only when the first half is not S or the second half is not
    normal (``is_n_symbol``): an atrial premature beat's QRS from the peak on is a normal one."""
    from ecg2d.io import beat_mask

    is_beat = beat_mask(record.ann_symbol)
    r = np.asarray(record.ann_sample[is_beat], dtype=np.int64)
    symbols = np.asarray(record.ann_symbol[is_beat]).astype(str)
    is_s = is_s_symbol(symbols)
    blocks = kept_blocks(is_s, after_every)
    if not blocks:
        raise ValueError(f"record {record.name}: no S beat with a beat on either side")
    by_first = after_every > 1
    is_n = is_n_symbol(symbols) if by_first else None
    margin = int(round(MARGIN_S * record.fs))
    head = max(r[blocks[0][0]] - margin, 0)
    cuts = [(head, r[blocks[0][0]])]  # signal before the first kept beat
    samples, kept_symbols, mixed = [], [], []
    length = r[blocks[0][0]] - head
    for k, (first, last) in enumerate(blocks):
        stop = r[last] if k < len(blocks) - 1 else min(r[last] + margin, len(record.signal))
        cuts.append((r[first], stop))
        for i in range(first, last if k < len(blocks) - 1 else last + 1):
            samples.append(length + r[i] - r[first])
            # the first beat of a later stretch is merged with the last beat of the one before
            merged = k > 0 and i == first
            before = blocks[k - 1][1] if merged else i
            if by_first:
                kept_symbols.append(symbols[before])
                mixed.append(
                    merged and symbols[i] != symbols[before] and not (is_s[before] and is_n[i])
                )
            else:
                kept_symbols.append(symbols[i])
                mixed.append(merged and symbols[i] != symbols[before])
        length += stop - r[first]

    def joined(signal):
        return None if signal is None else np.concatenate([signal[a:b] for a, b in cuts])

    stressed = dataclasses.replace(
        record,
        name=f"{record.name}s",
        signal=joined(record.signal),
        signal2=joined(record.signal2),
        ann_sample=np.asarray(samples, dtype=np.int64),
        ann_symbol=np.asarray(kept_symbols),
    )
    return stressed, np.asarray(mixed, dtype=bool)


def beats_table(beats: dict, classes_map: dict, columns, excluded=None) -> pd.DataFrame:
    """The scored beats of a beats dict: ``record``, ``sample``, ``true`` (the experiment's
    class) and the expert's ``columns`` as the manifest holds them; beats whose symbol has no
    class, and ``excluded`` ones (a mask of the dict's beats), left out."""
    from ecg2d.split import beat_columns

    table = pd.DataFrame(beat_columns(beats, columns), columns=list(columns))
    table.insert(0, "record", str(beats["record"]))
    table.insert(1, "sample", beats["sample"].astype(int))
    table.insert(2, "true", [classes_map.get(s) for s in beats["symbol"].astype(str)])
    keep = table["true"].notna().to_numpy().copy()
    if excluded is not None:
        keep &= ~np.asarray(excluded, dtype=bool)
    return table[keep].reset_index(drop=True)


def record_figures(table: pd.DataFrame, predicted) -> dict:
    """SVEB and VEB figures of one record's scored beats (EC57: Q beats are not scored, an F
    called V is not a false VEB; :func:`ecg2d.evaluate.metrics_report`)."""
    from ecg2d.evaluate import metrics_report

    scored = table[["record", "sample", "true"]].copy()
    scored["predicted"] = predicted
    classes = ["N", "S", "V", "F", "Q"]
    counts = metrics_report(scored, classes, "stress", "inter_patient")["aami_ec57"]
    return {
        "beats": len(table),
        "S_share": float((table["true"] == S_CLASS).mean()),
        "SVEB": {k: counts["SVEB"][k] for k in ("TP", "FN", "FP", "Se", "+P")},
        "VEB": {k: counts["VEB"][k] for k in ("TP", "FN", "FP", "Se", "+P")},
    }


def pooled(records: dict, name: str) -> dict:
    """Gross Se and +P of class ``name`` over ``records`` (their counts summed), and the Se
    averaged over the records with at least one such beat."""
    tp = sum(r[name]["TP"] for r in records.values())
    fn = sum(r[name]["FN"] for r in records.values())
    fp = sum(r[name]["FP"] for r in records.values())
    per = [
        r[name]["TP"] / (r[name]["TP"] + r[name]["FN"])
        for r in records.values()
        if r[name]["TP"] + r[name]["FN"]
    ]
    return {
        "Se": tp / (tp + fn) if tp + fn else None,
        "+P": tp / (tp + fp) if tp + fp else None,
        "Se_rec": float(np.mean(per)) if per else None,
        "TP": tp,
        "FN": fn,
        "FP": fp,
    }


def expert_item(item: str) -> str:
    """The ``--expert`` item of ``ds1_fusion.expert_spec`` in an item of this benchmark (its
    :data:`STRESSED` and :data:`POOLED` suffix removed)."""
    return item.partition(STRESSED)[0]


def with_derived(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the :data:`DERIVED` columns, each computed per record over its beats in
    time order (original beats only where the table has crops)."""
    table = table.copy()
    original = table["augmented"] == 0 if "augmented" in table else pd.Series(True, table.index)
    for column, function in DERIVED.items():
        table[column] = np.nan
        for _, group in table[original].sort_values("sample").groupby("record"):
            table.loc[group.index, column] = function(group)
    return table


def with_signal_derived(beats: dict, record) -> dict:
    """A beats dict cut from ``record`` with the :data:`SIGNAL_DERIVED` columns of its beats."""
    beats = dict(beats)
    for column, function in SIGNAL_DERIVED.items():
        values = function(record)
        beats[column] = values.reindex(beats["sample"].astype(np.int64)).to_numpy(np.float64)
    return beats


def manifest_signal_derived(manifest: pd.DataFrame, data_dir: str, config: dict) -> pd.DataFrame:
    """``manifest`` (DS1 rows) with the :data:`SIGNAL_DERIVED` columns of its beats, computed
    from each record as read by the workflow's settings (crops share their beat's values)."""
    manifest = manifest.copy()
    for column in SIGNAL_DERIVED:
        manifest[column] = np.nan
    for name, group in manifest.groupby("record"):
        record = read(data_dir, str(name), config)
        for column, function in SIGNAL_DERIVED.items():
            values = function(record).reindex(group["sample"].astype(np.int64)).to_numpy()
            if np.isnan(values).any():
                raise SystemExit(f"record {name}: {column} has no value for some manifest beats")
            manifest.loc[group.index, column] = values
    return manifest


def stressed_rows(table: pd.DataFrame, record: str | None = None) -> pd.DataFrame:
    """Training manifest rows of a stressed record's beats table (record name ``{name}s``, or
    ``record``)."""
    rows = table.rename(columns={"true": "label"}).copy()
    if record is not None:
        rows["record"] = record
    rows["split"], rows["augmented"] = "train", 0
    return rows


def false_s(scored: pd.DataFrame) -> dict:
    """Per record, the beats of out-of-fold calls ``scored`` called S that are N, V or F (EC57's
    false SVEBs: Q beats are not scored), records without any left out."""
    wrong = scored[(scored["predicted"] == S_CLASS) & scored["true"].isin(["N", "V", "F"])]
    return {str(r): int(n) for r, n in wrong.groupby("record").size().items()}


def ds1_figures(scored: pd.DataFrame, classes) -> dict:
    """The DS1 probes' figures (pooled EC57 and record-averaged, with ``criterion_record``) of
    out-of-fold calls ``scored`` (``record``, ``sample``, ``true``, ``predicted``)."""
    from ds1_cv import headline, record_headline

    from ecg2d.evaluate import metrics_report

    report = metrics_report(scored, classes, "stress", "inter_patient")
    return {**headline(report), **record_headline(report)}


def ds1_paired(scored: dict, classes, records, boot: int = 2000) -> dict:
    """For every expert of out-of-fold calls ``scored`` (``{item: table}``, the configured one
    first) but the first, its DS1 record criterion minus the first's under resampling of DS1's
    ``records`` (``bench/ds1_selection_noise.py``'s paired bootstrap, seed 0): how far the DS1
    part of a rule rests on which patients DS1 holds. A description beside the rule; no rule
    reads it."""
    records = sorted(str(r) for r in records)
    counts = {
        item: noise.record_counts(t, classes, records)["counts"] for item, t in scored.items()
    }
    weights = noise.resamples(len(records), boot, 0)
    first, *rest = counts
    return {item: noise.difference(counts[item], counts[first], weights, records) for item in rest}


def stressed_counts(result: dict, item: str) -> np.ndarray:
    """``(stressed records, 3)``: SVEB TP, FN, FP of expert ``item`` on each stressed copy of a
    result of this script, in ``stressed_records``' order."""
    records = result["results"][item]["stressed"]["records"]
    return np.array(
        [[records[n]["SVEB"][k] for k in ("TP", "FN", "FP")] for n in result["stressed_records"]],
        dtype=float,
    )


def stressed_resampled(result: dict, boot: int = 2000, seed: int = 0) -> dict:
    """For every expert of a result of this script but the first (the configured one), its
    pooled SVEB Se on the stressed copies minus the first's, and its pooled SVEB +P, under
    resampling of the stressed records (``bench/ds1_selection_noise.py``'s resamples, drawn
    with replacement, the same for every expert): the difference and its 95 % interval (points),
    the share of resamples in which it is above :data:`MIN_GAIN` with the +P at least
    :data:`MIN_PPV` (the runs form's part of the rule), and the share in which it is not below
    ``-MAX_BIGEMINY_FALL`` (the bigeminy form's). A resample whose calls hold no S has +P 0."""
    items = list(result["results"])
    weights = noise.resamples(len(result["stressed_records"]), boot, seed)

    def pooled(item):
        tp, fn, fp = (weights @ stressed_counts(result, item)).T
        se = tp / (tp + fn)
        ppv = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=tp + fp > 0)
        return se, ppv

    se0, _ = pooled(items[0])
    first = stressed_counts(result, items[0]).sum(axis=0)
    out = {}
    for item in items[1:]:
        se, ppv = pooled(item)
        gain = se - se0
        here = stressed_counts(result, item).sum(axis=0)
        point = here[0] / (here[0] + here[1]) - first[0] / (first[0] + first[1])
        out[item] = {
            "difference": 100 * float(point),
            "ci95": [100 * float(q) for q in np.percentile(gain, [2.5, 97.5])],
            "share_runs_part": float(((gain > MIN_GAIN) & (ppv >= MIN_PPV)).mean()),
            "share_bigeminy_part": float((gain >= -MAX_BIGEMINY_FALL).mean()),
        }
    return out


def read(data_dir: str, name: str, config: dict):
    """Record ``name`` as the workflow reads it under ``config`` (its lead, fallback channel,
    rate and second lead)."""
    from ecg2d.io import read_record

    return read_record(
        data_dir, name, config["lead"], config["fallback_channel"], config["fs"],
        lead2=config["lead2"],
    )  # fmt: skip


def is_s_of(classes_map: dict, name: str = S_CLASS):
    """The function telling which of an array of beat symbols are S (or class ``name``) in
    ``classes_map``."""

    def is_s(symbols):
        return np.array([classes_map.get(s) == name for s in symbols])

    return is_s


def cutter(experiment: dict, config: dict):
    """The function cutting a record's beats as the beats stage cuts them for ``experiment``
    (its window over ``config``'s)."""
    from ecg2d.segment import segment_record, window_band, window_leads

    window = {**config["window"], **experiment.get("window", {})}

    def cut(record):
        return segment_record(
            record,
            window["mode"],
            tuple(window["fixed_ms"]),
            window_band(window),
            window_leads(window),
        )

    return cut


def stressed_records(manifest: pd.DataFrame, train, min_s: int) -> list[str]:
    """The ``train`` records with at least ``min_s`` original S beats in ``manifest``, sorted."""
    rows = manifest[manifest["record"].astype(str).isin(train) & (manifest["augmented"] == 0)]
    s_counts = rows[rows["label"] == S_CLASS].groupby("record").size()
    return sorted(str(r) for r, n in s_counts.items() if n >= min_s)


def description(doc: str, script: str, argv=None, extra=()):
    """The command line and setting of a benchmark that describes DS1 and its stressed records
    (``--data-dir``, ``--manifest``, ``--min-s``, ``--out``, by default
    ``bench/results/{script}.json``; ``extra``: more ``(flags, kwargs)`` arguments) and
    ``(args, setting)``: ``setting`` holds the shipped ``config``, the inter-patient
    ``experiment``, its DS1 ``train`` records, the ``stressed`` ones (:func:`stressed_records`),
    ``is_s`` (:func:`is_s_of`) and ``cut`` (:func:`cutter`)."""
    import types

    from ecg2d.split import read_table

    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--manifest", required=True)
    for flags, kwargs in extra:
        parser.add_argument(*flags, **kwargs)
    parser.add_argument("--min-s", type=int, default=50, help="S beats a stressed record needs")
    parser.add_argument("--out", default=str(REPO / f"bench/results/{script}.json"))
    args = parser.parse_args(argv)
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    experiment = ds1_fusion.shipped_experiment()
    train = [str(r) for r in experiment["train_records"]]
    setting = types.SimpleNamespace(
        config=config,
        experiment=experiment,
        train=train,
        stressed=stressed_records(read_table(args.manifest), train, args.min_s),
        is_s=is_s_of(experiment["classes"]),
        cut=cutter(experiment, config),
    )
    return args, setting


def stress_tables(data_dir: str, records: list[str], experiment: dict, config: dict, columns):
    """``{record: (original table, stressed table)}`` of ``records`` (beats tables of the
    expert's ``columns``), cut as the beats stage cuts them."""
    classes_map = experiment["classes"]
    is_s = is_s_of(classes_map)
    is_n = is_s_of(classes_map, "N")
    cut = cutter(experiment, config)

    out = {}
    for name in records:
        record = read(data_dir, name, config)
        stressed, mixed = stressed_record(record, is_s, AFTER_EVERY, is_n)
        beats = cut(stressed)
        original = with_signal_derived(cut(record), record)
        beats = with_signal_derived(beats, stressed)
        # the window drops beats too near the ends: the mixed mask follows the kept beats
        kept = np.isin(stressed.ann_sample, beats["sample"])
        out[name] = (
            beats_table(original, classes_map, columns),
            beats_table(beats, classes_map, columns, excluded=mixed[kept]),
        )
        LOG.info(
            "record %s: %d beats kept of %d, %d merged beats of two symbols left out",
            name,
            len(stressed.ann_sample),
            int(np.sum(np.isin(record.ann_symbol, list(classes_map)))),
            int(mixed.sum()),
        )
    return out


#: The stress rule's thresholds (``bench/ds1_stress_probe.py``): the DS1 criterion's largest
#: fall, the stressed records' SVEB Se's smallest gain and their SVEB +P's floor (fractions, as
#: the figures are).
MAX_FALL, MIN_GAIN, MIN_PPV = 0.005, 0.10, 0.50
#: The largest fall of the bigeminy form's pooled SVEB Se that rounds 15–21 allowed.
MAX_BIGEMINY_FALL = 0.01


def decide(result: dict, items) -> str:
    """The stress rule on a result of expert ``items`` (the configured one first): in order, a
    later item replaces the one chosen so far only if its DS1 record criterion is not lower by
    more than :data:`MAX_FALL` and on the stressed records its pooled SVEB Se is higher by
    more than :data:`MIN_GAIN` at a pooled SVEB +P of at least :data:`MIN_PPV`."""
    res = result["results"]
    chosen = items[0]
    for item in items[1:]:
        a, b = res[chosen], res[item]
        fall = a["ds1"]["criterion_record"] - b["ds1"]["criterion_record"]
        gain = (b["stressed"]["SVEB"]["Se"] or 0.0) - (a["stressed"]["SVEB"]["Se"] or 0.0)
        if fall <= MAX_FALL and gain > MIN_GAIN and (b["stressed"]["SVEB"]["+P"] or 0) >= MIN_PPV:
            chosen = item
    return chosen


def ruled_probe(doc: str, script: str, items, argv=None, extra=()) -> None:
    """A stress probe: its command line (``--data-dir``, ``--manifest``, ``--out``, by default
    ``bench/results/{script}.json``), this benchmark run on expert ``items`` (the configured
    one first), and the rule of ``doc`` (after "The rule, fixed before the run: ") applied by
    :func:`decide`, written into the JSON and its table; ``extra``: more arguments of
    :func:`main` (``--after-every``)."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--out", default=str(REPO / f"bench/results/{script}.json"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    main(["--data-dir", args.data_dir, "--manifest", args.manifest, "--out", str(out)]
         + [*extra, "--expert", *items])  # fmt: skip
    result = json.loads(out.read_text())
    rule = doc.split("The rule, fixed before the run: ")[1].split("\n\n")[0]
    result["rule"] = " ".join(rule.split())
    result["chosen"] = decide(result, items)
    out.write_text(json.dumps(result, indent=1) + "\n")
    md = out.with_suffix(".md")
    md.write_text(
        md.read_text() + f"\nRule: {result['rule']}\n\n**Chosen: `{result['chosen']}`**\n"
    )
    print(f"chosen: {result['chosen']}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--expert", nargs="+", required=True, help="expert items to compare")
    parser.add_argument("--min-s", type=int, default=50, help="S beats a record needs")
    parser.add_argument(
        "--after-every",
        type=int,
        default=1,
        help="every how many S beats one keeps the beat after it (1: bigeminy; more: runs)",
    )
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_stress.json"))
    args = parser.parse_args(argv)
    if args.after_every < 1:
        parser.error(f"--after-every must be at least 1, got {args.after_every}")
    global AFTER_EVERY
    AFTER_EVERY = args.after_every
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from ecg2d.classifier import apply_class_factors
    from ecg2d.config import experiment_classes
    from ecg2d.expert import KIND_COLUMNS, expert_proba
    from ecg2d.split import read_table
    from ecg2d.train import fit_rhythm_expert

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    experiment = ds1_fusion.shipped_experiment()
    classes = experiment_classes(experiment)
    factors = dict(experiment["model"].get("class_factors") or {})
    train = [str(r) for r in experiment["train_records"]]
    folds = [[str(r) for r in fold] for fold in experiment["cv_folds"]]
    manifest = read_table(args.manifest)
    manifest = manifest[manifest["record"].astype(str).isin(train)]
    stressed = stressed_records(manifest, train, args.min_s)
    kinds = [ds1_fusion.expert_spec(expert_item(item)).expert for item in args.expert]
    columns = list(dict.fromkeys(c for kind in kinds for c in KIND_COLUMNS[kind]))
    tables = stress_tables(
        args.data_dir, stressed, experiment, config, [c for c in columns if c not in DERIVED]
    )
    if SIGNAL_DERIVED:
        manifest = manifest_signal_derived(manifest, args.data_dir, config)
    if DERIVED:
        manifest = with_derived(manifest)
        tables = {name: tuple(with_derived(t) for t in pair) for name, pair in tables.items()}

    results, scored = {}, {}
    for item in args.expert:
        model = ds1_fusion.expert_spec(expert_item(item))
        figures = {"original": {}, "stressed": {}}
        oof = []
        for fold in folds:
            rows = fold_manifest(manifest, train, fold)
            if STRESSED in item:
                pooled_as = "stressed" if item.endswith(POOLED) else None
                copies = (stressed_rows(tables[r][1], pooled_as) for r in tables if r not in fold)
                rows = pd.concat(
                    [rows, *copies],
                    ignore_index=True,
                )
            expert = fit_rhythm_expert(rows, model, classes, 0)
            test = rows[(rows["split"] == "test") & (rows["augmented"] == 0)]
            oof.append(
                noise.calls_table(expert, test, KIND_COLUMNS[model.expert], classes, factors)
            )
            for name in (r for r in fold if r in tables):
                for which, table in zip(("original", "stressed"), tables[name]):
                    proba = expert_proba(expert, table[list(KIND_COLUMNS[model.expert])].to_numpy())
                    proba = apply_class_factors(proba, classes, factors)
                    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
                    figures[which][name] = record_figures(table, predicted)
        results[item] = {
            which: {"records": recs, "SVEB": pooled(recs, "SVEB"), "VEB": pooled(recs, "VEB")}
            for which, recs in figures.items()
        }
        oof = pd.concat(oof, ignore_index=True)
        results[item]["ds1"] = ds1_figures(oof, classes)
        results[item]["ds1_false_s"] = false_s(oof)
        scored[item] = oof
        LOG.info("%s: %s", item, {w: results[item][w]["SVEB"] for w in figures})
    paired = ds1_paired(scored, classes, train)
    for item, difference in paired.items():
        results[item]["ds1_paired"] = difference

    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": " ".join(["bench/ds1_stress.py", *(argv if argv is not None else sys.argv[1:])]),
        "stressed_records": stressed,
        "class_factors": factors,
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    out.with_suffix(".md").write_text("\n".join(markdown(result)) + "\n")
    print("\n".join(markdown(result)))


def markdown(result: dict) -> list[str]:
    """The result's tables: pooled figures per expert, then S found per record."""

    def pct(value):
        return "—" if value is None else f"{100 * value:.1f}"

    lines = [
        "# DS1 stress test: ectopic beats as many as sinus beats, made of DS1's own beats",
        "",
        f"`.venv/bin/python {result['command']}` — {result['date']}, {result['machine']}. "
        f"Stressed records: {', '.join(result['stressed_records'])}; EC57, %; class factors "
        f"{result['class_factors'] or 'none'}; each expert out of fold (DS1 folds), the CNN not "
        "read. *rec*: the mean over the records.",
        "",
        "| expert | records | S share | SVEB Se | SVEB Se, rec | SVEB +P | VEB Se | VEB +P |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ds1_lines = [
        "",
        "Every DS1 beat out of fold, the expert alone (the DS1 probes' figures):",
        "",
        "| expert | SVEB Se | SVEB Se, rec | SVEB +P | VEB Se | VEB Se, rec | VEB +P "
        "| criterion, records |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for item, res in result["results"].items():
        for which in ("original", "stressed"):
            recs = res[which]["records"]
            share = sum(r["S_share"] * r["beats"] for r in recs.values()) / sum(
                r["beats"] for r in recs.values()
            )
            s, v = res[which]["SVEB"], res[which]["VEB"]
            lines.append(
                f"| `{item}` | {which} | {pct(share)} | {pct(s['Se'])} | {pct(s['Se_rec'])} | "
                f"{pct(s['+P'])} | {pct(v['Se'])} | {pct(v['+P'])} |"
            )
        d = res["ds1"]
        ds1_lines.append(
            f"| `{item}` | {pct(d['SVEB_Se'])} | {pct(d['SVEB_Se_rec'])} | {pct(d['SVEB_+P'])} | "
            f"{pct(d['VEB_Se'])} | {pct(d['VEB_Se_rec'])} | {pct(d['VEB_+P'])} | "
            f"{pct(d['criterion_record'])} |"
        )
    lines += ds1_lines
    paired = {
        item: res["ds1_paired"] for item, res in result["results"].items() if "ds1_paired" in res
    }
    if paired:
        first = next(iter(result["results"]))
        lines += [
            "",
            f"The DS1 record criterion minus `{first}`'s, under resampling of DS1's records "
            "(paired bootstrap, 2,000 resamples, `bench/ds1_selection_noise.py`; a description "
            "no rule reads):",
            "",
        ]
        for item, d in paired.items():
            lines.append(
                f"- `{item}`: {d['difference']:+.2f} [{d['ci95'][0]:+.2f}, {d['ci95'][1]:+.2f}], "
                f"above 0 in {100 * d['share_above_0']:.1f} % of the resamples"
            )
    if all("ds1_false_s" in res for res in result["results"].values()):
        lines += ["", "False SVEBs per DS1 record, out of fold (records with at least 10):", ""]
        for item, res in result["results"].items():
            many = {r: n for r, n in res["ds1_false_s"].items() if n >= 10}
            lines.append(
                f"- `{item}`: " + (", ".join(f"{r}: {n}" for r, n in many.items()) or "none")
            )
    names = result["stressed_records"]
    lines += [
        "",
        "S beats found per record, original → stressed (SVEB Se, %):",
        "",
        "| expert | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for item, res in result["results"].items():
        cells = [
            f"{pct(res['original']['records'][n]['SVEB']['Se'])} → "
            f"{pct(res['stressed']['records'][n]['SVEB']['Se'])}"
            for n in names
        ]
        lines.append(f"| `{item}` | " + " | ".join(cells) + " |")
    return lines


if __name__ == "__main__":
    main()
