"""The rhythm expert (ecg2d.expert) on real beats, and its fusion with the CNN in Classifier.

The real-data check: fitted on the AAMI beats of DS1 records 209 and 118 (both with many
premature atrial beats), the expert must find the S beats of record 220, a patient it never
saw, while calling its N beats N. Measured: N 99.7 %, S 44.7 % (balanced 0.72); with shuffled
training labels N 52 %, S 2 % (0.27).
"""

import json
from pathlib import Path

import numpy as np
import pytest

from ecg2d.expert import (
    EXPERT_COLUMNS,
    EXPERT_FEATURES,
    expert_features,
    expert_proba,
    fit_expert,
    fuse,
)
from tests.conftest import segmented

AAMI = {"N": "N", "L": "N", "R": "N", "e": "N", "j": "N", "A": "S", "a": "S", "J": "S", "S": "S"}
AAMI |= {"V": "V", "E": "V", "F": "F", "/": "Q", "f": "Q", "Q": "Q"}
CLASSES = ["N", "S", "V", "F", "Q"]


def kind_beats(mitdb, record: str, kind: str = "rr"):
    """The columns an expert ``kind`` reads (KIND_COLUMNS), and the AAMI labels, of a record's
    AAMI beats."""
    from ecg2d.expert import KIND_COLUMNS

    b = segmented(record, "jun2018")
    keep = np.isin(b["symbol"], list(AAMI))
    x = np.stack([b[c] for c in KIND_COLUMNS[kind]], axis=1)[keep]
    return x, np.array([AAMI[s] for s in b["symbol"][keep]])


@pytest.fixture(scope="module")
def training(mitdb):
    parts = [kind_beats(mitdb, r) for r in ("209", "118")]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def balanced_ns(expert, rr, labels) -> float:
    predicted = np.asarray(expert["classes"])[expert_proba(expert, rr).argmax(axis=1)]
    return float(np.mean([(predicted[labels == c] == c).mean() for c in ("N", "S")]))


def test_expert_finds_premature_atrial_beats_of_an_unseen_patient(mitdb, training):
    rr, labels = training
    expert = fit_expert(rr, labels, CLASSES)
    test_rr, test_labels = kind_beats(mitdb, "220")
    assert (test_labels == "S").sum() > 50
    assert balanced_ns(expert, test_rr, test_labels) > 0.65
    shuffled = fit_expert(rr, np.random.default_rng(0).permutation(labels), CLASSES)
    assert balanced_ns(shuffled, test_rr, test_labels) < 0.5


def test_expert_features_are_record_relative(mitdb, training):
    """The same rhythm at another heart rate (or read at another sampling rate) gives the same
    features and probabilities: every feature is a ratio to the record's own RR."""
    rr, labels = training
    slower = rr.copy()
    slower[:, :4] *= 1.7  # the intervals, in seconds; the irregularity is already a ratio
    features = expert_features(rr)
    assert features.shape == (len(rr), len(EXPERT_FEATURES))
    np.testing.assert_allclose(expert_features(slower), features, atol=1e-6)
    expert = fit_expert(rr, labels, CLASSES)
    np.testing.assert_allclose(expert_proba(expert, slower), expert_proba(expert, rr), atol=1e-6)


def test_expert_is_plain_json_and_keeps_every_class(training):
    rr, labels = training
    expert = fit_expert(rr, labels, CLASSES)
    again = json.loads(json.dumps(expert))
    np.testing.assert_array_equal(expert_proba(again, rr[:50]), expert_proba(expert, rr[:50]))
    assert again["classes"] == CLASSES
    proba = expert_proba(expert, rr)
    assert proba.shape == (len(rr), len(CLASSES))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    absent = [c for c in CLASSES if c not in set(labels)]
    assert absent  # records 209 and 118 have no Q beat
    for c in absent:
        assert proba[:, CLASSES.index(c)].max() < 1e-6


