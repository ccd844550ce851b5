"""Reading records, and the download path (network replaced by the local copy)."""

import shutil

import numpy as np
import pytest
import wfdb

from ecg2d import io
from ecg2d.io import RecordError, read_record


def test_reads_the_named_lead_with_annotations(mitdb):
    record = read_record(mitdb, "114")  # 114 has MLII on channel 1
    assert record.lead == "MLII" and record.fs == 360
    reference = wfdb.rdrecord(str(mitdb / "114"), channel_names=["MLII"])
    np.testing.assert_allclose(record.signal, reference.p_signal[:, 0], atol=1e-6)
    assert len(record.ann_sample) == len(wfdb.rdann(str(mitdb / "114"), "atr").sample)


def test_missing_lead_falls_back_or_fails(mitdb):
    assert read_record(mitdb, "102", fallback_channel=0).lead == "V5"
    with pytest.raises(RecordError, match=r"record 102: no lead 'MLII'"):
        read_record(mitdb, "102", fallback_channel=None)


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
