"""Beat windows cut around the reference annotations, checked against wfdb.rdann."""

import dataclasses
from collections import Counter

import numpy as np
import pytest
import wfdb

from ecg2d.io import BEAT_SYMBOLS, RecordError, read_record
from ecg2d.segment import (
    BEATS_KEYS,
    beat_windows,
    load_beats,
    rr_features,
    rr_irregularity,
    save_beats,
    segment_record,
)
from tests.conftest import segmented

# 207 has flutter waves (!), VEB (E) and many non-beat marks; 232 has long pauses; 102 has
# no MLII and falls back to channel 0.
RECORDS = ["100", "207", "232", "102"]


def first_samples(record, n: int):
    """The first ``n`` samples of a record (both leads) with their annotations."""
    return dataclasses.replace(
        record,
        signal=record.signal[:n],
        signal2=record.signal2[:n],
        ann_sample=record.ann_sample[record.ann_sample < n],
        ann_symbol=record.ann_symbol[record.ann_sample < n],
    )


def _reference_beats(mitdb, record):
    ann = wfdb.rdann(str(mitdb / record), "atr")
    keep = [i for i, s in enumerate(ann.symbol) if s in BEAT_SYMBOLS]
    return np.asarray(ann.sample)[keep], [ann.symbol[i] for i in keep], ann.symbol


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("mode", ["jun2018", "midpoint"])
def test_counts_match_rdann_minus_first_and_last(mitdb, record, mode):
    samples, symbols, _ = _reference_beats(mitdb, record)
    beats = segmented(record, mode)
    # These modes need both neighbours: exactly the first and last beat annotations are lost.
    assert Counter(beats["symbol"].tolist()) == Counter(symbols[1:-1])
    np.testing.assert_array_equal(beats["sample"], samples[1:-1])
    assert np.all(beats["start"] < beats["sample"]) and np.all(beats["sample"] < beats["end"])


def test_non_beat_annotations_never_become_beats(mitdb):
    _, _, all_symbols = _reference_beats(mitdb, "207")
    non_beats = set(all_symbols) - BEAT_SYMBOLS
    assert {"+", "~"} <= non_beats  # 207 really has rhythm and noise marks
    beats = segmented("207", "midpoint")
    assert not set(beats["symbol"].tolist()) & non_beats
    assert "!" in set(beats["symbol"].tolist())  # flutter waves are kept as a class


def test_jun2018_windows_span_neighbour_r_peaks_with_20_sample_margins(mitdb):
    beats = segmented("100", "jun2018")
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
    np.testing.assert_allclose(rr["rr_irregularity"], 0)  # one long interval: still regular
    np.testing.assert_allclose(rr["prev_rr"], [1.0, 1.0, 1.0, 1.0])  # the first beat: its own
    np.testing.assert_allclose(rr["upper_rr"], 1.125)  # quartile of 1, 1, 1, 1.5 (all in reach)


def test_upper_rr_stays_at_the_dominant_cycle_when_ectopy_is_frequent():
    """upper_rr: the upper quartile of RR over the 61 beats centred on a beat. With isolated
    premature beats it is the sinus cycle; in a stretch where premature beats (0.6 s) outnumber
    sinus cycles (1.2 s) two to one, the record's mean and median sink towards the premature
    interval, while the upper quartile stays at the sinus cycle, so premature beats still look
    early against it."""
    from ecg2d.segment import upper_rr

    sinus = np.full(200, 1.0)
    sinus[100] = 0.6  # one premature beat ...
    sinus[101] = 1.4  # ... and its compensatory pause
    np.testing.assert_allclose(upper_rr(sinus), 1.0)
    frequent = np.tile([1.2, 0.6, 0.6], 100)  # two premature beats to every sinus beat
    upper = upper_rr(frequent)
    assert np.median(frequent) == 0.6 and frequent.mean() < 0.81
    np.testing.assert_allclose(upper[30:-30], 1.2)
    # centred, fewer beats at the ends: a window of 3 over 1, 2, 4, 8 -> [1, 2], [1, 2, 4], ...
    np.testing.assert_allclose(upper_rr(np.array([1.0, 2, 4, 8]), beats=3), [1.75, 3, 6, 7])
    assert upper_rr(np.zeros(0)).shape == (0,)