def test_binary_expert_matches_scikit_learn(training):
    from sklearn.linear_model import LogisticRegression

    rr, labels = training
    keep = np.isin(labels, ["N", "S"])
    expert = fit_expert(rr[keep], labels[keep], ["N", "S"])
    x = expert_features(rr[keep])
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    reference = LogisticRegression(class_weight="balanced", C=1.0, max_iter=5000)
    reference.fit(x, labels[keep])
    np.testing.assert_allclose(
        expert_proba(expert, rr[keep]), reference.predict_proba(x), atol=1e-6
    )


def test_expert_refuses_bad_input(training):
    rr, labels = training
    with pytest.raises(ValueError, match="not among the classes"):
        fit_expert(rr, labels, ["N", "S"])
    with pytest.raises(ValueError, match="two classes"):
        fit_expert(rr[labels == "N"], labels[labels == "N"], CLASSES)
    bad = rr.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="post_rr 1"):
        expert_features(bad)
    with pytest.raises(ValueError, match="N x 5"):
        expert_features(rr[:, :4])


def test_fuse_weights():
    rng = np.random.default_rng(1)
    cnn = rng.dirichlet(np.ones(5), size=200)
    expert = rng.dirichlet(np.ones(5), size=200)
    for w in (0.0, 0.3, 1.0):
        fused = fuse(cnn, expert, w)
        np.testing.assert_allclose(fused.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(fuse(cnn, expert, 1.0).argmax(1), cnn.argmax(1))
    np.testing.assert_array_equal(fuse(cnn, expert, 0.0).argmax(1), expert.argmax(1))
    half = fuse(cnn, expert, 0.5)
    geometric = np.sqrt(cnn * expert)
    np.testing.assert_array_equal(half.argmax(1), geometric.argmax(1))
    with pytest.raises(ValueError, match="fusion_weight"):
        fuse(cnn, expert, 1.5)


def test_classifier_fuses_its_expert(training):
    """A Classifier whose model.json holds an expert returns the fused probabilities, takes the
    expert's five RR columns, and feeds the CNN only the four it was trained with."""
    from ecg2d.classifier import Classifier
    from ecg2d.model import build_model
    from ecg2d.rr import RR_COLUMNS
    from ecg2d.settings import ModelSettings

    rr, labels = training
    expert = fit_expert(rr, labels, CLASSES)
    model = build_model(
        len(CLASSES), ModelSettings(input_size=16, filters=(2,), dense_units=4, rr_features=True)
    )
    info = {"classes": CLASSES, "input_size": 16, "rr_features": True, "rr_columns": RR_COLUMNS}
    plain = Classifier(model, info)
    fused = Classifier(model, {**info, "expert": expert, "fusion_weight": 0.3})
    assert plain.rr_columns == RR_COLUMNS and fused.rr_columns == EXPERT_COLUMNS
    images = np.random.default_rng(2).integers(0, 256, (40, 24, 24), dtype=np.uint8)
    p_cnn = plain.predict_proba(images, rr[:40, :4])
    p = fused.predict_proba(images, rr[:40])
    np.testing.assert_allclose(p, fuse(p_cnn, expert_proba(expert, rr[:40]), 0.3), atol=1e-6)
    with pytest.raises(ValueError, match="rr_irregularity"):
        fused.predict_proba(images)
    with pytest.raises(ValueError, match="differ"):
        Classifier(model, {**info, "expert": {**expert, "classes": CLASSES[::-1]}})

    # The operating point (model.class_factors) acts on the fused probabilities: S called
    # wherever it is at least half as probable as the most probable class, and nowhere else.
    model_settings = {"model": {"class_factors": {"S": 2.0}}}
    biased = Classifier(model, {**info, "expert": expert, "fusion_weight": 0.3, **model_settings})
    q = biased.predict_proba(images, rr[:40])
    np.testing.assert_allclose(q.sum(axis=1), 1.0, atol=1e-5)
    called_s = q.argmax(1) == CLASSES.index("S")
    np.testing.assert_array_equal(called_s, 2 * p[:, 1] >= p.max(axis=1))
    np.testing.assert_array_equal(q.argmax(1)[~called_s], p.argmax(1)[~called_s])
    with pytest.raises(ValueError, match=r"class_factors: \['X'\]"):
        Classifier(model, {**info, "model": {"class_factors": {"X": 2.0}}})
    with pytest.raises(ValueError, match="above 0"):
        Classifier(model, {**info, "model": {"class_factors": {"S": 0}}})


def test_shape_expert_reads_the_qrs_shape_too(mitdb):
    """Kind rr_shape: RR context plus QRS shape (ecg2d.shape); on record 208, fitted on 119 and
    106 (ventricular beats of other shapes), it finds the V beats better than the RR-only one
    (measured: 99.6 % of 208's V beats against 37.8 %)."""
    from ecg2d.expert import KIND_COLUMNS
    from ecg2d.shape import SHAPE_COLUMNS

    parts = [kind_beats(mitdb, r, "rr_shape") for r in ("119", "106")]
    x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    shape = fit_expert(x, y, CLASSES, kind="rr_shape")
    rr_only = fit_expert(x[:, : -len(SHAPE_COLUMNS)], y, CLASSES, kind="rr")
    assert shape["columns"] == list(KIND_COLUMNS["rr_shape"]) and len(shape["features"]) == 7
    test_x, test_y = kind_beats(mitdb, "208", "rr_shape")
    v = test_y == "V"

    def v_sensitivity(expert, columns):
        p = expert_proba(expert, test_x[:, :columns])
        return float((np.asarray(CLASSES)[p.argmax(1)][v] == "V").mean())

    assert v_sensitivity(shape, test_x.shape[1]) > v_sensitivity(rr_only, -len(SHAPE_COLUMNS))
    with pytest.raises(ValueError, match="N x 8"):
        expert_proba(shape, test_x[:, :5])


@pytest.fixture(scope="module")
def gbm_training(mitdb):
    names = ("203", "209", "118", "220")
    parts = [kind_beats(mitdb, r, "gbm") for r in names]
    records = np.concatenate([[r] * len(p[1]) for r, p in zip(names, parts)])
    x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    return x, y, records


def test_gbm_expert_is_plain_json_and_matches_scikit_learn(gbm_training):
    """Kind gbm: the trees travel as JSON numbers and give scikit-learn's own probabilities;
    classes absent from training get probability 0."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from ecg2d.expert import KIND_COLUMNS, TREE_SETTINGS

    x, y, _ = gbm_training
    expert = json.loads(json.dumps(fit_expert(x, y, CLASSES, seed=3, kind="gbm")))
    assert expert["columns"] == list(KIND_COLUMNS["gbm"]) and "coef" not in expert
    reference = HistGradientBoostingClassifier(
        class_weight="balanced", random_state=3, **TREE_SETTINGS
    ).fit(expert_features(x, "gbm"), y)
    proba = expert_proba(expert, x)
    present = [CLASSES.index(str(c)) for c in reference.classes_]
    np.testing.assert_allclose(
        proba[:, present], reference.predict_proba(expert_features(x, "gbm")), atol=1e-9
    )
    binary = np.isin(y, ["N", "S"])
    two = fit_expert(x[binary], y[binary], ["N", "S", "V"], kind="gbm")
    reference.fit(expert_features(x[binary], "gbm"), y[binary])
    proba = expert_proba(two, x[binary][:300])
    np.testing.assert_allclose(
        proba[:, :2], reference.predict_proba(expert_features(x[binary][:300], "gbm")), atol=1e-9
    )
    assert proba[:, 2].max() == 0.0  # V: absent from the training beats


def test_trees_hold_at_least_min_leaf_beats_per_leaf(gbm_training):
    """model.expert_min_leaf reaches scikit-learn's min_samples_leaf: every leaf of every tree
    is reached by at least that many training beats (counted by routing them through the
    stored trees), the expert records it, and the probabilities are still scikit-learn's."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from ecg2d.expert import TREE_SETTINGS, _tree_values

    x, y, _ = gbm_training
    features = expert_features(x, "gbm")
    for min_leaf in (20, 400):
        expert = fit_expert(x, y, CLASSES, seed=3, kind="gbm", min_leaf=min_leaf)
        assert expert["min_leaf"] == min_leaf
        smallest = np.inf
        for iteration in expert["trees"][:20]:
            for tree in iteration:
                # a distinct value per leaf, to count the beats that reach each one
                marked = {**tree, "value": list(range(len(tree["value"])))}
                counts = np.bincount(_tree_values(marked, features).astype(int))
                smallest = min(smallest, counts[counts > 0].min())
        assert smallest >= min_leaf
        if min_leaf == 20:
            assert smallest < 400  # the default leaves smaller leaves than 400 beats
    reference = HistGradientBoostingClassifier(
        class_weight="balanced", random_state=3, min_samples_leaf=400, **TREE_SETTINGS
    ).fit(features, y)
    present = [CLASSES.index(str(c)) for c in reference.classes_]
    np.testing.assert_allclose(
        expert_proba(expert, x)[:, present], reference.predict_proba(features), atol=1e-9
    )


def test_record_weights_share_each_class_among_its_records(gbm_training):
    """model.expert_weights: every class weighs the same in total in every mode; within a
    class, ``record`` gives each record the same total and ``record_sqrt`` a total in proportion
    to the square root of its beats; the fitted trees and the logistic regression are
    scikit-learn's own fits with those sample weights, and the mode is recorded."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    from ecg2d.expert import TREE_SETTINGS, beat_weights

    x, y, records = gbm_training
    assert beat_weights(y, records, "class") is None
    counts = {(c, r): int(((y == c) & (records == r)).sum()) for c in set(y) for r in set(records)}
    s_counts = {r: counts[("S", r)] for r in set(records) if counts[("S", r)]}
    assert max(s_counts.values()) > 5 * min(s_counts.values())  # unequal records, or no test
    for mode in ("record", "record_sqrt"):
        w = beat_weights(y, records, mode)
        assert np.isclose(w.mean(), 1.0) and (w > 0).all()
        totals = [w[y == c].sum() for c in set(y)]
        np.testing.assert_allclose(totals, totals[0])
        per_record = {r: w[(y == "S") & (records == r)].sum() for r in s_counts}
        expected = {r: 1.0 if mode == "record" else np.sqrt(n) for r, n in s_counts.items()}
        ratio = [per_record[r] / expected[r] for r in s_counts]
        np.testing.assert_allclose(ratio, ratio[0])
    with pytest.raises(ValueError, match="needs each beat's record"):
        beat_weights(y, None, "record")
    with pytest.raises(ValueError, match="expert_weights: unknown 'patient'"):
        beat_weights(y, records, "patient")

    w = beat_weights(y, records, "record_sqrt")
    expert = fit_expert(x, y, CLASSES, seed=3, kind="gbm", records=records, weighting="record_sqrt")
    assert expert["weighting"] == "record_sqrt"
    reference = HistGradientBoostingClassifier(random_state=3, **TREE_SETTINGS)
    reference.fit(expert_features(x, "gbm"), y, sample_weight=w)
    present = [CLASSES.index(str(c)) for c in reference.classes_]
    proba = expert_proba(expert, x)[:, present]
    np.testing.assert_allclose(proba, reference.predict_proba(expert_features(x, "gbm")), atol=1e-9)
    balanced = fit_expert(x, y, CLASSES, seed=3, kind="gbm")
    assert expert["trees"][0] != balanced["trees"][0]  # the weights change the trees
    linear = fit_expert(x[:, :-1], y, CLASSES, kind="rr_shape", records=records, weighting="record")
    assert linear["weighting"] == "record"
    features = expert_features(x[:, :-1], "rr_shape")
    scaled = (features - features.mean(axis=0)) / features.std(axis=0)
    reference = LogisticRegression(C=1.0, max_iter=5000, random_state=0)
    reference.fit(scaled, y, sample_weight=beat_weights(y, records, "record"))
    present = [CLASSES.index(str(c)) for c in reference.classes_]
    np.testing.assert_allclose(
        expert_proba(linear, x[:, :-1])[:, present], reference.predict_proba(scaled), atol=1e-6
    )


def test_gbm_expert_reads_short_rr_by_the_rhythm_around_it(mitdb, gbm_training):
    """Fitted on records 203 (atrial fibrillation), 209, 118 and 220 (atrial ectopy), the trees
    call almost no normal beat of record 201's atrial fibrillation premature, where the logistic
    rr_shape expert on the same beats calls 30 % of them S, and they find the S beats of 223 and
    207 as well as it does (measured: 201 N called S 0.1 % against 30.4 %; S found on 223
    64 % against 62 %, on 207 100 % against 98 %)."""
    x, y, _ = gbm_training
    gbm = fit_expert(x, y, CLASSES, kind="gbm")
    linear = fit_expert(x[:, :-1], y, CLASSES, kind="rr_shape")

    def called_s(expert, record, true):
        test_x, test_y = kind_beats(mitdb, record, "gbm")
        p = expert_proba(expert, test_x if expert["kind"] == "gbm" else test_x[:, :-1])
        return float((np.asarray(CLASSES)[p.argmax(1)][test_y == true] == "S").mean())

    assert called_s(gbm, "201", "N") < 0.25 * called_s(linear, "201", "N")
    for record in ("223", "207"):
        assert called_s(gbm, record, "S") > max(0.6, called_s(linear, record, "S") - 0.05)


def test_gbm_af_expert_reads_how_scattered_the_rhythm_is(mitdb):
    """Kind gbm_af adds rhythm_cells to gbm's features. Fitted on 203 and 201 (atrial
    fibrillation), 118, 220 and 223 (atrial ectopy) and 119 (ventricular bigeminy), it calls
    fewer beats of 106 (ventricular ectopy, no S beat) S than the same trees without it, and
    finds the S beats of 209 (runs of supraventricular tachycardia) and 207 as well (measured:
    106 14 % against 18 %; 209 93 % against 94 %, 207 98 % against 98 %. Before the RR
    intervals and QRS correlation were measured on aligned QRS complexes, it also found more of
    209's and 207's: 95 % against 89 %, 98 % against 90 %.)"""
    records = ("203", "201", "118", "220", "223", "119", "209", "207", "106")
    beats = {r: kind_beats(mitdb, r, "gbm_af") for r in records}
    x = np.concatenate([beats[r][0] for r in records[:6]])
    y = np.concatenate([beats[r][1] for r in records[:6]])
    with_cells = fit_expert(x, y, CLASSES, kind="gbm_af")
    without = fit_expert(x[:, :-1], y, CLASSES, kind="gbm")  # gbm: all columns but rhythm_cells
    assert with_cells["columns"][-1] == "rhythm_cells"
    assert with_cells["features"][-1] == "log_rhythm_cells"

    def called_s(record):
        test_x, test_y = beats[record]
        out = []
        for expert, columns in ((with_cells, test_x), (without, test_x[:, :-1])):
            called = np.asarray(CLASSES)[expert_proba(expert, columns).argmax(1)] == "S"
            out.append(called[test_y == "S"].mean() if (test_y == "S").any() else called.mean())
        return out

    for record in ("209", "207"):
        found_with, found_without = called_s(record)
        assert found_with > found_without - 0.02 and found_with > 0.9
    false_with, false_without = called_s("106")
    assert false_with < false_without - 0.02


def test_gbm_2lead_routes_a_missing_second_lead_as_scikit_learn_does(mitdb):
    """Kind gbm_2lead adds the other lead's QRS shape. Fitted with one record's second lead
    missing (NaN, as for a one-lead recording), the stored trees give scikit-learn's own
    probabilities for beats with and without a second lead; a one-lead record is classified,
    not refused; and its V beats of record 119 are still found from the first lead alone."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from ecg2d.expert import KIND_COLUMNS, TREE_SETTINGS
    from ecg2d.shape import SHAPE2_COLUMNS

    records = ("203", "209", "118", "220", "223", "208")
    beats = {r: kind_beats(mitdb, r, "gbm_2lead") for r in (*records, "119")}
    second = [KIND_COLUMNS["gbm_2lead"].index(c) for c in SHAPE2_COLUMNS]
    x = np.concatenate([beats[r][0] for r in records])
    y = np.concatenate([beats[r][1] for r in records])
    x[: len(beats["203"][0]), second] = np.nan  # 203 as a one-lead record
    expert = json.loads(json.dumps(fit_expert(x, y, CLASSES, seed=5, kind="gbm_2lead")))
    assert expert["columns"][-3:] == list(SHAPE2_COLUMNS)
    reference = HistGradientBoostingClassifier(
        class_weight="balanced", random_state=5, **TREE_SETTINGS
    ).fit(expert_features(x, "gbm_2lead"), y)
    test_x, test_y = beats["119"]
    one_lead = test_x.copy()
    one_lead[:, second] = np.nan
    present = [CLASSES.index(str(c)) for c in reference.classes_]
    for rows in (test_x, one_lead, x[:500]):
        np.testing.assert_allclose(
            expert_proba(expert, rows)[:, present],
            reference.predict_proba(expert_features(rows, "gbm_2lead")),
            atol=1e-9,
        )
    called = np.asarray(CLASSES)[expert_proba(expert, one_lead).argmax(1)]
    assert (called[test_y == "V"] == "V").mean() > 0.9
    # only the second lead's columns may be missing
    broken = test_x.copy()
    broken[0, 0] = np.nan
    with pytest.raises(ValueError, match="pre_rr"):
        expert_proba(expert, broken)


