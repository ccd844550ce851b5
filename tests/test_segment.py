"""Beat windows cut around the reference annotations, checked against wfdb.rdann."""

from collections import Counter

import numpy as np
import pytest
import wfdb

from ecg2d.io import read_record
from ecg2d.segment import BEAT_SYMBOLS, beat_windows, rr_features, segment_record

# 207 has flutter waves (!), VEB (E) and many non-beat marks; 232 has long pauses; 102 has
# no MLII and falls back to channel 0.
RECORDS = ["100", "207", "232", "102"]


def _reference_beats(mitdb, record):
    ann = wfdb.rdann(str(mitdb / record), "atr")
    keep = [i for i, s in enumerate(ann.symbol) if s in BEAT_SYMBOLS]
    return np.asarray(ann.sample)[keep], [ann.symbol[i] for i in keep], ann.symbol


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("mode", ["jun2018", "midpoint"])
def test_counts_match_rdann_minus_first_and_last(mitdb, record, mode):
    samples, symbols, _ = _reference_beats(mitdb, record)
    beats = segment_record(read_record(mitdb, record), mode)
    # These modes need both neighbours: exactly the first and last beat annotations are lost.
    assert Counter(beats["symbol"].tolist()) == Counter(symbols[1:-1])
    np.testing.assert_array_equal(beats["sample"], samples[1:-1])
    assert np.all(beats["start"] < beats["sample"]) and np.all(beats["sample"] < beats["end"])


def test_non_beat_annotations_never_become_beats(mitdb):
    _, _, all_symbols = _reference_beats(mitdb, "207")
    non_beats = set(all_symbols) - BEAT_SYMBOLS
    assert {"+", "~"} <= non_beats  # 207 really has rhythm and noise marks
    beats = segment_record(read_record(mitdb, "207"), "midpoint")
    assert not set(beats["symbol"].tolist()) & non_beats
    assert "!" in set(beats["symbol"].tolist())  # flutter waves are kept as a class


def test_jun2018_windows_span_neighbour_r_peaks_with_20_sample_margins(mitdb):
    beats = segment_record(read_record(mitdb, "100"), "jun2018")
    samples, _, _ = _reference_beats(mitdb, "100")
    np.testing.assert_array_equal(beats["start"], samples[:-2] + 20)
    np.testing.assert_array_equal(beats["end"], samples[2:] - 20 + 1)


def test_fixed_windows_drop_only_beats_running_off_the_signal(mitdb):
    record = read_record(mitdb, "100")
    samples, symbols, _ = _reference_beats(mitdb, "100")
    beats = segment_record(record, "fixed", (250, 400))
    before, after = round(0.25 * 360), round(0.4 * 360)
    fits = (samples - before >= 0) & (samples + after + 1 <= len(record.signal))
    assert Counter(beats["symbol"].tolist()) == Counter(np.asarray(symbols)[fits].tolist())
    assert set(beats["end"] - beats["start"]) == {before + after + 1}


def test_resampling_keeps_beats_aligned(mitdb):
    native = read_record(mitdb, "100")
    resampled = read_record(mitdb, "100", fs=250)
    assert resampled.fs == 250
    assert abs(len(resampled.signal) - len(native.signal) * 250 / 360) <= 1
    np.testing.assert_allclose(resampled.ann_sample, native.ann_sample * 250 / 360, atol=0.5)
    # The R peak is still the local maximum of lead MLII after resampling.
    r = resampled.ann_sample[resampled.ann_symbol == "N"][:50]
    peaks = [r0 - 5 + np.argmax(resampled.signal[r0 - 5 : r0 + 6]) for r0 in r]
    assert np.median(np.abs(np.asarray(peaks) - r)) <= 2


def test_rr_features():
    rr = rr_features(np.array([0, 360, 720, 1260]), fs=360)
    np.testing.assert_allclose(rr["pre_rr"], [1.0, 1.0, 1.0, 1.5])
    np.testing.assert_allclose(rr["post_rr"], [1.0, 1.0, 1.5, 1.5])
    np.testing.assert_allclose(rr["local_rr"], [1.0, 1.0, 1.0, 1.125])
    np.testing.assert_allclose(rr["record_rr"], 3.5 / 3)


def test_beat_windows_rejects_unknown_mode():
    with pytest.raises(ValueError, match="unknown window mode 'wide'"):
        beat_windows(np.array([10, 20, 30]), 100, 360, "wide")
