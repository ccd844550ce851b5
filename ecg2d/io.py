"""Reading, checking and downloading WFDB records.

Everything that touches record files goes through this module, so that a broken record always
fails with one :class:`RecordError` that names the record and the file at fault.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: PhysioNet's MIT-BIH Arrhythmia Database, version 1.0.0.
MITDB = "mitdb"
MITDB_VERSION = "1.0.0"
MITDB_RECORDS = (
    "100 101 102 103 104 105 106 107 108 109 111 112 113 114 115 116 117 118 119 121 122 123 124 "
    "200 201 202 203 205 207 208 209 210 212 213 214 215 217 219 220 221 222 223 228 230 231 232 "
    "233 234"
).split()
RECORD_SUFFIXES = ("hea", "dat", "atr")

# Bytes per sample of the WFDB storage formats found in practice (format 212 packs two samples in
# three bytes).
_BYTES_PER_SAMPLE = {"8": 1, "16": 2, "24": 3, "32": 4, "61": 2, "80": 1, "160": 2, "212": 1.5}


class RecordError(Exception):
    """A record is missing, damaged or unusable. The message names the record and the file."""


@dataclass(frozen=True)
class Record:
    """One lead of a WFDB record with its reference annotations, at ``fs`` Hz."""

    name: str
    signal: np.ndarray  # float32, physical units (mV)
    fs: float
    lead: str
    ann_sample: np.ndarray  # int64 sample indices, at ``fs``
    ann_symbol: np.ndarray  # str array of annotation codes


def record_files(data_dir: str | os.PathLike, record: str) -> dict[str, Path]:
    """The ``.hea``, ``.dat`` and ``.atr`` paths of ``record`` in ``data_dir``."""
    return {suffix: Path(data_dir) / f"{record}.{suffix}" for suffix in RECORD_SUFFIXES}


def check_record_files(data_dir: str | os.PathLike, record: str) -> None:
    """Raise :class:`RecordError` naming the first missing or truncated file of ``record``."""
    files = record_files(data_dir, record)
    for path in files.values():
        if not path.is_file():
            raise RecordError(f"record {record}: missing file {path}")
    import wfdb

    try:
        header = wfdb.rdheader(str(files["hea"].with_suffix("")))
    except Exception as exc:  # wfdb raises many types on a garbled header
        raise RecordError(f"record {record}: unreadable header {files['hea']}: {exc}") from exc
    if not header.n_sig or not header.fs or header.fs <= 0 or not header.sig_len:
        raise RecordError(
            f"record {record}: header {files['hea']} has no usable signal count, "
            f"sampling rate or length (n_sig={header.n_sig}, fs={header.fs}, "
            f"sig_len={header.sig_len})"
        )
    by_file: dict[str, list[str]] = {}
    for file_name, fmt in zip(header.file_name, header.fmt):
        by_file.setdefault(file_name, []).append(str(fmt))
    for file_name, fmts in by_file.items():
        per_frame = sum(_BYTES_PER_SAMPLE.get(f, 0) for f in fmts)
        path = Path(data_dir) / file_name
        if not path.is_file():
            raise RecordError(f"record {record}: missing signal file {path}")
        expected = int(np.ceil(per_frame * header.sig_len))
        actual = path.stat().st_size
        if per_frame and actual < expected:
            raise RecordError(
                f"record {record}: signal file {path} is truncated "
                f"({actual} bytes, header needs {expected})"
            )


def read_record(
    data_dir: str | os.PathLike,
    record: str,
    lead: str = "MLII",
    fallback_channel: int | None = 0,
    fs: float | None = 360.0,
    annotator: str = "atr",
) -> Record:
    """Read one lead and the reference annotations of ``record``, resampled to ``fs``.

    ``lead`` is a signal name from the header. Where the record has no such lead (MIT-BIH 102
    and 104 have no MLII), channel ``fallback_channel`` is read instead; ``None`` makes that an
    error. ``fs=None`` keeps the record's own sampling rate.
    """
    import wfdb

    check_record_files(data_dir, record)
    base = str(Path(data_dir) / record)
    header = wfdb.rdheader(base)
    if lead in header.sig_name:
        channel = header.sig_name.index(lead)
    elif fallback_channel is not None and fallback_channel < header.n_sig:
        channel = fallback_channel
    else:
        raise RecordError(
            f"record {record}: no lead {lead!r} (has {header.sig_name}) and no fallback channel"
        )
    try:
        rec = wfdb.rdrecord(base, channels=[channel])
        ann = wfdb.rdann(base, annotator)
    except Exception as exc:
        raise RecordError(f"record {record}: cannot be read: {exc}") from exc
    if ann.record_name and ann.record_name != record:
        raise RecordError(
            f"record {record}: annotation file {base}.{annotator} belongs to record "
            f"{ann.record_name!r}"
        )
    signal = np.nan_to_num(rec.p_signal[:, 0]).astype(np.float32)
    samples = np.asarray(ann.sample, dtype=np.int64)
    if samples.size and samples.max() >= len(signal) + 1:
        raise RecordError(
            f"record {record}: annotation file {base}.{annotator} has annotations past the end "
            f"of the signal ({samples.max()} >= {len(signal)}); is it another record's?"
        )
    symbols = np.asarray(ann.symbol, dtype=str)
    record_fs = float(rec.fs)
    if fs is not None and abs(record_fs - fs) > 1e-6:
        signal, samples = resample(signal, samples, record_fs, fs)
        record_fs = float(fs)
    return Record(record, signal, record_fs, rec.sig_name[0], samples, symbols)


def resample(
    signal: np.ndarray, samples: np.ndarray, fs: float, fs_target: float
) -> tuple[np.ndarray, np.ndarray]:
    """Resample ``signal`` from ``fs`` to ``fs_target`` and move annotation ``samples`` with it."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    ratio = Fraction(fs_target / fs).limit_denominator(1000)
    out = resample_poly(signal, ratio.numerator, ratio.denominator).astype(np.float32)
    moved = np.round(samples * (fs_target / fs)).astype(np.int64)
    return out, np.clip(moved, 0, len(out) - 1)


