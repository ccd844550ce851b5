"""Selection by cross-validation over DS1 records (bench/ds1_cv.py): DS2 never takes part."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, load_bench

from ecg2d.config import ConfigError, check_config


def load_cv():
    return load_bench("ds1_cv")


@pytest.fixture(scope="module")
def shipped():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_shipped_folds_partition_ds1_and_avoid_ds2(shipped):
    experiment = shipped["experiments"]["inter_patient"]
    folds = [r for fold in experiment["cv_folds"] for r in fold]
    assert sorted(folds) == sorted(experiment["train_records"])
    assert not set(folds) & set(experiment["test_records"])
    # every fold holds S or V beats to score: no fold is made only of normal records
    assert all(len(fold) >= 4 for fold in experiment["cv_folds"])


def test_folds_that_touch_ds2_or_miss_a_record_are_rejected(shipped, mitdb):
    config = copy.deepcopy(shipped)
    config["data_dir"] = str(mitdb)
    experiment = config["experiments"]["inter_patient"]
    check_config(config)  # the shipped folds pass
    experiment["cv_folds"][0] = [*experiment["cv_folds"][0][1:], "100"]  # DS2 record in, 209 out
    with pytest.raises(ConfigError, match=r"inter_patient\.cv_folds"):
        check_config(config)


def test_class_factors_must_name_classes_of_the_experiment(shipped, mitdb):
    config = copy.deepcopy(shipped)
    config["data_dir"] = str(mitdb)
    config["experiments"]["inter_patient"]["model"]["class_factors"] = {"S": 2.0}
    check_config(config)
    config["experiments"]["inter_patient"]["model"]["class_factors"] = {"A": 2.0}  # a symbol
    with pytest.raises(ConfigError, match=r"inter_patient\.model\.class_factors: 'A'"):
        check_config(config)


def test_fold_manifest_drops_ds2_and_the_folds_crops():
    cv = load_cv()
    manifest = pd.DataFrame(
        {
            "record": ["101", "101", "106", "106", "100", "100"],
            "sample": [10, 10, 20, 20, 30, 30],
            "split": ["train", "train", "train", "train", "test", "test"],
            "augmented": [0, 1, 0, 1, 0, 0],
            "label": ["N", "N", "V", "V", "S", "N"],
        }
    )
    rows = cv.fold_manifest(manifest, ["101", "106"], ["106"])
    assert "100" not in set(rows["record"])  # DS2 is never read
    fold = rows[rows["record"] == "106"]
    assert list(fold["split"]) == ["test"] and list(fold["augmented"]) == [0]
    assert list(rows[rows["record"] == "101"]["split"]) == ["train", "train"]


def test_variant_overrides_and_validation_records_outside_the_fold(shipped):
    cv = load_cv()
    name, overrides = cv.parse_variant(["wide", "model.rr_units=64", "train.epochs=3"])
    assert name == "wide" and overrides == {"model": {"rr_units": 64}, "train": {"epochs": 3}}
    experiment = shipped["experiments"]["inter_patient"]
    out = cv.variant_experiment(experiment, overrides, ["118", "201"])
    assert out["train"]["validation_records"] == ["124", "215"]
    assert out["model"]["rr_units"] == 64 and out["model"]["rr_features"] is True
    assert "rr_units" not in experiment["model"]  # the shipped config is not modified
    with pytest.raises(SystemExit, match="model.KEY=VALUE"):
        cv.parse_variant(["bad", "epochs=3"])


def test_decision_needs_a_margin_beyond_the_seed_spread():
    cv = load_cv()

    def variant(mean, sd):
        return {"summary": {"criterion": {"mean": mean, "sd": sd}}}

    close = {"variants": {"plain": variant(0.50, 0.02), "rich": variant(0.51, 0.03)}}
    assert cv.decide(close, ["plain", "rich"])["chosen"] == "plain"
    clear = {"variants": {"plain": variant(0.50, 0.02), "rich": variant(0.60, 0.03)}}
    assert cv.decide(clear, ["plain", "rich"])["chosen"] == "rich"


def test_pause_probe_sums_the_intervals_around_a_beat_against_two_dominant_cycles():
    """bench/ds1_pause_probe.py's feature: a PVC's full compensatory pause gives 1, an APC that
    resets the node less; intervals are floored as the expert's own features are."""
    probe = load_bench("ds1_pause_probe")
    from ecg2d.rr import MIN_RR

    rows = pd.DataFrame(
        {"pre_rr": [0.6, 0.6, 0.0], "post_rr": [1.4, 1.0, 1.0], "upper_rr": [1.0, 1.0, 1.0]}
    )
    ratio = probe.pause_ratio(rows)
    assert ratio[:2].tolist() == [1.0, 0.8]
    assert ratio[2] == (MIN_RR + 1.0) / 2


def test_seconds_probe_gives_the_tree_expert_the_intervals_themselves(monkeypatch):
    """bench/ds1_seconds_probe.py's kind: ``gbm_premature``'s features, then the four RR
    intervals in seconds, unchanged (two beats with the same ratios but other intervals differ
    only there)."""
    import ecg2d.expert as expert

    for name in ("KIND_COLUMNS", "KIND_FEATURES"):
        monkeypatch.setattr(expert, name, dict(getattr(expert, name)))
    monkeypatch.setattr(expert, "TREE_KINDS", expert.TREE_KINDS)
    monkeypatch.setattr(expert, "EXPERTS", expert.EXPERTS)
    probe = load_bench("ds1_seconds_probe")
    probe.ds1_fusion.register_probe_kind("gbm_seconds", probe.SECONDS_COLUMNS)
    base = expert.KIND_COLUMNS["gbm_premature"]
    assert expert.KIND_COLUMNS["gbm_seconds"] == (*base, *probe.SECONDS_COLUMNS)
    assert "gbm_seconds" in expert.TREE_KINDS
    # The same beat at two heart rates: every ratio and shape equal, the seconds halved.
    intervals = ("pre_rr", "post_rr", "local_rr", "record_rr", "prev_rr", "upper_rr")
    rows = pd.DataFrame([{c: 0.3 for c in base}] * 2)
    rows[list(intervals)] = [[0.8, 1.0, 1.0, 1.0, 1.0, 1.0], [0.4, 0.5, 0.5, 0.5, 0.5, 0.5]]
    rows[list(expert.MAY_BE_MISSING)] = np.nan
    probe.add_seconds(rows)
    features = expert.expert_features(rows[list(expert.KIND_COLUMNS["gbm_seconds"])], "gbm_seconds")
    n = len(expert.KIND_FEATURES["gbm_premature"])
    assert features.shape == (2, n + 4)
    np.testing.assert_allclose(features[0, :n], features[1, :n])
    np.testing.assert_allclose(features[:, n:], [[0.8, 1.0, 1.0, 1.0], [0.4, 0.5, 0.5, 0.5]])