def test_rr_irregularity_tells_fibrillation_from_ectopy():
    # Sinus rhythm at 1 s with one premature beat (0.6 s) and its compensatory pause (1.4 s):
    # the median successive difference stays 0, so the irregularity stays 0 throughout.
    ectopy = np.array([1.0] * 8 + [0.6, 1.4] + [1.0] * 5)
    assert np.all(rr_irregularity(ectopy, beats=10) == 0)
    # Alternating 0.8 / 1.2 s intervals (irregular beat to beat): every successive difference
    # is 0.4 s; the median interval is 1.0 s, except for the window 0.8, 1.2, 0.8 (0.8 s).
    irregular = np.array([0.8, 1.2, 0.8, 1.2, 0.8, 1.2])
    np.testing.assert_allclose(rr_irregularity(irregular, beats=4), [0, 0.4, 0.5, 0.4, 0.4, 0.4])
    # Hand-computed window of 3: intervals 1.0, 0.7, 1.3 -> differences 0.3, 0.6 -> median
    # 0.45; median interval 1.0.
    np.testing.assert_allclose(rr_irregularity(np.array([1.0, 0.7, 1.3]), beats=3)[2], 0.45)
    # From R peaks (samples at 360 Hz) through rr_features: pre_rr 1, 1, 0.5, 1.5, 1; the
    # differences so far are 0 | 0, 0.5 | 0, 0.5, 1 | 0, 0.5, 1, 0.5; median interval 1.
    rr = rr_features(np.array([0, 360, 540, 1080, 1440]), fs=360)
    assert rr["rr_irregularity"].dtype == np.float32
    np.testing.assert_allclose(rr["rr_irregularity"], [0, 0, 0.25, 0.5, 0.5], atol=1e-6)


def test_beat_windows_rejects_unknown_mode():
    with pytest.raises(ValueError, match="unknown window mode 'wide'"):
        beat_windows(np.array([10, 20, 30]), 100, 360, "wide")