def test_gbm_premature_features_are_hand_computed_and_free_of_rate():
    """Kind gbm_premature adds log(pre / prev_rr), log(pre / upper_rr) and log(post / upper_rr)
    to gbm_2lead's features, in that order; every interval scaled alike (another heart rate)
    leaves all features as they were."""
    from ecg2d.expert import KIND_COLUMNS, KIND_FEATURES

    columns = KIND_COLUMNS["gbm_premature"]
    assert columns[-2:] == ("prev_rr", "upper_rr")
    assert KIND_FEATURES["gbm_premature"][-3:] == (
        "log_pre_over_prev",
        "log_pre_over_upper",
        "log_post_over_upper",
    )
    row = dict.fromkeys(columns, 0.5)
    row |= {"pre_rr": 0.6, "post_rr": 1.5, "local_rr": 0.7, "record_rr": 0.75}
    row |= {"rr_irregularity": 0.1, "prev_rr": 1.2, "upper_rr": 1.0, "qrs_corr_2": np.nan}
    x = np.array([[row[c] for c in columns]])
    features = expert_features(x, "gbm_premature")
    assert features.shape == (1, len(KIND_FEATURES["gbm_premature"]))
    np.testing.assert_allclose(features[0, -3:], np.log([0.5, 0.6, 1.5]))
    np.testing.assert_allclose(features[0, :2], np.log([0.8, 2.0]))  # over the record's mean
    intervals = [columns.index(c) for c in ("pre_rr", "post_rr", "local_rr", "record_rr")]
    intervals += [columns.index("prev_rr"), columns.index("upper_rr")]
    slower = x.copy()
    slower[:, intervals] *= 1.7
    np.testing.assert_allclose(expert_features(slower, "gbm_premature"), features)


