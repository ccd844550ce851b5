"""Record-relative QRS shape (ecg2d.shape) on real beats.

Record 119 (ventricular bigeminy): measured medians, N beats corr 0.997, log width 0.0; V beats
corr 0.66, log width 1.10 (three times as wide). Record 208: N 0.986 / -0.10, V 0.58 / 1.24.
"""

import numpy as np
import pytest

from ecg2d.io import read_record, resample
from ecg2d.segment import segment_record
from ecg2d.shape import SHAPE_COLUMNS, shape_features


@pytest.fixture(scope="module")
def beats119(mitdb):
    return segment_record(read_record(mitdb, "119"), "jun2018")


def test_ventricular_beats_depart_from_the_records_usual_beat(beats119):
    n, v = beats119["symbol"] == "N", beats119["symbol"] == "V"
    assert n.sum() > 1000 and v.sum() > 300
    corr, width = beats119["qrs_corr"], beats119["qrs_width"]
    assert np.median(corr[n]) > 0.95 and np.median(corr[v]) < 0.85
    assert abs(np.median(width[n])) < 0.2 and np.median(width[v]) > 0.6
    # most V beats are further from the usual beat than most N beats
    assert np.mean(corr[v] < np.quantile(corr[n], 0.05)) > 0.8


def test_shape_is_the_same_at_another_gain_and_sampling_rate(mitdb, beats119):
    record = read_record(mitdb, "119")
    peaks = beats119["sample"]
    base = shape_features(record.signal, record.fs, peaks)
    louder = shape_features(record.signal * 4.0 + 1.5, record.fs, peaks)
    for key in SHAPE_COLUMNS:
        np.testing.assert_allclose(louder[key], base[key], atol=1e-4)
    signal, samples = resample(record.signal, peaks, record.fs, 250.0, "119")
    slower = shape_features(signal, 250.0, samples)
    v = beats119["symbol"] == "V"
    for key in SHAPE_COLUMNS:  # not sample for sample: the medians by class agree
        for mask in (v, ~v):
            assert abs(np.median(slower[key][mask]) - np.median(base[key][mask])) < 0.1, key


def test_shape_of_no_beat_and_of_a_flat_signal():
    empty = shape_features(np.zeros(1000), 360.0, [])
    assert all(len(empty[k]) == 0 for k in SHAPE_COLUMNS)
    flat = shape_features(np.zeros(5000), 360.0, [500, 1000, 1500])
    for key in SHAPE_COLUMNS:
        assert np.isfinite(flat[key]).all()