def test_prior_probe_undoes_the_draws_class_shares():
    """bench/jun2018_prior.py: a class drawn as often as another (crops included) but ten
    times rarer among the beats gets a tenth of the other's factor; a correction by equal
    factors changes nothing."""
    probe = load_bench("jun2018_prior")
    rows = pd.DataFrame(
        {
            "label": ["N"] * 100 + ["A"] * 100,
            "augmented": [0] * 100 + [0] * 10 + [1] * 90,
        }
    )
    ratio = probe.prior_ratio(rows, ["N", "A", "V"], power=0.5)
    np.testing.assert_allclose(ratio, [(100 / 110) / 0.5, (10 / 110) / 0.5, 0.0])
    proba = np.array([[0.5, 0.5, 0.0], [0.2, 0.7, 0.1]])
    np.testing.assert_allclose(probe.correct(proba, ratio)[0], [10 / 11, 1 / 11, 0.0])
    np.testing.assert_allclose(probe.correct(proba, np.full(3, 2.0)), proba)


def test_per_record_table_counts_each_records_finds_and_false_calls():
    """bench/ds1_per_record.py: S and V beats, found and falsely called, per record, and what
    the missed S beats were called."""
    probe = load_bench("ds1_per_record")
    records = np.array(["201", "201", "201", "124", "124"])
    true = np.array(["S", "S", "V", "S", "N"])
    predicted = np.array(["V", "S", "V", "N", "S"])
    counts = probe.record_counts(records, true, predicted)
    assert counts["201"] == {
        "S_beats": 2,
        "S_found": 1,
        "S_false": 0,
        "V_beats": 1,
        "V_found": 1,
        "V_false": 1,
        "S_missed_as": {"V": 1},
    }
    assert counts["124"]["S_found"] == 0 and counts["124"]["S_false"] == 1
    assert counts["124"]["S_missed_as"] == {"N": 1}


def test_record_criterion_weighs_a_record_failed_as_a_whole():
    """ds1_cv.record_headline: Se averaged over the records with enough beats of the class (a
    small one is left out), F1 with the gross +P. A record whose S beats are all missed halves
    the record-mean Se that the pooled Se barely shows."""
    cv = load_cv()
    from ecg2d.evaluate import metrics_report

    classes = ["N", "S", "V", "F", "Q"]
    rows = (
        [("209", "S", "S")] * 90  # a large record, all found
        + [("124", "S", "N")] * 10  # a record failed as a whole
        + [("101", "S", "N")] * 3  # too few S beats to count
        + [("106", "V", "V")] * 12
        + [("106", "N", "S")] * 10  # false SVEBs
        + [("101", "N", "N")] * 50
    )
    table = pd.DataFrame(rows, columns=["record", "true", "predicted"])
    metrics = metrics_report(table, classes, "t", "inter_patient")
    pooled = cv.headline(metrics)
    by_record = cv.record_headline(metrics)
    assert pooled["SVEB_Se"] == pytest.approx(90 / 103)
    assert by_record["SVEB_records"] == 2 and by_record["SVEB_Se_rec"] == pytest.approx(0.5)
    ppv = 90 / 100
    assert by_record["SVEB_F1_rec"] == pytest.approx(2 * 0.5 * ppv / (0.5 + ppv))
    assert by_record["VEB_records"] == 1 and by_record["VEB_Se_rec"] == pytest.approx(1.0)
    assert by_record["criterion_record"] == pytest.approx(
        (by_record["SVEB_F1_rec"] + by_record["VEB_F1_rec"]) / 2
    )
    assert cv.record_headline(metrics, min_beats=3)["SVEB_records"] == 3


def test_factor_probe_moves_only_beyond_the_seed_spread():
    """bench/ds1_factor_probe.py's rule: the first factor is the current choice; a later one
    replaces it only if higher by more than the larger seed sd of the two."""
    probe = load_bench("ds1_factor_probe")

    def row(mean, sd):
        return {"c": {"mean": mean, "sd": sd}}

    scores = {1.0: row(0.80, 0.006), 1.25: row(0.805, 0.004), 2.0: row(0.82, 0.005)}
    assert probe.decide(scores, "c") == 2.0
    scores[3.0] = row(0.823, 0.004)  # 0.003 above 2's, within its sd: 2 stays
    assert probe.decide(scores, "c") == 2.0
    assert probe.decide({1.0: row(0.8, 0.01), 0.5: row(0.805, 0.001)}, "c") == 1.0


def test_adapt_probe_estimates_a_records_own_prevalence():
    """bench/ds1_adapt_probe.py: EM on a record's unlabelled probabilities finds how common each
    class is there; strength 0 changes nothing; a few beats stay near the training prevalence;
    a class more common in the record than in training is called more readily."""
    probe = load_bench("ds1_adapt_probe")
    rng = np.random.default_rng(0)
    truth = np.array([0.3, 0.7])  # a record where the class rare in training is the majority
    labels = rng.choice(2, 4000, p=truth)
    likelihood = np.exp(rng.normal(0.0, 1.0, (4000, 2)))
    likelihood[np.arange(4000), labels] *= 6.0
    proba = likelihood / likelihood.sum(axis=1, keepdims=True)  # under equal priors
    trained = probe.training_prevalence(["N"] * 95 + ["S"] * 5, ["N", "S"])
    np.testing.assert_allclose(trained, [96 / 102, 6 / 102])
    estimate = probe.record_prevalence(proba, trained)
    assert abs(estimate[1] - truth[1]) < 0.05 and estimate.sum() == pytest.approx(1.0)
    # a strip of ten beats barely moves off the training prevalence (200 pseudo-beats)
    assert abs(probe.record_prevalence(proba[:10], trained)[1] - trained[1]) < 0.05
    np.testing.assert_allclose(probe.adapt(proba, trained, 0.0), proba, atol=1e-6)
    adapted = probe.adapt(proba, trained, 1.0)
    assert (adapted.argmax(axis=1) == 1).sum() > (proba.argmax(axis=1) == 1).sum()
    with pytest.raises(ValueError, match="within 0..1"):
        probe.adapt(proba, trained, 1.5)