def test_gbm_gated_reads_the_gated_scores_in_place_of_the_all_beats_ones():
    """Kind gbm_gated is gbm_psinus with ``ecg2d.rr.GATED_COLUMNS`` where gbm_psinus has
    ``UNUSUAL_COLUMNS``, same places, same features otherwise; a tree kind; a choice of the
    schema's ``model.expert``."""
    import yaml

    from ecg2d.expert import EXPERTS, KIND_COLUMNS, KIND_FEATURES, TREE_KINDS
    from ecg2d.rr import GATED_COLUMNS, UNUSUAL_COLUMNS

    psinus, gated = KIND_COLUMNS["gbm_psinus"], KIND_COLUMNS["gbm_gated"]
    assert len(gated) == len(psinus) and not set(UNUSUAL_COLUMNS) & set(gated)
    places = [psinus.index(c) for c in UNUSUAL_COLUMNS]
    assert [gated[i] for i in places] == list(GATED_COLUMNS)
    assert [c for c in gated if c not in GATED_COLUMNS] == [
        c for c in psinus if c not in UNUSUAL_COLUMNS
    ]
    assert KIND_FEATURES["gbm_gated"][-4:-1] == GATED_COLUMNS
    assert "gbm_gated" in TREE_KINDS and "gbm_gated" in EXPERTS
    schema = yaml.safe_load((Path(__file__).parents[1] / "config" / "schema.yaml").read_text())

    def expert_enums(node):
        if isinstance(node, dict):
            if isinstance(node.get("expert"), dict) and "enum" in node["expert"]:
                yield node["expert"]["enum"]
            for value in node.values():
                yield from expert_enums(value)
        elif isinstance(node, list):
            for value in node:
                yield from expert_enums(value)

    enums = list(expert_enums(schema))
    assert enums and all("gbm_gated" in enum and set(enum) <= set(EXPERTS) for enum in enums)


