"""bench/rate_invariance.py: the copies it writes and how it pairs and compares their beats."""

import numpy as np
import pandas as pd
import pytest
import wfdb
from conftest import REPO, load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("rate_invariance")


def test_copy_is_the_record_at_another_rate_with_leads_renamed_and_wander_added(
    bench, mitdb, tmp_path
):
    """A copy at 360 Hz with --wander is the record plus WANDER on each lead, to the 5 uV of its
    16-bit samples, with MLII named II and the same annotations; a copy at 128 Hz keeps every
    annotation, moved to the new rate's samples."""
    original = wfdb.rdrecord(str(mitdb / "100"))
    ann = wfdb.rdann(str(mitdb / "100"), "atr")
    bench.write_copy(str(mitdb), "100", 360, bench.RENAME, tmp_path, wander=True)
    copy = wfdb.rdrecord(str(tmp_path / "100"))
    assert copy.sig_name == ["II", "V5"] and copy.fs == 360
    wave = bench.baseline_wander(len(original.p_signal), 360.0)
    assert np.abs(wave).max() > 0.5  # the wander is there to be removed
    error = copy.p_signal - original.p_signal - wave[:, None]
    assert np.abs(error).max() <= 0.0026  # half a 16-bit step at gain 200
    slow = tmp_path / "slow"
    slow.mkdir()
    bench.write_copy(str(mitdb), "100", 128, bench.RENAME, slow)
    header = wfdb.rdheader(str(slow / "100"))
    assert header.fs == 128 and abs(header.sig_len - 650_000 * 128 / 360) <= 1
    moved = wfdb.rdann(str(slow / "100"), "atr")
    assert moved.symbol == ann.symbol
    expected = np.round(np.asarray(ann.sample) * 128 / 360)
    np.testing.assert_array_equal(moved.sample, np.clip(expected, 0, header.sig_len - 1))


def test_beats_are_paired_one_to_one_within_20_ms(bench):
    t0 = np.array([1.0, 2.0, 3.0, 4.0])
    t1 = np.array([1.005, 2.03, 2.995, 3.01, 4.019])
    i, j = bench.pair_times(t0, t1)
    assert sorted(zip(i.tolist(), j.tolist())) == [(0, 0), (2, 2), (3, 4)]


def test_agreement_counts_the_beats_whose_class_changed(bench):
    classes = ["N", "S"]
    original = pd.DataFrame({"label": ["N", "N", "S", "S"], "p_N": [0.9, 0.8, 0.2, 0.4],
                             "p_S": [0.1, 0.2, 0.8, 0.6]})  # fmt: skip
    copy = pd.DataFrame({"label": ["N", "S", "S", "N"], "p_N": [0.9, 0.4, 0.1, 0.6],
                         "p_S": [0.1, 0.6, 0.9, 0.4]})  # fmt: skip
    index = np.arange(4)
    out = bench.agreement(original, copy, (index, index), classes)
    assert out["agree"] == 50.0 and out["paired"] == 4
    assert out["flips"] == {"N->S": 1, "S->N": 1}
    assert out["per_class"] == {"N": {"n": 2, "agree": 50.0}, "S": {"n": 2, "agree": 50.0}}
    assert out["max_abs_dp"] == 0.4


def test_noise_is_white_noise_and_mains_hum_the_same_every_run(bench):
    """--noise adds NOISE: white noise seeded by the record's name (so a copy repeats) plus a
    50 Hz hum on every lead, 0.046 mV rms in all."""
    a = bench.added_noise((36_000, 2), 360.0, "100")
    np.testing.assert_array_equal(a, bench.added_noise((36_000, 2), 360.0, "100"))
    assert not np.array_equal(a, bench.added_noise((36_000, 2), 360.0, "101"))
    rms, hum, hz = bench.NOISE
    assert abs(np.sqrt(np.mean(a**2)) - np.sqrt(rms**2 + hum**2 / 2)) < 0.002
    spectrum = np.abs(np.fft.rfft(a[:, 0]))
    assert np.argmax(spectrum) == round(hz * 36_000 / 360.0)  # the hum stands out


def test_model_mode_hands_predict_every_setting_it_reads(bench):
    """The model mode's dataset settings hold every key of a predict dataset that
    ``predict_record`` reads (its path, records, model and extension come from elsewhere), with
    the config's lead choice: the mode broke once when predict gained ``lead2``."""
    import yaml

    from ecg2d.predict import DATASET_KEYS

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    settings = bench.dataset_settings(config, "inter_patient")
    assert set(DATASET_KEYS) - {"path", "records", "model", "extension"} <= set(settings)
    assert settings["lead2"] == config["lead2"] and settings["lead"] == config["lead"]