def test_fusion_rule_probe_arithmetic_mean_does_not_veto():
    """bench/ds1_fusion_rule_probe.py's sum rule: the ends are each model alone, rows sum to 1,
    and a class one model rules out survives where the product rule (ecg2d.expert.fuse) drops
    it."""
    from ecg2d.expert import fuse

    probe = load_bench("ds1_fusion_rule_probe")
    p_cnn = np.array([[0.6, 0.4, 0.0], [0.2, 0.3, 0.5]])
    p_expert = np.array([[0.0, 0.1, 0.9], [0.7, 0.2, 0.1]])
    np.testing.assert_allclose(probe.arithmetic(p_cnn, p_expert, 1.0), p_cnn, atol=1e-7)
    np.testing.assert_allclose(probe.arithmetic(p_cnn, p_expert, 0.0), p_expert, atol=1e-7)
    mixed = probe.arithmetic(p_cnn, p_expert, 0.5)
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(mixed[0], [0.3, 0.25, 0.45], atol=1e-6)
    assert mixed[0].argmax() == 2  # the expert's class, which the CNN ruled out, survives
    assert fuse(p_cnn, p_expert, 0.5)[0].argmax() == 1  # the product rule vetoes both ends


def test_ensemble_probe_averages_aligned_seeds_only():
    """bench/ds1_ensemble_probe.py: a member of two seeds carries the mean of their CNN
    probabilities beside the shared expert's, every pair of seeds once; tables of other beats
    are refused rather than averaged row by row."""
    probe = load_bench("ds1_ensemble_probe")
    table = pd.DataFrame({"record": ["101", "101", "106"], "sample": [10, 20, 30]})
    p_expert = np.full((3, 2), 0.5)
    base = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    pairs = {
        42: (table, base, p_expert),
        43: (table, np.full((3, 2), 0.5), p_expert),
        44: (table, base[:, ::-1], p_expert),  # the opposite of seed 42
    }
    assert list(probe.members(pairs, 1)) == ["42", "43", "44"]
    two = probe.members(pairs, 2)
    assert list(two) == ["42+43", "42+44", "43+44"]
    np.testing.assert_allclose(two["42+44"][1], 0.5)  # opposite seeds average out
    np.testing.assert_allclose(two["42+43"][1][0], [0.75, 0.25])
    assert two["42+43"][2] is p_expert
    shuffled = dict(pairs)
    shuffled[44] = (table.iloc[::-1].reset_index(drop=True), *pairs[44][1:])
    with pytest.raises(SystemExit, match="seed 44"):
        probe.members(shuffled, 2)


def test_probe_sweep_scores_each_value_and_writes_its_choice(tmp_path):
    """bench/ds1_factor_probe.py's sweep, which the factor, adaptation and weight probes share:
    every value is scored per seed by the record criterion, the rule chooses, and the JSON and
    its Markdown table are written."""
    import json
    import types

    probe = load_bench("ds1_factor_probe")
    classes = ["N", "S", "V", "F", "Q"]
    rows = [
        (r, i, label) for r in ("a", "b") for i, label in enumerate("N" * 30 + "S" * 12 + "V" * 12)
    ]
    table = pd.DataFrame(rows, columns=["record", "sample", "true"])
    truth = np.eye(len(classes))[[classes.index(t) for t in table["true"]]]
    muddled = truth.copy()
    muddled[table["true"].to_numpy() == "S"] = np.eye(len(classes))[0]  # every S beat called N

    def probas(value):
        for seed in (42, 43):
            yield seed, table, truth if value == 2.0 else muddled

    args = types.SimpleNamespace(criterion="record", out=str(tmp_path / "p.json"))
    fields = dict(expert="gbm", title="t", scope="s", column="value")
    probe.sweep(args, [], "ds1_test_probe", "a rule", [1.0, 2.0], probas, classes, **fields)
    result = json.loads((tmp_path / "p.json").read_text())
    assert result["chosen"] == 2.0 and result["criterion"] == "criterion_record"
    assert result["scores"]["2.0"]["SVEB_Se_rec"]["mean"] == pytest.approx(1.0)  # fractions
    assert result["scores"]["1.0"]["SVEB_Se_rec"]["mean"] == pytest.approx(0.0)
    assert "| 2 **(chosen)** |" in (tmp_path / "p.md").read_text()


def test_atrial_probe_tells_fibrillation_from_sinus_rhythm(mitdb):
    """bench/ds1_atrial_probe.py: the local median of the P-wave likeness is high in a sinus
    record and low in atrial fibrillation (the first 300 beats of records 100 and 203, real
    data), and it is a centred median over the rhythm columns' 61 beats."""
    import wfdb

    probe = load_bench("ds1_atrial_probe")
    np.testing.assert_allclose(probe.organised([0, 1, 0, 1, 1], window=3), [0.5, 0, 1, 1, 1])
    rows = []
    for record in ("100", "203"):
        ann = wfdb.rdann(str(mitdb / record), "atr")
        keep = np.isin(ann.symbol, ["N"])
        samples = ann.sample[keep][5:305]
        rows.append(pd.DataFrame({"record": record, "sample": samples, "symbol": "N"}))
    table = probe.atrial_columns(pd.concat(rows, ignore_index=True)[::-1], str(mitdb))
    assert list(table["record"].unique()) == ["100", "203"]
    assert table.groupby("record")["sample"].apply(lambda s: s.is_monotonic_increasing).all()
    organised = table.groupby("record")["p_organised"].median()
    assert organised["100"] > 0.8 and organised["203"] < 0.4
    medians = probe.medians(table)
    assert medians["100"]["N"]["beats"] == 300