def test_gbm_premature_calls_fewer_normal_beats_premature(mitdb):
    """Fitted on 203 and 201 (atrial fibrillation), 118, 220 and 223 (atrial ectopy), 119
    (ventricular bigeminy) and 209 (runs of supraventricular tachycardia), kind gbm_premature
    calls fewer of the other beats of 106, 114 and 208 (frequent ventricular ectopy) S than the
    same trees without the prematurity features (gbm_2lead), and still finds the S beats of 207
    (measured: 166 false S against 223; 207: 106 of 106 found by both)."""
    from ecg2d.expert import KIND_COLUMNS

    assert KIND_COLUMNS["gbm_premature"][:-2] == KIND_COLUMNS["gbm_2lead"]
    train, test = ("203", "201", "118", "220", "223", "119", "209"), ("106", "114", "208", "207")
    beats = {r: kind_beats(mitdb, r, "gbm_premature") for r in (*train, *test)}
    x = np.concatenate([beats[r][0] for r in train])
    y = np.concatenate([beats[r][1] for r in train])
    with_premature = fit_expert(x, y, CLASSES, kind="gbm_premature")
    without = fit_expert(x[:, :-2], y, CLASSES, kind="gbm_2lead")

    def called_s(expert, record):
        test_x, test_y = beats[record]
        columns = test_x if expert is with_premature else test_x[:, :-2]
        called = np.asarray(CLASSES)[expert_proba(expert, columns).argmax(1)] == "S"
        return int(called[test_y != "S"].sum()), int(called[test_y == "S"].sum())

    false_with = sum(called_s(with_premature, r)[0] for r in test[:3])
    false_without = sum(called_s(without, r)[0] for r in test[:3])
    assert false_with < 0.85 * false_without
    assert called_s(with_premature, "207")[1] >= 100 and (beats["207"][1] == "S").sum() >= 100
