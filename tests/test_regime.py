"""Where premature beats set the cycle (ecg2d.regime) and the expert built on it (gbm_regime), on
real records: 100 (sinus rhythm, a few atrial premature beats), its copy remade as runs of its
own premature cycles broken by a normal beat after a pause (bench/ds1_stress.py's runs form),
203 (atrial fibrillation) and the AAMI beats of 118, 209 and 220."""

import json

import numpy as np
import pytest

from ecg2d.io import read_record
from ecg2d.regime import (
    MIN_COHERENCE,
    coherent_regime,
    dominant_cycle,
    long_mode,
    p_coherence,
)
from ecg2d.segment import RHYTHM_BEATS, segment_record
from tests.conftest import load_bench, segmented
from tests.test_expert import CLASSES, kind_beats

IS_S = ["A", "a", "J", "S"]


def test_long_mode_is_the_pauses_cycle_only_where_intervals_fall_in_two_groups():
    """Runs of four 0.5 s cycles, each ended by a 1.0 s pause: the longer group (a fifth of the
    intervals) is the cycle everywhere the window is full; a steady rhythm with jitter, and two
    groups closer than 1.25 times, have none; seconds in, seconds out."""
    runs = np.tile([0.5, 0.5, 0.5, 0.5, 1.0], 30)
    mode = long_mode(runs, RHYTHM_BEATS)
    np.testing.assert_allclose(mode, 1.0)
    upper = np.full_like(runs, np.quantile(runs, 0.75))
    np.testing.assert_allclose(dominant_cycle(runs, upper, RHYTHM_BEATS), 1.0)
    jitter = 0.8 + 0.02 * np.random.default_rng(0).standard_normal(150)
    assert np.isnan(long_mode(jitter, RHYTHM_BEATS)).all()
    close = np.tile([0.8, 0.8, 0.8, 0.95], 40)  # 1.19 times apart
    assert np.isnan(long_mode(close, RHYTHM_BEATS)).all()
    np.testing.assert_allclose(dominant_cycle(close, np.full(160, 0.9), RHYTHM_BEATS), 0.9)
    empty = np.zeros(0)  # a record without beats: empty columns, no error
    assert long_mode(empty, RHYTHM_BEATS).shape == (0,)
    assert p_coherence(empty, np.zeros(0, dtype=bool)).shape == (0,)
    # two reference beats in every window: too few for a coherence, 0 or the missing value
    likeness, reference = np.full(100, 0.9), np.arange(100) % 50 == 0
    assert not p_coherence(likeness, reference).any()
    assert np.isnan(p_coherence(likeness, reference, missing=np.nan)).all()
    np.testing.assert_allclose(p_coherence(likeness, np.arange(100) % 5 == 0), 0.9, rtol=1e-6)


def test_regime_columns_change_nothing_in_sinus_rhythm_and_find_the_sinus_cycle_in_runs(mitdb):
    """Record 100 as recorded: no beat in the regime, and the scores against the dominant cycle
    are the gated ones and the P wave against the sinus beats, value for value. Its runs copy:
    most S beats in the regime, early against the pauses' cycle (zl_pre_upper) where the
    upper quartile calls them usual (zg_pre_upper), and the beats after the pauses share the
    sinus P wave (coherent regime)."""
    recorded = segmented("100", "fixed")
    assert not recorded["long_regime"].any()
    for long, gated in (("zl_pre_upper", "zg_pre_upper"), ("zl_pre_prev", "zg_pre_prev")):
        np.testing.assert_array_equal(recorded[long], recorded[gated])
    np.testing.assert_array_equal(recorded["zl_qrs_corr"], recorded["zg_qrs_corr"])
    np.testing.assert_array_equal(recorded["z_p_long"], recorded["z_p_sinus"])
    assert np.median(recorded["p_coherence"]) > 0.8

    stress = load_bench("ds1_stress")
    record = read_record(str(mitdb), "100", "MLII", 0, 360.0)
    runs, _ = stress.stressed_record(
        record,
        lambda symbols: np.isin(symbols, IS_S),
        4,
        lambda symbols: np.isin(symbols, ["N", "L", "R", "e", "j"]),
    )
    beats = segment_record(runs, "fixed", (250.0, 400.0))
    s = np.isin(beats["symbol"], IS_S)
    assert s.sum() == 33
    assert beats["long_regime"][s].mean() > 0.8
    assert np.median(beats["zl_pre_upper"][s]) < -2 < np.median(beats["zg_pre_upper"][s])
    assert coherent_regime(beats["long_regime"], beats["p_coherence"])[s].mean() > 0.8


def test_p_coherence_is_low_through_atrial_fibrillation():
    """Record 203: no sinus P wave for the beats ending the longer intervals to share."""
    beats = segmented("203", "fixed")
    assert np.median(beats["p_coherence"]) < 0.4 < MIN_COHERENCE


@pytest.fixture(scope="module")
def regime_training(mitdb):
    parts = [kind_beats(mitdb, r, "gbm_regime") for r in ("118", "209", "220")]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def test_gbm_regime_is_gbm_gated_outside_the_regime_and_the_likelier_s_inside(regime_training):
    """Fitted on the AAMI beats of 118, 209 and 220: outside the coherent regime its
    probabilities are those of gbm_gated fitted alone on the same beats, to the bit; inside,
    those of whichever of gbm_long and gbm_long_robust gives S more. Plain JSON; a composite
    has no features of its own, and classes without S are refused by name."""
    from ecg2d.expert import (
        COMPOSITE_KINDS,
        KIND_COLUMNS,
        expert_features,
        expert_proba,
        fit_expert,
    )

    rr, labels = regime_training
    expert = json.loads(json.dumps(fit_expert(rr, labels, CLASSES, kind="gbm_regime")))
    columns = KIND_COLUMNS["gbm_regime"]
    parts = {
        part: fit_expert(
            rr[:, [columns.index(c) for c in KIND_COLUMNS[part]]], labels, CLASSES, 0, part
        )
        for part in COMPOSITE_KINDS["gbm_regime"]
    }
    assert expert["experts"]["gbm_gated"] == json.loads(json.dumps(parts["gbm_gated"]))
    # half the beats put in the coherent regime, half out of it
    x = rr.copy()
    inside = np.arange(len(x)) % 2 == 0
    x[:, columns.index("long_regime")] = inside
    x[:, columns.index("p_coherence")] = np.where(inside, 0.9, 0.2)
    p = expert_proba(expert, x)
    own = {
        part: expert_proba(parts[part], x[:, [columns.index(c) for c in KIND_COLUMNS[part]]])
        for part in parts
    }
    np.testing.assert_array_equal(p[~inside], own["gbm_gated"][~inside])
    s = CLASSES.index("S")
    robust_more = own["gbm_long_robust"][:, s] > own["gbm_long"][:, s]
    want = np.where(robust_more[:, None], own["gbm_long_robust"], own["gbm_long"])
    np.testing.assert_array_equal(p[inside], want[inside])
    assert 0 < robust_more[inside].sum() < inside.sum()  # both experts chosen somewhere
    with pytest.raises(ValueError, match="no features"):
        expert_features(rr, "gbm_regime")
    with pytest.raises(ValueError, match="class S"):
        fit_expert(
            rr, np.where(labels == "S", "A", labels), ["N", "A", "V", "F", "Q"], 0, "gbm_regime"
        )