def test_trees_probe_starts_from_the_shipped_rounds_and_leaves_them_shipped():
    """bench/ds1_trees_probe.py compares against the shipped number of boosting rounds first,
    and the trees fitted with fewer rounds are that many rounds deep."""
    import ecg2d.expert as expert

    probe = load_bench("ds1_trees_probe")
    shipped = expert.TREE_SETTINGS["max_iter"]
    with pytest.raises(SystemExit, match=f"the shipped one, {shipped}"):
        probe.main(["--manifest", "m.csv", "--cnn", "t", "--rounds", str(shipped // 2)])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    labels = np.where(x[:, 0] > 0.5, "S", "N")
    assert len(expert.fit_trees(x, labels, 0)["trees"]) == shipped
    expert.TREE_SETTINGS["max_iter"] = 7
    try:
        assert len(expert.fit_trees(x, labels, 0)["trees"]) == 7
    finally:
        expert.TREE_SETTINGS["max_iter"] = shipped


def test_bagging_probe_averages_experts_of_record_subsets(mitdb):
    """bench/ds1_bagging_probe.py: record subsets are seeded draws without repeats of the set
    size; one subset of every record is the shipped out-of-fold expert exactly, and averaging
    experts of subsets gives each held-out beat (real beats of four DS1 records) a probability
    per class that sums to one and differs from the single expert's."""
    from conftest import segmented

    from ecg2d.config import experiment_classes
    from ecg2d.expert import KIND_COLUMNS
    from ecg2d.settings import ModelSettings

    probe = load_bench("ds1_bagging_probe")
    ds1_fusion = probe.ds1_fusion
    subsets = probe.record_subsets(["9", "1", "3", "5", "7", "2"], 4, 2 / 3, 0)
    assert len(subsets) == 4 and all(len(s) == len(set(s)) == 4 for s in subsets)
    assert all(s == sorted(s) and set(s) <= {"1", "2", "3", "5", "7", "9"} for s in subsets)
    assert len({tuple(s) for s in subsets}) > 1
    assert subsets == probe.record_subsets(["9", "1", "3", "5", "7", "2"], 4, 2 / 3, 0)

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    experiment = config["experiments"]["inter_patient"]
    classes = experiment_classes(experiment)
    kind = experiment["model"]["expert"]
    records = ["101", "106", "118", "119"]
    rows = []
    for record in records:
        beats = segmented(record, "fixed")
        keep = np.isin(beats["symbol"], list(experiment["classes"]))
        table = pd.DataFrame({c: beats[c][keep] for c in KIND_COLUMNS[kind]})
        table.insert(0, "record", record)
        table.insert(1, "sample", beats["sample"][keep])
        table["label"] = [experiment["classes"][s] for s in beats["symbol"][keep]]
        rows.append(table.iloc[:500])
    manifest = pd.concat(rows, ignore_index=True).assign(split="train", augmented=0)
    folds = [[r] for r in records]
    model = ModelSettings(expert=kind, expert_weights="record")
    single = ds1_fusion.oof_expert(manifest, records, folds, classes, 0, model)
    once = probe.bagged_oof_expert(1, 1.0)(manifest, records, folds, classes, 0, model)
    bagged = probe.bagged_oof_expert(3, 2 / 3)(manifest, records, folds, classes, 0, model)
    assert single.keys() == once.keys() == bagged.keys() and len(single) == 2000
    for key in single:
        np.testing.assert_array_equal(once[key], single[key])
    p_bagged = np.stack(list(bagged.values()))
    np.testing.assert_allclose(p_bagged.sum(axis=1), 1.0, atol=1e-9)
    assert np.abs(p_bagged - np.stack(list(single.values()))).max() > 0.01


def test_unusual_probe_scores_prematurity_against_the_records_own_spread(mitdb):
    """bench/ds1_unusual_probe.py: within a steady sinus record (100, real beats) its atrial
    premature beats are many robust sds early (and normal beats at 0), where in atrial
    fibrillation (203) the same ratios are ordinary: the spread is the record's own."""
    from conftest import segmented

    probe = load_bench("ds1_unusual_probe")
    np.testing.assert_allclose(probe.robust_z([1.0, 1.0, 1.0, 1.0, 3.0], 0.5), [0, 0, 0, 0, 4])
    rows = []
    for record in ("100", "203"):
        beats = segmented(record, "fixed")
        columns = {c: beats[c] for c in ("pre_rr", "upper_rr", "prev_rr", "qrs_corr")}
        rows.append(pd.DataFrame({"record": record, "symbol": beats["symbol"], **columns}))
    table = probe.unusual_columns(pd.concat(rows, ignore_index=True))
    medians = table.groupby(["record", "symbol"])["z_pre_upper"].median()
    assert medians["100", "A"] < -4 and abs(medians["100", "N"]) < 0.5
    assert table.loc[table["record"] == "203", "z_pre_upper"].quantile(0.02) > -2.5
    assert set(probe.COLUMNS) <= set(table.columns)


def test_shape_z_probe_scores_each_shape_number_against_its_record(mitdb):
    """bench/ds1_shape_z_probe.py: each shape number becomes a robust z-score within its record
    (record 119's ventricular beats far from its normal beats in QRS width and in the second
    lead's correlation, real beats), missing numbers stay missing, and the rule's margin is
    never below its floor: a candidate better by less than 0.5 does not replace the current
    expert even where both sds are 0 (experts without a seed)."""
    from conftest import segmented

    probe = load_bench("ds1_shape_z_probe")
    factor_probe = load_bench("ds1_factor_probe")
    beats = segmented("119", "fixed")
    rows = pd.DataFrame({"record": "119", "symbol": beats["symbol"]})
    for column in probe.FLOORS:
        rows[column] = beats[column]
    rows.loc[:9, "qrs_amp_2"] = np.nan
    table = probe.shape_z_columns(rows)
    medians = table.groupby("symbol")[list(probe.COLUMNS)].median()
    assert abs(medians.loc["N", "z_qrs_width"]) < 1 and medians.loc["V", "z_qrs_width"] > 3
    assert medians.loc["V", "z_qrs_corr_2"] < -3
    assert table["z_qrs_amp_2"].isna().sum() == 10
    # criteria are fractions, as ds1_fusion.seed_summary gives them: 0.4 points and 0.6 points
    scores = {
        "current": {"c": {"mean": 0.836, "sd": 0.0}},
        "candidate": {"c": {"mean": 0.840, "sd": 0.0}},
    }
    assert factor_probe.decide(scores, "c") == "candidate"
    assert factor_probe.decide(scores, "c", probe.MARGIN) == "current"
    scores["candidate"]["c"]["mean"] = 0.842
    assert factor_probe.decide(scores, "c", probe.MARGIN) == "candidate"


def test_pwave_z_probe_scores_the_atrial_activity_against_its_record(mitdb):
    """bench/ds1_pwave_z_probe.py: record 100's atrial premature beats have atrial activity
    unusual for their record (median robust z of the P-wave likeness below -2, its normal
    beats near 0), and in atrial fibrillation (203) the normal beats' poor likeness is
    ordinary for the record (z near 0): real beats, in record and sample order."""
    import wfdb

    probe = load_bench("ds1_pwave_z_probe")
    rows = []
    for record in ("203", "100"):
        ann = wfdb.rdann(str(mitdb / record), "atr")
        keep = np.isin(ann.symbol, ["N", "A"])
        samples, symbols = ann.sample[keep][2:-2], np.asarray(ann.symbol)[keep][2:-2]
        rows.append(pd.DataFrame({"record": record, "sample": samples, "symbol": symbols}))
    table = probe.pwave_z_column(pd.concat(rows, ignore_index=True), str(mitdb))
    assert list(table["record"].unique()) == ["100", "203"]
    medians = table.groupby(["record", "symbol"])[["p_corr", "z_p_corr"]].median()
    assert medians.loc[("100", "A"), "z_p_corr"] < -2
    assert abs(medians.loc[("100", "N"), "z_p_corr"]) < 0.5
    assert medians.loc[("203", "N"), "p_corr"] < 0.3
    assert abs(medians.loc[("203", "N"), "z_p_corr"]) < 0.5


def test_psinus_probe_computes_the_p_wave_columns_as_the_beats_stage_does(mitdb):
    """bench/ds1_psinus_probe.py cuts record 100 as the beats stage does (the shipped config's
    lead and rate, the inter-patient fixed window): its ``z_p_corr`` and ``z_p_sinus`` are the
    beats file's, beat for beat, and about a quarter of the beats are its sinus reference."""
    import yaml
    from conftest import segmented

    probe = load_bench("ds1_psinus_probe")
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    window = {**config["window"], "mode": "fixed", "fixed_ms": [250, 400]}
    table = probe.record_columns(str(mitdb), "100", config, window)
    beats = segmented("100", "fixed")
    np.testing.assert_array_equal(table["sample"], beats["sample"])
    np.testing.assert_allclose(table["z_p_corr_check"], beats["z_p_corr"], atol=1e-5)
    np.testing.assert_allclose(table["z_p_sinus"], beats["z_p_sinus"], atol=1e-5)
    assert 0.2 < table["sinus_reference"].mean() < 0.35


def test_stress_test_makes_atrial_bigeminy_of_a_records_own_beats(mitdb):
    """bench/ds1_stress.py on record 100 (33 atrial premature beats in 2,273): the sinus stretches
    between its S beats are cut out, every S beat kept with a beat on either side, so S beats
    are about half of the beats; every RR interval of the stressed record is one the patient
    had; and the workflow's beats code cuts it like any record."""
    from ecg2d.io import beat_mask, read_record
    from ecg2d.segment import segment_record

    stress = load_bench("ds1_stress")
    record = read_record(str(mitdb), "100", "MLII", 0, 360.0)
    is_s = lambda symbols: np.isin(symbols, ["A", "a", "J", "S"])  # noqa: E731
    stressed, mixed = stress.stressed_record(record, is_s)
    beats = record.ann_symbol[beat_mask(record.ann_symbol)]
    assert is_s(stressed.ann_symbol).sum() == is_s(beats).sum() == 33
    assert 0.45 < is_s(stressed.ann_symbol).mean() < 0.55 and len(mixed) == len(stressed.ann_sample)
    original = np.diff(record.ann_sample[beat_mask(record.ann_symbol)])
    assert np.isin(np.diff(stressed.ann_sample), original).all()
    assert len(stressed.signal) < len(record.signal) / 30 and stressed.name == "100s"
    cut = segment_record(stressed, "fixed", (250.0, 400.0))
    assert len(cut["sample"]) >= len(stressed.ann_sample) - 2
    assert stress.kept_blocks(np.array([0, 1, 0, 0, 0, 1, 1, 0, 1], dtype=bool)) == [(0, 2), (4, 7)]


def test_stress_probes_rules_need_a_gain_where_ectopy_is_the_majority():
    """bench/ds1_stress_probe.py's rule (and ds1_alternation_probe's, which reuses it): a
    candidate replaces the configured expert only if the DS1 criterion falls by at most 0.5
    points and the stressed records' SVEB Se rises by more than 10 points at +P >= 50 %."""
    probe = load_bench("ds1_stress_probe")

    def result(ds1, se, ppv):
        return {"ds1": {"criterion_record": ds1}, "stressed": {"SVEB": {"Se": se, "+P": ppv}}}

    cases = {
        (0.846, 0.30, 0.9): probe.CANDIDATE,
        (0.844, 0.30, 0.9): probe.INCUMBENT,  # the DS1 criterion fell by 0.6 points
        (0.860, 0.09, 0.9): probe.INCUMBENT,  # too small a gain where ectopy is the majority
        (0.860, 0.30, 0.4): probe.INCUMBENT,  # the gain bought with false S beats
    }
    for (ds1, se, ppv), chosen in cases.items():
        results = {probe.INCUMBENT: result(0.850, 0.0, None), probe.CANDIDATE: result(ds1, se, ppv)}
        assert probe.decide({"results": results}) == chosen


def test_alternation_tells_bigeminy_from_fibrillation(mitdb):
    """bench/ds1_alternation_probe.py's rr_alternation on real beats: record 119's ventricular
    bigeminy (every other RR alike) scores far below 0, record 203's atrial fibrillation stays
    near 0, record 100's sinus rhythm above it."""
    from conftest import segmented

    probe = load_bench("ds1_alternation_probe")
    scores = {
        r: probe.rr_alternation(segmented(r, "fixed")["pre_rr"]) for r in ("119", "203", "100")
    }
    assert np.quantile(scores["119"], 0.05) < -1.5
    assert np.quantile(scores["203"], 0.05) > -0.5 and abs(np.median(scores["203"])) < 0.2
    assert np.median(scores["100"]) > 0.2


def test_organised_atrial_activity_is_low_in_fibrillation_and_reaches_stressed_copies(mitdb):
    """bench/ds1_organised_probe.py's p_organised on real records: high in record 100's sinus
    rhythm, lower through record 203's atrial fibrillation; ds1_stress computes it from a
    stressed copy's own signal (SIGNAL_DERIVED), for every beat the beats code cuts from it."""
    from ecg2d.io import read_record
    from ecg2d.segment import segment_record

    probe = load_bench("ds1_organised_probe")
    stress = load_bench("ds1_stress")
    sinus = probe.p_organised(read_record(str(mitdb), "100", "MLII", 0, 360.0))
    fibrillation = probe.p_organised(read_record(str(mitdb), "203", "MLII", 0, 360.0))
    assert np.median(sinus) > 0.9 and np.median(fibrillation) < 0.7
    assert sinus.index.is_monotonic_increasing and len(sinus) == 2273
    record = read_record(str(mitdb), "100", "MLII", 0, 360.0)
    stressed, _ = stress.stressed_record(record, lambda s: np.isin(s, ["A", "a", "J", "S"]))
    stress.SIGNAL_DERIVED["p_organised"] = probe.p_organised
    try:
        beats = stress.with_signal_derived(segment_record(stressed, "fixed"), stressed)
    finally:
        stress.SIGNAL_DERIVED.clear()
    assert len(beats["p_organised"]) == len(beats["sample"])
    assert not np.isnan(beats["p_organised"]).any() and np.median(beats["p_organised"]) > 0.8


def test_local_ratios_and_false_svebs_of_a_stress_result():
    """bench/ds1_local_rr_probe.py's two ratios (intervals floored as the expert floors them) and
    ds1_stress.false_s: N, V and F beats called S count per record, S and Q beats do not."""
    probe = load_bench("ds1_local_rr_probe")
    stress = load_bench("ds1_stress")
    rows = pd.DataFrame({"pre_rr": [0.5, 1.0, 0.0], "post_rr": [1.0, 1.0, 1.0], "local_rr": 1.0})
    ratios = probe.local_ratios(rows)
    np.testing.assert_allclose(ratios["log_pre_over_local"], np.log([0.5, 1.0, 0.05]))
    np.testing.assert_allclose(ratios["log_post_over_pre"], np.log([2.0, 1.0, 20.0]))
    scored = pd.DataFrame(
        {
            "record": ["1", "1", "1", "2", "2", "3"],
            "true": ["N", "S", "V", "Q", "F", "N"],
            "predicted": ["S", "S", "S", "S", "S", "N"],
        }
    )
    assert stress.false_s(scored) == {"1": 2, "2": 1}


def test_z_scores_against_non_premature_beats_keep_bigeminal_s_beats_unusual(mitdb):
    """On record 100's stressed copy (atrial bigeminy, S beats half of the beats) the all-beats
    z-score of log(pre_rr / upper_rr) no longer marks the S beats (the spread is the gap between
    the two halves), while the z-scores of bench/ds1_sinus_z_probe.py (against the sinus beats)
    and bench/ds1_sinus_z90_probe.py (against the beats at least 90 % of the dominant cycle)
    still do; on the record as recorded the 90 % reference gives the N beats the all-beats
    centre."""
    from ecg2d.io import read_record
    from ecg2d.segment import segment_record

    stress = load_bench("ds1_stress")
    sinus = load_bench("ds1_sinus_z_probe")
    z90 = load_bench("ds1_sinus_z90_probe")
    record = read_record(str(mitdb), "100", "MLII", 0, 360.0)
    stressed, _ = stress.stressed_record(record, lambda s: np.isin(s, ["A", "a", "J", "S"]))
    medians = {}
    for which, rec in (("recorded", record), ("stressed", stressed)):
        beats = segment_record(rec, "fixed")
        is_s = np.isin(beats["symbol"], ["A", "a", "J", "S"])
        args = (beats["pre_rr"], beats["upper_rr"], beats["prev_rr"], beats["qrs_corr"])
        scores = {
            "all": beats["z_pre_upper"],
            "sinus": sinus.sinus_z(*args)["zs_pre_upper"],
            "z90": z90.reference_z(*args)["zn_pre_upper"],
        }
        medians[which] = {
            k: (float(np.median(v[~is_s])), float(np.median(v[is_s]))) for k, v in scores.items()
        }
    assert medians["recorded"]["all"][1] < -4 and medians["stressed"]["all"][1] > -2
    assert medians["stressed"]["sinus"][1] < -3 and medians["stressed"]["z90"][1] < -3
    assert abs(medians["recorded"]["z90"][0]) < 0.5 < abs(medians["recorded"]["sinus"][0])


def test_sinus_irregularity_is_high_in_fibrillation_only(mitdb):
    """bench/ds1_sinus_rhythm_probe.py's sinus_irregularity: the spread of the non-premature
    beats' intervals is larger through record 203's atrial fibrillation than in record 100's
    sinus rhythm; 0 where a window has too few such beats."""
    from conftest import segmented

    probe = load_bench("ds1_sinus_rhythm_probe")
    score = {
        r: probe.sinus_irregularity(b["pre_rr"], b["upper_rr"])
        for r, b in ((r, segmented(r, "fixed")) for r in ("100", "203"))
    }
    assert np.median(score["203"]) > 2 * np.median(score["100"]) > 0
    assert probe.sinus_irregularity([0.5, 1.0, 0.5], [1.0, 1.0, 1.0]).tolist() == [0.0] * 3


def test_stress_features_table_of_record_100(mitdb):
    """bench/ds1_stress_features.py's medians: one row per feature of the expert kind, columns
    recorded and stressed N and S; on record 100 the S beats' P-wave score stays low stressed
    while their all-beats prematurity z-score does not."""
    from ecg2d.expert import KIND_COLUMNS, KIND_FEATURES

    stress = load_bench("ds1_stress")
    features = load_bench("ds1_stress_features")
    ds1_fusion = load_bench("ds1_fusion")
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    experiment = ds1_fusion.shipped_experiment()
    tables = stress.stress_tables(
        str(mitdb), ["100"], experiment, config, list(KIND_COLUMNS["gbm_psinus"])
    )
    table = features.medians(tables, "gbm_psinus")
    assert list(table.index) == list(KIND_FEATURES["gbm_psinus"])
    assert [tuple(c) for c in table.columns] == [
        ("recorded", "N"), ("recorded", "S"), ("stressed", "N"), ("stressed", "S"),
    ]  # fmt: skip
    assert table.loc["z_p_sinus", ("stressed", "S")] < -2
    assert table.loc["z_pre_upper", ("stressed", "S")] > table.loc["z_pre_upper", ("recorded", "S")]


def test_published_fibrillation_criterion_on_real_rhythms():
    """bench/af_criterion.py (Dash et al. 2009): record 203's atrial fibrillation is called
    fibrillation almost throughout, record 100's sinus rhythm nowhere; a strictly alternating
    bigeminal sequence turns at almost every beat (the trimming of the 8 longest and shortest
    intervals breaks the alternation at its ends) and fills two histogram bins, so it is not."""
    from conftest import segmented

    probe = load_bench("af_criterion")
    assert probe.describe(segmented("203", "fixed"))[0]["af_share"] > 0.9
    assert probe.describe(segmented("100", "fixed"))[0]["af_share"] == 0.0
    nrmssd, tpr, entropy = probe.segment_figures(np.tile([0.6, 1.1], 64))
    assert nrmssd > 0.1 and tpr > probe.TPR_RANGE[1] and entropy < 0.3
    assert np.isnan(probe.segment_figures([0.8] * 5)).all()


def test_fibrillation_criterion_between_non_premature_beats():
    """bench/af_criterion.py's variant over the intervals between non-premature beats: record
    203's fibrillation stays called, as its reference annotations say (AFIB/AFL throughout),
    record 100's sinus rhythm is not (no fibrillation annotated); record 208's frequent
    ventricular ectopy, which the published criterion calls fibrillation almost throughout, is
    called far less. A strict bigeminy is one interval of two cycles between its sinus beats."""
    from conftest import MITDB, segmented

    probe = load_bench("af_criterion")
    for name, low, high in (("203", 0.9, 1.0), ("100", 0.0, 0.0)):
        beats = segmented(name, "fixed")
        share = probe.describe(beats)[0]["af_between_share"]
        annotated = probe.annotated_af(str(MITDB), name, beats["sample"], float(beats["fs"]))
        assert low <= share <= high and low <= annotated.mean() <= high
    ectopy = probe.describe(segmented("208", "fixed"))[0]
    assert ectopy["af_share"] > 0.8 and ectopy["af_between_share"] < 0.4
    pre = np.tile([0.6, 1.4], 200)
    assert not probe.dash_af_between(pre, np.full(len(pre), 1.4)).any()
    assert probe.dash_af_between([0.5], [1.0]).tolist() == [False]


def test_gated_z_scores_follow_the_fibrillation_verdict():
    """bench/ds1_af_gated_probe.py: where the beat is called fibrillation the z-score is the one
    against all the record's beats, elsewhere the one against its non-premature beats."""
    from conftest import segmented

    probe = load_bench("ds1_af_gated_probe")
    af = load_bench("af_criterion")
    z90 = load_bench("ds1_sinus_z90_probe")
    for name in ("203", "100"):
        b = segmented(name, "fixed")
        args = (b["pre_rr"], b["upper_rr"], b["prev_rr"], b["qrs_corr"])
        gated, called = probe.gated_z(*args), af.dash_af_between(b["pre_rr"], b["upper_rr"])
        zn = z90.reference_z(*args)["zn_pre_upper"]
        assert np.allclose(gated["zg_pre_upper"][called], b["z_pre_upper"][called], atol=1e-5)
        assert np.array_equal(gated["zg_pre_upper"][~called], zn[~called])
        assert called.mean() > 0.9 if name == "203" else not called.any()
        for column in probe.COLUMNS:  # the workflow's beats hold the columns the rule chose
            np.testing.assert_allclose(b[column], gated[column], atol=1e-6)


def test_fibrillation_column_replaces_the_irregularity_features():
    """bench/ds1_af_rhythm_probe.py: kind ``gbm_gated_fib`` reads ``fibrillation`` where
    ``gbm_gated`` reads the local irregularity, and neither rhythm column; the column is 1
    through record 203's fibrillation and 0 through record 100's sinus rhythm."""
    from conftest import segmented

    from ecg2d.expert import KIND_COLUMNS
    from ecg2d.rr import RHYTHM_COLUMNS

    probe = load_bench("ds1_af_rhythm_probe")
    probe.register()
    columns, gated = KIND_COLUMNS["gbm_gated_fib"], KIND_COLUMNS["gbm_gated"]
    assert columns[4] == "fibrillation" and gated[4] == "rr_irregularity"
    assert not set(RHYTHM_COLUMNS) & set(columns)
    assert [c for c in columns if c != "fibrillation"] == [
        c for c in gated if c not in ("rr_irregularity", *RHYTHM_COLUMNS)
    ]
    af, sinus = segmented("203", "fixed"), segmented("100", "fixed")
    assert probe.fibrillation(af["pre_rr"], af["upper_rr"]).mean() > 0.9
    assert not probe.fibrillation(sinus["pre_rr"], sinus["upper_rr"]).any()


def test_fibrillation_column_replaces_the_rhythm_columns_only():
    """bench/ds1_af_rhythm_local_probe.py: kind ``gbm_gated_fib_local`` reads ``fibrillation``
    where ``gbm_gated`` reads the two rhythm columns, keeps the local irregularity, and its
    features line up with its columns (one per column, two for ``upper_rr``)."""
    from conftest import segmented

    from ecg2d.expert import KIND_COLUMNS, KIND_FEATURES, expert_features
    from ecg2d.rr import RHYTHM_COLUMNS

    probe = load_bench("ds1_af_rhythm_local_probe")
    probe.register()
    columns, gated = KIND_COLUMNS[probe.KIND], KIND_COLUMNS["gbm_gated"]
    assert "rr_irregularity" in columns and "fibrillation" in columns
    assert not set(RHYTHM_COLUMNS) & set(columns)
    assert columns.index("fibrillation") == gated.index(RHYTHM_COLUMNS[0])
    beats = segmented("203", "fixed")
    beats["fibrillation"] = load_bench("ds1_af_rhythm_probe").fibrillation(
        beats["pre_rr"], beats["upper_rr"]
    )
    x = np.stack([beats[c] for c in columns], axis=1)
    features = expert_features(x, probe.KIND)
    assert features.shape[1] == len(KIND_FEATURES[probe.KIND])
    column = list(KIND_FEATURES[probe.KIND]).index("fibrillation")
    np.testing.assert_array_equal(features[:, column], beats["fibrillation"])


def test_segment_choice_keeps_the_published_segment_unless_clearly_better():
    """bench/af_segment_choice.py's rule: the first (published) segment stays unless another's
    balanced accuracy is higher by more than the margin, and then the highest is taken."""
    probe = load_bench("af_segment_choice")
    margin = probe.MARGIN
    assert probe.choose({128: 0.90, 64: 0.90 + margin / 2, 32: 0.85}) == 128
    assert probe.choose({128: 0.90, 64: 0.90 + 2 * margin, 32: 0.90 + 3 * margin}) == 32
    assert probe.choose({128: 0.95, 64: 0.90}) == 128


def test_irregularity_between_non_premature_beats_tells_bigeminy_from_fibrillation():
    """bench/ds1_between_rhythm_probe.py: over the intervals between non-premature beats a
    strict bigeminy is perfectly regular (its all-intervals irregularity is not), record 203's
    fibrillation stays irregular; kind ``gbm_gated_between`` reads the two ``b_*`` columns in
    the places of the shipped ones."""
    from conftest import segmented

    from ecg2d.expert import KIND_COLUMNS
    from ecg2d.segment import rr_irregularity, upper_rr

    probe = load_bench("ds1_between_rhythm_probe")
    pre = np.tile([0.6, 1.4], 100)
    between = probe.between_rhythm(pre, upper_rr(pre))
    assert np.allclose(between["b_rr_irregularity"], 0.0) and rr_irregularity(pre)[5:].min() > 0.5
    af = segmented("203", "fixed")
    assert np.median(probe.between_rhythm(af["pre_rr"], af["upper_rr"])["b_rr_irregularity"]) > 0.3
    probe.register()
    columns, gated = KIND_COLUMNS[probe.KIND], KIND_COLUMNS["gbm_gated"]
    for shipped, candidate in probe.SWAP.items():
        assert columns[gated.index(shipped)] == candidate and shipped not in columns


def test_runs_stress_form_makes_premature_cycles_the_usual_rhythm(mitdb):
    """bench/ds1_runs_stress.py's form of the stress test on record 100: every S beat kept with
    the beat before it and every fourth with the beat after it, so S beats (named after the
    first half of each merged beat) are about four fifths of the beats, their intervals the
    premature ones the patient had, and the upper quartile of the intervals no longer above
    them; bench/ds1_long_cycle_probe.py's cycle is the normal beats' longer interval there,
    and on the record as recorded the upper quartile, unchanged."""
    from ecg2d.io import beat_mask, read_record
    from ecg2d.segment import segment_record

    stress = load_bench("ds1_stress")
    probe = load_bench("ds1_long_cycle_probe")
    record = read_record(str(mitdb), "100", "MLII", 0, 360.0)
    is_s = lambda symbols: np.isin(symbols, ["A", "a", "J", "S"])  # noqa: E731
    is_n = lambda symbols: np.isin(symbols, ["N", "L", "R", "e", "j"])  # noqa: E731
    blocks = stress.kept_blocks(np.array([0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0], dtype=bool), 2)
    assert blocks == [(0, 4), (6, 9)]  # the 1st and 3rd S keep the beat after, the 2nd not
    stressed, mixed = stress.stressed_record(record, is_s, 4, is_n)
    symbols = stressed.ann_symbol
    assert is_s(symbols).sum() == 33 and 0.7 < is_s(symbols).mean() < 0.85 and not mixed.any()
    beats = segment_record(stressed, "fixed", (250.0, 400.0))
    s = is_s(beats["symbol"])
    original = np.diff(record.ann_sample[beat_mask(record.ann_symbol)])
    assert np.isin(np.diff(stressed.ann_sample), original).all()
    assert np.median(beats["pre_rr"][s]) < 0.7 * np.median(beats["pre_rr"][~s])
    assert np.median(beats["pre_rr"][s] / beats["upper_rr"][s]) > 0.85  # no longer premature
    cycle = probe.cycle(beats["pre_rr"], beats["upper_rr"])
    assert np.median(beats["pre_rr"][s] / cycle[s]) < 0.75
    zl = probe.long_z(beats["pre_rr"], beats["upper_rr"], beats["prev_rr"], beats["qrs_corr"])
    assert np.median(zl["zl_pre_upper"][s]) < -2 < np.median(beats["zg_pre_upper"][s])
    recorded = segment_record(record, "fixed", (250.0, 400.0))
    kept = probe.cycle(recorded["pre_rr"], recorded["upper_rr"])
    np.testing.assert_allclose(kept, recorded["upper_rr"], rtol=1e-6)


def test_regime_experts_pick_by_regime_and_by_s_probability(monkeypatch):
    """bench/ds1_regime_probe.py's regime (round 15's cycle longer than the upper quartile) and
    bench/ds1_regime_either_probe.py's choice: in the regime, the expert giving S more; out of
    it, always the usual one. bench/ds1_robust_probe.py's kind reads ten of the features."""
    import ecg2d.expert as expert

    either = load_bench("ds1_regime_either_probe")
    regime = load_bench("ds1_regime_probe")
    usual = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8]])
    robust = np.array([[0.3, 0.7], [0.3, 0.7], [0.6, 0.4]])
    chosen = either.either(usual, robust, [True, False, True], 1)
    np.testing.assert_allclose(chosen, [[0.3, 0.7], [0.9, 0.1], [0.2, 0.8]])
    steady = np.full(80, 0.8)
    assert not regime.long_regime(steady, steady).any()
    runs = np.tile([0.5, 0.5, 0.5, 0.5, 1.0], 16)  # premature cycles, a pause every fifth beat
    upper = np.quantile(runs, 0.75) * np.ones_like(runs)
    assert regime.long_regime(runs, upper).mean() > 0.9
    # the registration wraps and extends ecg2d.expert: on copies, undone after the test
    monkeypatch.setattr(expert, "expert_features", expert.expert_features)
    for table in ("KIND_COLUMNS", "KIND_FEATURES"):
        monkeypatch.setattr(expert, table, dict(getattr(expert, table)))
    for kinds in ("TREE_KINDS", "EXPERTS"):
        monkeypatch.setattr(expert, kinds, getattr(expert, kinds))
    load_bench("ds1_robust_probe").register()
    assert len(expert.KIND_FEATURES["gbm_robust"]) == 10
    rr = np.ones((3, len(expert.KIND_COLUMNS["gbm_robust"])))
    assert expert.expert_features(rr, "gbm_robust").shape == (3, 10)