# --- atomic writes ----------------------------------------------------------------------------


@contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None):
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix or "".join(target.suffixes), dir=target.parent
    )
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(target: str | os.PathLike):
    """Yield a temporary directory beside ``target``; rename it onto ``target`` on success."""
    import shutil

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load an ``.npz`` of plain arrays; object arrays (pickles) are refused with a clear error."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except ValueError as exc:
        raise ValueError(f"{path}: refusing to load pickled (object) arrays: {exc}") from exc


# --- downloads --------------------------------------------------------------------------------


def sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_checksums(text: str) -> dict[str, str]:
    """Parse a ``sha256sum``-style listing into ``{file name: hex digest}``."""
    sums = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def verify_file(path: str | os.PathLike, checksums: dict[str, str]) -> None:
    """Check ``path`` against ``checksums``; on a mismatch delete it, raise :class:`RecordError`."""
    path = Path(path)
    expected = checksums.get(path.name)
    if expected is None:
        raise RecordError(f"{path.name}: not listed in the checksum file")
    actual = sha256(path)
    if actual != expected:
        path.unlink(missing_ok=True)
        raise RecordError(
            f"{path.name}: checksum mismatch (got {actual}, expected {expected}); "
            "the file was discarded"
        )


def download_checksums(dest: str | os.PathLike, db: str = MITDB, version: str = MITDB_VERSION):
    """Download PhysioNet's published ``SHA256SUMS.txt`` of ``db`` to ``dest``."""
    import urllib.request

    url = f"https://physionet.org/files/{db}/{version}/SHA256SUMS.txt"
    with atomic_path(dest) as tmp, urllib.request.urlopen(url, timeout=60) as response:
        tmp.write_bytes(response.read())


def download_record(
    record: str,
    dest_dir: str | os.PathLike,
    checksum_file: str | os.PathLike,
    db: str = MITDB,
    version: str = MITDB_VERSION,
) -> None:
    """Download one record's files with wfdb into ``dest_dir`` and verify their SHA-256."""
    import wfdb

    dest_dir = Path(dest_dir)
    checksums = parse_checksums(Path(checksum_file).read_text())
    files = [f"{record}.{suffix}" for suffix in RECORD_SUFFIXES]
    missing = [name for name in files if name not in checksums]
    if missing:
        raise RecordError(f"record {record}: unknown to {db} (not in its checksum list)")
    dest_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{record}.", dir=dest_dir) as tmp:
        wfdb.dl_files(f"{db}/{version}", tmp, files, keep_subdirs=False, overwrite=True)
        for name in files:
            verify_file(Path(tmp) / name, checksums)
        for name in files:
            os.replace(Path(tmp) / name, dest_dir / name)
