"""Reading records, and the download path (network replaced by the local copy)."""

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import wfdb

from ecg2d import io
from ecg2d.io import RecordError, read_record

#: Frames of record 100 whose MLII sample :func:`write_record_with_gaps` marks invalid.
NAN_FRAMES = range(1000, 1500)
#: ... and whose V5 sample (channel 1, not read by default) it marks invalid.
NAN_FRAMES_V5 = range(5000, 5100)


def link_files(src: Path, dst: Path, record: str, suffixes=("hea", "dat", "atr")) -> None:
    """Symlink files of ``record`` from the read-only ``src`` into ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    for suffix in suffixes:
        (dst / f"{record}.{suffix}").symlink_to(src / f"{record}.{suffix}")


def write_record_with_gaps(mitdb: Path, dst: Path) -> None:
    """Record 100 in ``dst`` with the WFDB invalid value (-2048, read as NaN) in MLII at
    :data:`NAN_FRAMES` and in V5 at :data:`NAN_FRAMES_V5` of its format-212 signal file."""
    link_files(mitdb, dst, "100", ("hea", "atr"))
    data = bytearray((mitdb / "100.dat").read_bytes())
    for frame in NAN_FRAMES:  # channel 0: byte 0 and the low nibble of byte 1
        data[3 * frame] = 0x00
        data[3 * frame + 1] = (data[3 * frame + 1] & 0xF0) | 0x08
    for frame in NAN_FRAMES_V5:  # channel 1: byte 2 and the high nibble of byte 1
        data[3 * frame + 2] = 0x00
        data[3 * frame + 1] = (data[3 * frame + 1] & 0x0F) | 0x80
    (dst / "100.dat").write_bytes(bytes(data))


def write_header(src: Path, dst: Path, record: str, edit) -> None:
    """``dst/record.hea``: the header of ``src`` with ``edit(fields, line_number)`` applied to
    the fields of each line (the record line is line 0); the other files are symlinks."""
    link_files(src, dst, record, ("dat", "atr"))
    lines = (src / f"{record}.hea").read_text().splitlines()
    out = []
    for number, line in enumerate(lines):
        if line.startswith("#"):
            out.append(line)
            continue
        fields = line.split()
        edit(fields, number)
        out.append(" ".join(fields))
    (dst / f"{record}.hea").write_text("\n".join(out) + "\n")


def io_warnings(caplog) -> list[str]:
    """Messages of the warnings logged by ecg2d.io."""
    return [r.getMessage() for r in caplog.records if r.name == "ecg2d.io" and r.levelno >= 30]


def test_reads_the_named_lead_with_annotations(mitdb):
    record = read_record(mitdb, "114")  # 114 has MLII on channel 1
    assert record.lead == "MLII" and record.fs == 360
    reference = wfdb.rdrecord(str(mitdb / "114"), channel_names=["MLII"])
    np.testing.assert_allclose(record.signal, reference.p_signal[:, 0], atol=1e-6)
    assert len(record.ann_sample) == len(wfdb.rdann(str(mitdb / "114"), "atr").sample)


def test_missing_lead_falls_back_with_a_warning_or_fails(mitdb, caplog):
    caplog.set_level(logging.WARNING, "ecg2d.io")
    names = wfdb.rdheader(str(mitdb / "102")).sig_name  # 102 has no MLII
    record = read_record(mitdb, "102", fallback_channel=1)
    assert record.lead == names[1]
    assert io_warnings(caplog) == [
        f"record 102: no lead 'MLII' (has {', '.join(names)}): "
        f"reading channel 1 ('{names[1]}') instead"
    ]
    with pytest.raises(RecordError, match=r"record 102: no lead 'MLII'.* no fallback channel"):
        read_record(mitdb, "102", fallback_channel=None)
    with pytest.raises(RecordError, match=r"fallback channel 2 is not one of its 2 channels"):
        read_record(mitdb, "102", fallback_channel=2)
    caplog.clear()
    read_record(mitdb, "100")  # has MLII: no warning
    assert io_warnings(caplog) == []


def test_leads_named_otherwise_fall_back_to_the_channel_asked_for(mitdb, tmp_path, caplog):
    """Leads named ECG1/ECG2 (as many Holter recordings): channel 0 is read, and says so."""

    def rename(fields, number):
        if number:
            fields[-1] = f"ECG{number}"

    write_header(mitdb, tmp_path, "100", rename)
    caplog.set_level(logging.WARNING, "ecg2d.io")
    record = read_record(tmp_path, "100")
    original = read_record(mitdb, "100")
    assert record.lead == "ECG1"
    np.testing.assert_array_equal(record.signal, original.signal)  # the same samples as MLII
    assert io_warnings(caplog) == [
        "record 100: no lead 'MLII' (has ECG1, ECG2): reading channel 0 ('ECG1') instead"
    ]


def test_a_list_of_lead_names_reads_the_first_present(mitdb, tmp_path, caplog):
    """Record 100 with its leads named as a 12-lead recording's ("ii", "V5"): the shipped
    ``[MLII, II]`` finds lead II whatever its case, silently; the other lead comes with it. With
    none of the names present, the warning names them all."""

    def rename(fields, number):
        if number == 1:
            fields[-1] = "ii"

    write_header(mitdb, tmp_path, "100", rename)
    caplog.set_level(logging.WARNING, "ecg2d.io")
    original = read_record(mitdb, "100")
    record = read_record(tmp_path, "100", lead=["MLII", "II"], fallback_channel=1)
    assert (record.lead, record.lead2) == ("ii", "V5")
    np.testing.assert_array_equal(record.signal, original.signal)
    np.testing.assert_array_equal(record.signal2, original.signal2)
    assert io_warnings(caplog) == []
    # the first name present wins, in the order given
    assert read_record(tmp_path, "100", lead=["V5", "II"]).lead == "V5"
    fallback = read_record(tmp_path, "100", lead=["MLII", "aVF"], fallback_channel=1)
    assert (fallback.lead, fallback.lead2) == ("V5", "ii")
    assert io_warnings(caplog) == [
        "record 100: no lead of ['MLII', 'aVF'] (has ii, V5): reading channel 1 ('V5') instead"
    ]
    with pytest.raises(RecordError, match=r"no lead of \['MLII', 'aVF'\]"):
        read_record(tmp_path, "100", lead=["MLII", "aVF"], fallback_channel=None)


def test_the_second_lead_is_the_first_preferred_name_present(mitdb, tmp_path):
    """A 12-lead-style record (channels I, II, V1, built from 30 s of record 100): lead II is
    read, and the second lead is the first of ``lead2`` present (exactly, else ignoring case),
    else the first other channel (lead I), as before there was a preference."""
    original = read_record(mitdb, "100", fs=None)
    n = 30 * 360
    mlii, v5 = original.signal[:n].astype(np.float64), original.signal2[:n].astype(np.float64)
    signals = np.stack([v5, mlii, -v5], axis=1)
    wfdb.wrsamp("twelve", fs=360, units=["mV"] * 3, sig_name=["I", "II", "V1"],
                p_signal=signals, fmt=["16"] * 3, adc_gain=[200.0] * 3, baseline=[0] * 3,
                write_dir=str(tmp_path))  # fmt: skip
    keep = original.ann_sample < n
    wfdb.wrann("twelve", "atr", original.ann_sample[keep], original.ann_symbol[keep].tolist(),
               write_dir=str(tmp_path))  # fmt: skip
    plain = read_record(tmp_path, "twelve", lead=["MLII", "II"], fs=None)
    assert (plain.lead, plain.lead2) == ("II", "I")  # no preference: the first other channel
    np.testing.assert_allclose(plain.signal, mlii, atol=0.005)
    preferred = read_record(tmp_path, "twelve", lead=["MLII", "II"], fs=None, lead2=["V1", "V2"])
    assert preferred.lead2 == "V1"
    np.testing.assert_allclose(preferred.signal2, -v5, atol=0.005)
    assert read_record(tmp_path, "twelve", lead="II", fs=None, lead2=[" v1 "]).lead2 == "V1"
    assert read_record(tmp_path, "twelve", lead="II", fs=None, lead2=["V9", "I"]).lead2 == "I"
    # the lead read is never its own second lead; a two-lead record's other channel either way
    assert read_record(tmp_path, "twelve", lead="V1", fs=None, lead2=["V1", "II"]).lead2 == "II"
    assert read_record(mitdb, "100", fs=None, lead2=["V1", "V2"]).lead2 == "V5"


def test_nan_samples_become_zero_with_a_warning_giving_the_count(mitdb, tmp_path, caplog):
    write_record_with_gaps(mitdb, tmp_path)
    caplog.set_level(logging.WARNING, "ecg2d.io")
    record = read_record(tmp_path, "100")
    original = read_record(mitdb, "100")
    n, n2 = len(NAN_FRAMES), len(NAN_FRAMES_V5)
    share, share2 = (100 * k / len(original.signal) for k in (n, n2))
    # each lead's gaps are counted and named: the other lead (V5) is read too
    assert io_warnings(caplog) == [
        f"record 100: {n} NaN samples ({share:.2f} %) set to 0 mV",
        f"record 100 (lead V5): {n2} NaN samples ({share2:.2f} %) set to 0 mV",
    ]
    gaps = np.zeros(len(original.signal), dtype=bool)
    gaps[list(NAN_FRAMES)] = True
    assert np.all(record.signal[gaps] == 0)
    assert np.all(record.signal2[list(NAN_FRAMES_V5)] == 0)
    np.testing.assert_array_equal(record.signal[~gaps], original.signal[~gaps])
    # The gaps of the other lead are not this lead's: with V5 as the lead, MLII is the other.
    caplog.clear()
    v5 = read_record(tmp_path, "100", lead="V5")
    assert (v5.lead, v5.lead2) == ("V5", "MLII")
    assert io_warnings(caplog) == [
        f"record 100: {n2} NaN samples ({share2:.2f} %) set to 0 mV",
        f"record 100 (lead MLII): {n} NaN samples ({share:.2f} %) set to 0 mV",
    ]
    # fill_nan alone: the count, and a clean signal passes unchanged and silently.
    caplog.clear()
    signal = original.signal[:10].astype(np.float64)
    signal[[2, 5]] = np.nan
    filled = io.fill_nan(signal, "x")
    assert filled.dtype == np.float32 and filled[2] == filled[5] == 0
    assert io_warnings(caplog) == ["record x: 2 NaN samples (20.00 %) set to 0 mV"]
    caplog.clear()
    np.testing.assert_array_equal(io.fill_nan(original.signal, "100"), original.signal)
    assert io_warnings(caplog) == []


def test_unknown_storage_format_is_not_checked_for_truncation_and_says_so(mitdb, tmp_path, caplog):
    def flac(fields, number):
        if number:
            fields[1] = "508"

    write_header(mitdb, tmp_path / "flac", "100", flac)
    caplog.set_level(logging.WARNING, "ecg2d.io")
    io.check_record_files(tmp_path / "flac", "100")
    assert io_warnings(caplog) == [
        f"record 100: signal file {tmp_path / 'flac' / '100.dat'} has storage format 508, of "
        "unknown size per sample: not checked for truncation"
    ]
    # A known format is checked: the same header with format 212 and half the file fails.
    half = tmp_path / "half"
    link_files(mitdb, half, "100", ("hea", "atr"))
    (half / "100.dat").write_bytes((mitdb / "100.dat").read_bytes()[:975000])
    with pytest.raises(RecordError, match=r"record 100: signal file .*100\.dat is truncated"):
        io.check_record_files(half, "100")


def test_annotations_past_the_end_are_moved_with_a_warning(mitdb, tmp_path, caplog):
    """Record 100 cut after an N beat at an even sample S, the annotations up to that beat:
    resampled to 180 Hz (length S/2), the beat at S lands one past the end."""
    ann = wfdb.rdann(str(mitdb / "100"), "atr")
    k = next(i for i in range(100, len(ann.sample)) if ann.sample[i] % 2 == 0)
    end = int(ann.sample[k])

    def cut(fields, number):
        if number == 0:
            fields[3] = str(end)

    write_header(mitdb, tmp_path, "100", cut)
    (tmp_path / "100.atr").unlink()
    keep = slice(0, k + 1)
    wfdb.wrann(
        "100", "atr", ann.sample[keep], symbol=ann.symbol[keep], subtype=ann.subtype[keep],
        chan=ann.chan[keep], num=ann.num[keep], aux_note=ann.aux_note[keep], fs=360,
        write_dir=str(tmp_path),
    )  # fmt: skip
    caplog.set_level(logging.WARNING, "ecg2d.io")
    record = read_record(tmp_path, "100", fs=180)
    assert len(record.signal) == end // 2
    assert io_warnings(caplog) == [
        f"record 100: 1 annotations fall outside the signal resampled to 180 Hz ({end // 2} "
        "samples): moved onto its first or last sample"
    ]
    assert record.ann_sample[-1] == end // 2 - 1
    np.testing.assert_allclose(record.ann_sample[:-1], ann.sample[:k] / 2, atol=0.5)
    caplog.clear()
    assert read_record(tmp_path, "100").ann_sample[-1] == end  # not resampled: kept, silently
    assert io_warnings(caplog) == []


def test_resample_counts_the_annotations_it_moves(mitdb, caplog):
    """10 s of record 100 with the annotations of its first 20 s: those after 10 s move."""
    record = read_record(mitdb, "100")
    samples = record.ann_sample[record.ann_sample < 20 * 360]
    beyond = int((samples >= 10 * 360).sum())
    assert beyond >= 10 and not np.any(np.abs(samples - 3600) < 3)  # no beat at the edge
    caplog.set_level(logging.WARNING, "ecg2d.io")
    signal, moved = io.resample(record.signal[: 10 * 360], samples, 360, 250, "100")
    assert len(signal) == 2500 and moved.max() == 2499
    assert io_warnings(caplog) == [
        f"record 100: {beyond} annotations fall outside the signal resampled to 250 Hz "
        "(2500 samples): moved onto its first or last sample"
    ]
    inside = samples < 3600
    np.testing.assert_allclose(moved[inside], samples[inside] * 250 / 360, atol=0.5)


def test_checksums_of_the_shared_copy(mitdb):
    sums = io.parse_checksums((mitdb / "SHA256SUMS").read_text())
    assert len(sums) >= 144
    io.verify_file(mitdb / "100.hea", sums)  # passes: the shared copy is PhysioNet's


def _fake_dl_files(mitdb):
    def dl_files(db, dl_dir, files, keep_subdirs=True, overwrite=False):
        assert db == "mitdb/1.0.0"
        for name in files:
            shutil.copy(mitdb / name, f"{dl_dir}/{name}")

    return dl_files


def test_download_record_verifies_and_places_files(mitdb, tmp_path, monkeypatch):
    shutil.copy(mitdb / "SHA256SUMS", tmp_path / "SHA256SUMS.txt")
    monkeypatch.setattr(wfdb, "dl_files", _fake_dl_files(mitdb))
    io.download_record("100", tmp_path / "mitdb", tmp_path / "SHA256SUMS.txt")
    assert sorted(p.name for p in (tmp_path / "mitdb").iterdir()) == [
        "100.atr",
        "100.dat",
        "100.hea",
    ]
    assert read_record(tmp_path / "mitdb", "100").name == "100"


def test_download_of_unknown_record_names_it(mitdb, tmp_path):
    shutil.copy(mitdb / "SHA256SUMS", tmp_path / "SHA256SUMS.txt")
    with pytest.raises(RecordError, match="record 999: unknown to mitdb"):
        io.download_record("999", tmp_path / "mitdb", tmp_path / "SHA256SUMS.txt")