def test_p_coherence_is_low_in_fibrillation_and_high_after_sinus_pauses(mitdb):
    """bench/regime_p_coherence.py's coherence of the P waves of the beats ending the longer
    interval group: high through record 100's sinus rhythm and in the runs copy of record 100
    (its normal beats after the pauses share the sinus P wave), low through record 203's
    atrial fibrillation; bench/ds1_coherent_regime_probe.py's column is it per beat, 0 where
    there is none."""
    from ecg2d.io import beat_mask, read_record

    coherence = load_bench("regime_p_coherence")
    probe = load_bench("ds1_coherent_regime_probe")
    stress = load_bench("ds1_stress")
    sinus = read_record(str(mitdb), "100", "MLII", 0, 360.0)
    fibrillation = read_record(str(mitdb), "203", "MLII", 0, 360.0)
    assert np.nanmedian(coherence.p_coherence(sinus)["coherence"]) > 0.8
    assert np.nanmedian(coherence.p_coherence(fibrillation)["coherence"]) < 0.4
    is_s = lambda symbols: np.isin(symbols, ["A", "a", "J", "S"])  # noqa: E731
    is_n = lambda symbols: np.isin(symbols, ["N", "L", "R", "e", "j"])  # noqa: E731
    runs, _ = stress.stressed_record(sinus, is_s, 4, is_n)
    values = coherence.p_coherence(runs)
    assert values["regime"].mean() > 0.5 and np.nanmedian(values["coherence"]) > 0.7
    column = probe.p_coherence(runs)
    assert len(column) == int(beat_mask(runs.ann_symbol).sum()) and not column.isna().any()