def test_rr_irregularity_refuses_intervals_that_are_not_positive():
    with pytest.raises(ValueError, match=r"pre_rr: 2 of 5 RR intervals are not positive "):
        rr_irregularity(np.array([1.0, 0.0, 1.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match=r"1 of 3 .*first at beat 2"):
        rr_irregularity(np.array([1.0, 0.9, -0.1]))


def test_duplicate_beat_annotations_are_an_error_naming_the_record(mitdb):
    record = read_record(mitdb, "100")
    beats = np.flatnonzero(np.isin(record.ann_symbol, list(BEAT_SYMBOLS)))
    twice = beats[[50, 60]]
    doubled = dataclasses.replace(
        record,
        ann_sample=np.insert(record.ann_sample, twice, record.ann_sample[twice]),
        ann_symbol=np.insert(record.ann_symbol, twice, "N"),
    )
    first = record.ann_sample[twice[0]]
    with pytest.raises(RecordError, match=rf"record 100: 2 beats .*\(first at sample {first}\)"):
        segment_record(doubled)
    # A non-beat mark (rhythm change) at a beat's sample is no duplicate beat.
    marked = dataclasses.replace(
        record,
        ann_sample=np.insert(record.ann_sample, twice, record.ann_sample[twice]),
        ann_symbol=np.insert(record.ann_symbol, twice, "+"),
    )
    np.testing.assert_array_equal(
        segment_record(marked)["sample"], segment_record(record)["sample"]
    )


@pytest.mark.parametrize("record", ["100", "102"])
def test_beats_file_records_the_lead_read(mitdb, tmp_path, record):
    """102 has no MLII: its beats file names the lead read instead, as a plain string array."""
    names = wfdb.rdheader(str(mitdb / record)).sig_name
    expected = "MLII" if "MLII" in names else names[0]
    save_beats(segmented(record), tmp_path / "beats.npz")
    beats = load_beats(tmp_path / "beats.npz")  # allow_pickle=False
    assert beats["lead"].dtype.kind == "U" and beats["lead"].shape == ()
    assert str(beats["lead"]) == expected
    assert (record == "102") == (expected != "MLII")
    for key in ("pre_rr", "post_rr", "local_rr", "record_rr", "rr_irregularity"):
        assert np.isfinite(beats[key]).all() and (beats[key] >= 0).all(), key


def test_beats_file_of_an_older_version_is_named(mitdb, tmp_path):
    """A beats file without the QRS shape arrays (made before ecg2d.shape) is refused with one
    error naming the file, the arrays and how to rebuild."""
    beats = segmented("100")
    assert {"qrs_corr", "qrs_amp", "qrs_width"} <= set(beats)
    old = {k: v for k, v in beats.items() if not k.startswith("qrs_")}
    save_beats(old, tmp_path / "old.npz")
    with pytest.raises(ValueError, match=r"old\.npz: not a beats file.*qrs_amp.*forcerun beats"):
        load_beats(tmp_path / "old.npz")


def test_rhythm_irregularity_is_high_in_atrial_fibrillation_only(mitdb):
    """rhythm_irregularity: the median local irregularity over 61 beats. An isolated premature
    beat in a regular rhythm leaves it at 0 (the local measure, a median too, barely moves); a
    minute of irregular intervals raises it; on real records, record 203 (atrial fibrillation
    and flutter) scores many times record 100 (sinus rhythm)."""
    from ecg2d.segment import RHYTHM_BEATS, rhythm_irregularity

    pre = np.full(400, 0.8)
    pre[100] = 0.5  # one premature beat and its compensatory pause
    pre[101] = 1.1
    rng = np.random.default_rng(0)
    pre[250:400] = rng.uniform(0.4, 1.2, 150)  # atrial fibrillation from beat 250
    local = rr_irregularity(pre)
    rhythm = rhythm_irregularity(local)
    assert rhythm[:200].max() == 0.0  # the premature beat (100) leaves the rhythm regular
    assert rhythm[290:].min() > 0.2  # windows wholly inside the fibrillation
    assert len(rhythm) == len(pre) and RHYTHM_BEATS == 61
    assert rhythm_irregularity(np.zeros(0)).shape == (0,)

    medians = {}
    for name in ("100", "203"):  # sinus rhythm; atrial fibrillation and flutter throughout
        beats = segmented(name, "jun2018")
        assert "rhythm_irregularity" in beats
        medians[name] = float(np.median(beats["rhythm_irregularity"]))
    assert medians["203"] > 5 * medians["100"]  # measured: 0.29 against 0.02


def test_rhythm_cells_tells_fibrillation_from_frequent_ectopy(mitdb):
    """rhythm_cells: the share of distinct 25 ms cells the 61 points around a beat occupy in the
    map of successive RR differences. Sinus rhythm and bigeminy (which rhythm_irregularity
    scores higher than fibrillation) keep to a few cells; random intervals scatter over nearly
    one cell per point. On real records: 119 (ventricular bigeminy) is more irregular than 203
    (atrial fibrillation and flutter) by rhythm_irregularity, and less scattered by this
    measure (measured medians: 0.80 against 0.97; beats above 0.9: 21 % against 100 %). Intervals
    are in seconds, so reading 203's beats at 250 Hz instead of 360 Hz changes little."""
    from ecg2d.segment import rhythm_cells, rhythm_irregularity

    rng = np.random.default_rng(0)
    pre = np.full(600, 0.8) + rng.normal(0, 0.01, 600)  # sinus rhythm, 10 ms jitter
    pre[100], pre[101] = 0.5, 1.1  # one premature beat and its compensatory pause
    pre[200:400:2], pre[201:400:2] = 0.5, 1.1  # bigeminy
    pre[400:] = rng.uniform(0.4, 1.2, 200)  # atrial fibrillation
    cells = rhythm_cells(pre)
    irregular = rhythm_irregularity(rr_irregularity(pre))
    assert cells.shape == pre.shape and cells[:190].max() < 0.3
    assert cells[240:360].max() < 0.1 < irregular[240:360].min()
    assert irregular[240:360].min() > irregular[440:].max()  # bigeminy: more "irregular" than AF
    assert cells[440:].min() > 0.9
    assert rhythm_cells(np.zeros(0)).shape == (0,) and rhythm_cells([0.8, 0.8]).tolist() == [0, 0]

    beats = {}
    for name in ("119", "203"):
        beats[name] = segmented(name, "jun2018")
        assert "rhythm_cells" in beats[name]
    median = {k: float(np.median(b["rhythm_cells"])) for k, b in beats.items()}
    above = {k: float((b["rhythm_cells"] > 0.9).mean()) for k, b in beats.items()}
    irregularity = {k: float(np.median(b["rhythm_irregularity"])) for k, b in beats.items()}
    assert irregularity["119"] > irregularity["203"]
    assert median["203"] > median["119"] + 0.1 and above["203"] > 0.9 > 0.5 > above["119"]

    peaks = beats["203"]["sample"].astype(np.float64)
    at_250 = rr_features(np.round(peaks * 250 / 360), 250.0)["rhythm_cells"]
    assert abs(float(np.median(at_250)) - median["203"]) < 0.02


def test_rr_intervals_do_not_depend_on_the_recordings_rate(mitdb):
    """RR intervals are measured between QRS complexes aligned to the record's median QRS,
    refined between samples (ecg2d.segment.fiducials): record 100 written at 128 Hz and read
    back at 360 Hz (its marks rounded to 7.8 ms) gives the same intervals to a fraction of a
    millisecond, where the marks alone move them by a sample of 128 Hz; so the irregularity of
    its regular rhythm stays put. Beats that do not fit the median QRS keep their marks."""
    from ecg2d.io import at_rate
    from ecg2d.segment import fiducials, segment_record

    record = read_record(mitdb, "100")
    short = first_samples(record, 216_000)
    slow = at_rate(short, 128.0)
    back = at_rate(dataclasses.replace(slow, ann_sample=np.round(slow.ann_sample)), 360.0)
    a, b = segment_record(short, "fixed"), segment_record(back, "fixed")
    assert len(a["sample"]) == len(b["sample"]) > 700
    marks = np.abs(np.diff(b["sample"]) - np.diff(a["sample"])) / 360.0
    assert np.quantile(marks, 0.95) > 0.004  # the marks moved by up to a 128 Hz sample
    change = np.abs(b["pre_rr"] - a["pre_rr"])
    assert np.quantile(change, 0.95) < 0.001
    irregular = np.abs(b["rr_irregularity"] - a["rr_irregularity"])
    assert np.median(irregular) < 0.1 * np.median(a["rr_irregularity"])
    # moved points that would not be increasing fall back to the marks
    assert fiducials(np.array([100, 110, 200]), np.array([0.0, -11.0, 0.0])).tolist() == [
        100.0,
        110.0,
        200.0,
    ]
    assert fiducials(np.array([100, 200]), np.array([0.4, -0.3])).tolist() == [100.4, 199.7]


def test_fixed_windows_are_cut_around_the_aligned_qrs(mitdb):
    """A fixed window is cut around the beat's QRS aligned to the record's median QRS, so a mark
    moved by a sample of a 128 Hz recording does not move the beat in its image: record 100
    written at 128 Hz and read back at 360 Hz gets windows that start where the original's do,
    where half its marks moved by a sample or more. The paper's jun2018 window is still cut between
    the neighbouring marks."""
    from ecg2d.io import at_rate
    from ecg2d.segment import segment_record

    record = read_record(mitdb, "100")
    n = 216_000
    short = first_samples(record, n)
    back = at_rate(at_rate(short, 128.0), 360.0)
    a, b = segment_record(short, "fixed"), segment_record(back, "fixed")
    assert len(a["start"]) == len(b["start"]) > 700
    moved = np.mean(b["sample"] != a["sample"])
    assert moved > 0.3  # measured: 0.65 of the marks moved, by a sample or more
    assert np.mean(b["start"] != a["start"]) < moved / 5  # measured: 0.03
    assert np.abs(b["start"] - a["start"]).max() <= 1
    assert np.all(b["end"] - b["start"] == a["end"] - a["start"])
    # windows sit around the aligned QRS, within the alignment's 20 ms of the mark
    offset = a["start"] + round(0.25 * 360) - a["sample"]
    assert np.abs(offset).max() <= round(0.02 * 360) + 1 and np.abs(offset).max() > 0
    jun = segment_record(short, "jun2018")
    margin = round(20 / 360 * 360)
    assert np.array_equal(jun["start"][1:], jun["sample"][:-1] + margin)


def test_baseline_wander_does_not_tilt_beats_drawn_from_the_high_passed_lead(mitdb):
    """A window setting highpass_hz draws beats from the lead high-passed at that many Hz
    (ecg2d.segment.band_limit): record 119 with a respiration-like wander added (0.5 mV at
    0.1 Hz, 0.25 mV at 0.3 Hz) moves its 48-px beat images by a median of 3 of 255 as
    recorded, and by a fifth of that high-passed at 0.5 Hz; the filter is zero-phase, so the
    QRS peaks stay where they were, and without the setting the lead is drawn as recorded."""
    from ecg2d.images import resize_images
    from ecg2d.predict import render_images
    from ecg2d.segment import band_limit

    record = read_record(mitdb, "119")
    n = 108_000
    short = first_samples(record, n)
    t = np.arange(n) / record.fs
    wave = 0.5 * np.sin(2 * np.pi * 0.1 * t) + 0.25 * np.sin(2 * np.pi * 0.3 * t + 1)
    drifting = dataclasses.replace(short, signal=(short.signal + wave).astype(np.float32))

    def images(rec, highpass_hz):
        beats = segment_record(rec, "fixed", (250, 400), (highpass_hz, None))
        index = np.arange(len(beats["sample"]))
        return beats, resize_images(render_images(beats, 128, index), 48)[..., 0]

    raw, raw_images = images(short, None)
    np.testing.assert_array_equal(raw["signal"], short.signal.astype(np.float32))
    _, raw_drift = images(drifting, None)
    flat, flat_images = images(short, 0.5)
    _, flat_drift = images(drifting, 0.5)
    assert len(raw_images) == len(flat_images) > 300
    moved_raw = np.median(np.abs(raw_drift - raw_images).mean(axis=(1, 2)))
    moved_flat = np.median(np.abs(flat_drift - flat_images).mean(axis=(1, 2)))
    assert moved_raw > 2.0 and moved_flat < moved_raw / 4  # measured: 3.2 and 0.5
    # zero-phase: each beat's largest deflection within 50 ms of its mark stays at its sample
    half = round(0.05 * record.fs)

    def peak_offsets(signal):
        rows = np.stack([signal[m - half : m + half] for m in raw["sample"]])
        return np.argmax(np.abs(rows - np.median(rows, axis=1, keepdims=True)), axis=1)

    same = peak_offsets(raw["signal"]) == peak_offsets(flat["signal"])
    assert np.mean(same) > 0.95  # measured: 0.99
    assert band_limit(np.ones(5), 360.0, (0.5, None)).tolist() == [0.0] * 5  # too short: median


def test_noise_does_not_blur_beats_drawn_from_the_low_passed_lead(mitdb):
    """A window setting lowpass_hz draws beats from the lead low-passed at that many Hz (with
    highpass_hz, the band between): record 119 with white noise (0.03 mV rms) and a 0.05 mV
    mains hum at 50 Hz added moves its 48-px images by a median of 5.6 of 255 drawn from
    0.5 Hz up, and by a third of that from 0.5-40 Hz. An edge above the Nyquist limit is
    kept below it, and the window's band comes from its settings."""
    from ecg2d.images import resize_images
    from ecg2d.predict import render_images
    from ecg2d.segment import band_limit, window_band

    short = first_samples(read_record(mitdb, "119"), 108_000)
    rng = np.random.default_rng(0)
    t = np.arange(len(short.signal)) / short.fs
    hum = 0.05 * np.sin(2 * np.pi * 50 * t)
    noisy = dataclasses.replace(
        short, signal=(short.signal + 0.03 * rng.standard_normal(len(t)) + hum).astype(np.float32)
    )

    def moved(band):
        drawn = []
        for rec in (short, noisy):
            beats = segment_record(rec, "fixed", (250, 400), band)
            index = np.arange(len(beats["sample"]))
            drawn.append(resize_images(render_images(beats, 128, index), 48)[..., 0])
        return np.median(np.abs(drawn[1] - drawn[0]).mean(axis=(1, 2)))

    high_only, band = moved((0.5, None)), moved((0.5, 40.0))
    assert high_only > 3.0 and band < high_only / 2  # measured: 5.6 and 1.4
    x = short.signal[:36_000]
    np.testing.assert_array_equal(
        band_limit(x, 100.0, (None, 80.0)), band_limit(x, 100.0, (None, 45.0))
    )
    assert window_band({"mode": "fixed", "highpass_hz": 0.5, "lowpass_hz": 40}) == (0.5, 40)
    assert window_band({"mode": "jun2018"}) == (None, None)


def test_a_band_that_cannot_be_filtered_is_an_error_naming_its_setting(mitdb):
    """A high-pass edge at or above the low-pass edge (or half the sampling rate) stops the
    workflow at its start with the experiment's window named, and band_limit refuses it too
    (a model's band at another rate)."""
    import copy

    import yaml

    from ecg2d.config import ConfigError, check_config
    from ecg2d.segment import band_limit
    from tests.conftest import REPO

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["data_dir"] = str(mitdb)
    check_config(config)  # the shipped band passes
    bad = copy.deepcopy(config)
    bad["experiments"]["inter_patient"]["window"]["highpass_hz"] = 50
    message = r"experiments\.inter_patient\.window: highpass_hz \(50\)"
    with pytest.raises(ConfigError, match=message):
        check_config(bad)
    bad = copy.deepcopy(config)
    bad["window"]["highpass_hz"] = 200
    with pytest.raises(ConfigError, match=r"^window: highpass_hz \(200\) must be below 0\.45"):
        check_config(bad)
    with pytest.raises(ValueError, match=r"band \(50, 40\)"):
        band_limit(np.zeros(1000), 360.0, (50, 40))


def test_beats_carry_how_unusual_each_beat_is_for_its_record():
    """Beats files hold ecg2d.rr.UNUSUAL_COLUMNS, robust z-scores over the record's own beats:
    record 100's atrial premature beats are many sds early against the dominant cycle and its
    ventricular beats many sds off its usual QRS, its normal beats at 0; in atrial
    fibrillation (203) the same prematurity is ordinary. The scores do not depend on labels."""
    from ecg2d.rr import UNUSUAL_COLUMNS, unusual_columns

    sinus, fibrillation = segmented("100", "fixed"), segmented("203", "fixed")
    assert set(UNUSUAL_COLUMNS) <= set(sinus) and set(UNUSUAL_COLUMNS) <= BEATS_KEYS
    z = {c: sinus[c] for c in UNUSUAL_COLUMNS}
    symbol = sinus["symbol"]
    assert np.median(z["z_pre_upper"][symbol == "A"]) < -4
    assert np.median(z["z_qrs_corr"][symbol == "V"]) < -20
    assert all(abs(np.median(z[c][symbol == "N"])) < 0.5 for c in UNUSUAL_COLUMNS)
    assert np.quantile(fibrillation["z_pre_upper"], 0.02) > -2.5
    again = unusual_columns(*(sinus[c] for c in ("pre_rr", "upper_rr", "prev_rr", "qrs_corr")))
    for c in UNUSUAL_COLUMNS:
        np.testing.assert_array_equal(again[c], z[c])


def test_beats_carry_how_unusual_the_atrial_activity_is_for_the_record():
    """Beats files hold ``z_p_corr``, the robust z-score of each beat's P-wave likeness within
    its record (ecg2d.shape.p_wave_likeness, before the aligned QRS): record 100's atrial
    premature beats are unusual (median below -2), its normal beats at about 0, and in atrial
    fibrillation (203), where no beat has the usual P wave, its normal beats are ordinary."""
    from ecg2d.rr import PWAVE_COLUMNS

    sinus, fibrillation = segmented("100", "fixed"), segmented("203", "fixed")
    assert set(PWAVE_COLUMNS) <= set(sinus) and set(PWAVE_COLUMNS) <= BEATS_KEYS
    z = sinus["z_p_corr"]
    assert np.median(z[sinus["symbol"] == "A"]) < -2
    assert abs(np.median(z[sinus["symbol"] == "N"])) < 0.5
    assert abs(np.median(fibrillation["z_p_corr"][fibrillation["symbol"] == "N"])) < 0.5


def test_beats_judge_the_p_wave_against_the_records_sinus_beats():
    """Beats files hold ``z_p_sinus``: the P-wave likeness scored with template, median and
    spread over the record's beats that are not premature (``ecg2d.rr.sinus_reference``), so
    that it holds where premature beats are the majority. On record 100 its atrial premature
    beats are unusual; and among a selection of its real beats in which they outnumber the
    sinus beats (33 A, 12 N), the all-beats score takes them for the usual P wave, the sinus
    score still does not."""
    from ecg2d.rr import PSINUS_COLUMNS, PWAVE_FLOOR, robust_z, sinus_reference
    from ecg2d.shape import p_wave_likeness

    beats = segmented("100", "fixed")
    assert set(PSINUS_COLUMNS) <= set(beats) and set(PSINUS_COLUMNS) <= BEATS_KEYS
    symbol, z = beats["symbol"], beats["z_p_sinus"]
    assert np.median(z[symbol == "A"]) < -2 and np.median(z[symbol == "N"]) > -1.5
    sinus = sinus_reference(beats["pre_rr"], beats["upper_rr"])
    assert 0.2 < sinus.mean() < 0.35 and not sinus[symbol == "A"].any()
    normal = np.flatnonzero(sinus & (symbol == "N"))[:12]
    few = np.sort(np.r_[np.flatnonzero(symbol == "A"), normal])
    points, reference, atrial = beats["sample"][few], sinus[few], symbol[few] == "A"
    fs = float(beats["fs"])
    usual = robust_z(p_wave_likeness(beats["signal"], fs, points), PWAVE_FLOOR)
    likeness = p_wave_likeness(beats["signal"], fs, points, reference=reference)
    judged = robust_z(likeness, PWAVE_FLOOR, reference=reference)
    assert abs(np.median(usual[atrial])) < 0.5
    assert np.median(judged[atrial]) < -2 and abs(np.median(judged[~atrial])) < 0.5


def test_beats_judge_how_unusual_a_beat_is_against_the_rhythm_premature_beats_interrupt():
    """Beats files hold ``zg_*`` (``ecg2d.rr.GATED_COLUMNS``): the z-scores of
    ``ecg2d.rr.unusual_columns`` with median and spread over the beats that are not premature,
    and the all-beats ones where ``fibrillation_between`` calls the beat fibrillation. Record
    100 (sinus rhythm, no fibrillation called): its atrial premature beats are unusual; record
    203 (fibrillation throughout): the gated scores are the all-beats ones. In a strict
    bigeminy the all-beats score of a premature interval is about one spread (the spread is
    the gap between the halves), the gated one many."""
    from ecg2d.fibrillation import fibrillation_between
    from ecg2d.rr import GATED_COLUMNS, gated_columns, not_premature, unusual_columns
    from ecg2d.segment import upper_rr

    sinus = segmented("100", "fixed")
    assert set(GATED_COLUMNS) <= set(sinus) and set(GATED_COLUMNS) <= BEATS_KEYS
    context = (sinus["pre_rr"], sinus["upper_rr"], sinus["prev_rr"], sinus["qrs_corr"])
    assert not fibrillation_between(*context[:2]).any()
    steady = unusual_columns(*context, reference=not_premature(*context[:2]))
    np.testing.assert_array_equal(sinus["zg_pre_upper"], steady["z_pre_upper"])
    assert np.median(sinus["zg_pre_upper"][sinus["symbol"] == "A"]) < -4
    af = segmented("203", "fixed")
    called = fibrillation_between(af["pre_rr"], af["upper_rr"])
    assert called.mean() > 0.9
    for gated, usual in zip(GATED_COLUMNS, ("z_pre_upper", "z_pre_prev", "z_qrs_corr")):
        np.testing.assert_array_equal(af[gated][called], af[usual][called])
    pre = np.tile([0.6, 1.2], 150)
    upper, prev = upper_rr(pre), np.r_[pre[:1], pre[:-1]]
    corr = np.ones(len(pre))
    usual = unusual_columns(pre, upper, prev, corr)["z_pre_upper"]
    gated = gated_columns(pre, upper, prev, corr, np.zeros(len(pre), bool))["zg_pre_upper"]
    assert -2 < np.median(usual[::2]) and np.median(gated[::2]) < -10
    assert np.allclose(gated[1::2], 0.0, atol=1e-6)


def test_a_records_usual_value_is_taken_over_its_reference_beats_where_there_are_enough():
    """``robust_z`` with a reference mask takes median and spread over those values only; with
    fewer than ``MIN_REFERENCE_BEATS`` of them, over all (a record with almost no sinus beat
    is still scored); a mask of the wrong length is an error naming both lengths."""
    from ecg2d.rr import MIN_REFERENCE_BEATS, reference_mask, robust_z

    values = np.r_[np.full(10, 1.0), np.full(20, 3.0)]
    values[:10] += np.linspace(-0.1, 0.1, 10)
    first = np.arange(30) < 10
    z = robust_z(values, 0.01, reference=first)
    assert abs(np.median(z[:10])) < 1e-6 and np.all(z[10:] > 10)
    assert abs(np.median(robust_z(values, 0.01)[10:])) < 1e-6
    few = np.arange(30) < MIN_REFERENCE_BEATS - 1
    np.testing.assert_array_equal(reference_mask(few, 30), np.ones(30, dtype=bool))
    np.testing.assert_array_equal(robust_z(values, 0.01, few), robust_z(values, 0.01))
    with pytest.raises(ValueError, match="mask of the 30 beats"):
        reference_mask(first[:20], 30)
