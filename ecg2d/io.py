"""Reading, checking and downloading WFDB records.

Everything that touches record files goes through this module, so that a broken record always
fails with one :class:`RecordError` that names the record and the file at fault.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecg2d.atomic import atomic_path, remove_stale_temps, temp_prefix

log = logging.getLogger("ecg2d.io")

#: PhysioNet's MIT-BIH Arrhythmia Database, version 1.0.0.
#: WFDB beat annotation codes (``wfdb.io.annotation.ann_label_table``'s beats), plus ``!``
#: (ventricular flutter wave), which Jun et al. (2018) treat as a beat class. Everything else --
#: rhythm changes ``+``, noise ``~``, artefacts ``|``, comments ``"``, ``x``, ``[``, ``]``, ... --
#: is never a beat.
BEAT_SYMBOLS = frozenset("N L R B A a J S V r F e j n E / f Q ? !".split())

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
    """One lead of a WFDB record with its reference annotations, at ``fs`` Hz, and the record's
    other lead where it has one (:func:`other_channel`)."""

    name: str
    signal: np.ndarray  # float32, physical units (mV)
    fs: float
    lead: str
    ann_sample: np.ndarray  # int64 sample indices, at ``fs``
    ann_symbol: np.ndarray  # str array of annotation codes
    signal2: np.ndarray | None = None  # the other lead, float32 mV, at ``fs``; None if none
    lead2: str = ""


def beat_mask(symbols: np.ndarray) -> np.ndarray:
    """True where an annotation symbol is a beat (see :data:`BEAT_SYMBOLS`)."""
    return np.isin(np.asarray(symbols, dtype=str), list(BEAT_SYMBOLS))


def record_files(data_dir: str | os.PathLike, record: str) -> dict[str, Path]:
    """The ``.hea``, ``.dat`` and ``.atr`` paths of ``record`` in ``data_dir``."""
    return {suffix: Path(data_dir) / f"{record}.{suffix}" for suffix in RECORD_SUFFIXES}


def check_header_text(path: str | os.PathLike, record: str) -> None:
    """Raise :class:`RecordError` if the record line or signal lines of header ``path`` are garbage.

    wfdb silently reads some garbled record lines (a non-numeric sampling rate becomes the
    default 250 Hz, a negative one positive) and fails cryptically on others, so the record
    line ``name n_sig fs[/counter_freq[(base)]] sig_len ...`` is checked here first: signal
    count and length must be positive integers, the sampling rate a positive number, and a
    single-segment header must have one signal line per signal.
    """
    import math

    path = Path(path)
    lines = [line.strip() for line in path.read_text(encoding="latin-1").splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines:
        raise RecordError(f"record {record}: header {path} has no record line")
    fields = lines[0].split()

    def field(index: int) -> str | None:
        return fields[index] if len(fields) > index else None

    def garbage(what: str, value: str | None, must: str) -> RecordError:
        return RecordError(f"record {record}: header {path}: {what} {value!r} is not {must}")

    n_sig = field(1)
    if n_sig is None or not n_sig.isdigit() or int(n_sig) < 1:
        raise garbage("signal count", n_sig, "a positive integer")
    try:
        fs = float((field(2) or "").split("/")[0])
    except ValueError:
        fs = math.nan
    if not (math.isfinite(fs) and fs > 0):
        raise garbage("sampling rate", field(2), "a positive number (Hz)")
    sig_len = field(3)
    if sig_len is None or not sig_len.isdigit() or int(sig_len) < 1:
        raise garbage("signal length", sig_len, "a positive integer (samples)")
    if "/" not in fields[0] and len(lines) - 1 != int(n_sig):
        raise RecordError(
            f"record {record}: header {path}: signal count {n_sig} but {len(lines) - 1} "
            "signal lines"
        )


def check_annotations(
    record: str,
    ann_path: str | os.PathLike,
    signal: np.ndarray,
    samples: np.ndarray,
    symbols: np.ndarray,
    fs: float,
) -> None:
    """Raise :class:`RecordError` if the beat annotations do not belong to ``signal``.

    WFDB annotation files carry no record name, so an annotation file of another record reads
    without error. Two cheap checks catch it (and a wrong sampling rate in the header):

    - the median RR interval between beat annotations must be that of a heart, 0.1 to 5 s;
    - beat annotations sit on QRS complexes: the steepest slope within 50 ms of an annotation
      must be, in the median over beats, at least :data:`MIN_QRS_CONTRAST` times the steepest
      slope within 50 ms of the midpoints between beats. On all 48 mitdb records this contrast
      is 4.7 to 26 with their own annotations and at most 1.25 with any other record's.

    Records with fewer than 10 beat annotations are not checked.
    """
    r = np.unique(np.asarray(samples, dtype=np.int64)[beat_mask(symbols)])
    if len(r) < 10:
        return
    rr = float(np.median(np.diff(r))) / fs
    if not 0.1 <= rr <= 5.0:
        raise RecordError(
            f"record {record}: beat annotations in {ann_path} are {rr:.3g} s apart (median RR) "
            f"at the header's sampling rate of {fs:g} Hz, which no heart beats at: the header's "
            "sampling rate is wrong or the annotation file belongs to another record"
        )
    slope = np.abs(np.diff(np.asarray(signal, dtype=np.float64)))
    reach = max(1, int(round(0.05 * fs)))

    def steepest(positions: np.ndarray) -> float:
        positions = positions[(positions >= reach) & (positions < len(slope) - reach)]
        if not len(positions):
            return 0.0
        window = positions[:, None] + np.arange(-reach, reach + 1)
        return float(np.median(slope[window].max(axis=1)))

    at_beats = steepest(r)
    between = steepest((r[:-1] + r[1:]) // 2)
    if at_beats < MIN_QRS_CONTRAST * between:
        raise RecordError(
            f"record {record}: annotation file {ann_path} does not match the record's signal: "
            f"its beats do not sit on QRS complexes (QRS slope contrast {at_beats / between:.2f}, "
            f"at least {MIN_QRS_CONTRAST:g} expected); is it another record's annotation file?"
        )


#: See :func:`check_annotations`.
MIN_QRS_CONTRAST = 2.0


def check_record_files(data_dir: str | os.PathLike, record: str) -> None:
    """Raise :class:`RecordError` naming the first missing or truncated file of ``record``.

    A signal file's size is checked against the header only where its storage formats are
    known (:data:`_BYTES_PER_SAMPLE`); for other formats (e.g. FLAC-compressed 5xx) a warning
    names the record, the file and the format, and the truncation check is skipped.
    """
    files = record_files(data_dir, record)
    for path in files.values():
        if not path.is_file():
            raise RecordError(f"record {record}: missing file {path}")
    import wfdb

    check_header_text(files["hea"], record)
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
        path = Path(data_dir) / file_name
        if not path.is_file():
            raise RecordError(f"record {record}: missing signal file {path}")
        unknown = sorted(set(fmts) - set(_BYTES_PER_SAMPLE))
        if unknown:
            log.warning(
                "record %s: signal file %s has storage format %s, of unknown size per sample: "
                "not checked for truncation",
                record,
                path,
                ", ".join(unknown),
            )
            continue
        per_frame = sum(_BYTES_PER_SAMPLE[f] for f in fmts)
        expected = int(np.ceil(per_frame * header.sig_len))
        actual = path.stat().st_size
        if actual < expected:
            raise RecordError(
                f"record {record}: signal file {path} is truncated "
                f"({actual} bytes, header needs {expected})"
            )


def fill_nan(signal: np.ndarray, record: str) -> np.ndarray:
    """``signal`` with its NaN samples (WFDB's "no data" value) set to 0 mV, as float32.

    Logs a warning naming ``record`` with the number and share of samples changed, if any.
    """
    signal = np.asarray(signal, dtype=np.float32)
    missing = np.isnan(signal)
    n_missing = int(missing.sum())
    if n_missing:
        log.warning(
            "record %s: %d NaN samples (%.2f %%) set to 0 mV",
            record,
            n_missing,
            100.0 * n_missing / missing.size,
        )
        signal = np.where(missing, np.float32(0.0), signal)
    return signal


def lead_names(lead) -> list[str]:
    """The lead names a ``lead`` setting asks for, in order of preference (one name or a list)."""
    names = [lead] if isinstance(lead, str) else [str(name) for name in lead]
    if not names:
        raise ValueError("lead: name one lead at least")
    return names


def choose_channel(header, record: str, lead, fallback_channel: int | None) -> int:
    """Channel of ``lead`` in a wfdb header, else ``fallback_channel``; else a RecordError.

    ``lead`` is a signal name or a list of them, the first present winning (e.g. ``[MLII, II]``:
    MIT-BIH's modified lead II, else a 12-lead record's lead II); names match exactly, else
    ignoring case and surrounding spaces. Falling back logs a warning naming the record, the
    leads wanted and the channel read.
    """
    names = lead_names(lead)
    for name in names:
        if name in header.sig_name:
            return header.sig_name.index(name)
    folded = [str(s).strip().casefold() for s in header.sig_name]
    for name in names:
        if name.strip().casefold() in folded:
            return folded.index(name.strip().casefold())
    wanted = repr(names[0]) if len(names) == 1 else f"of {names}"
    if fallback_channel is not None and 0 <= fallback_channel < header.n_sig:
        log.warning(
            "record %s: no lead %s (has %s): reading channel %d (%r) instead",
            record,
            wanted,
            ", ".join(map(str, header.sig_name)),
            fallback_channel,
            header.sig_name[fallback_channel],
        )
        return fallback_channel
    fallback = (
        "no fallback channel"
        if fallback_channel is None
        else f"fallback channel {fallback_channel} is not one of its {header.n_sig} channels"
    )
    raise RecordError(f"record {record}: no lead {wanted} (has {header.sig_name}) and {fallback}")


def other_channel(header, channel: int, lead2=()) -> int | None:
    """The record's second lead: the first of the names ``lead2`` it has besides ``channel``
    (matched exactly, else ignoring case and surrounding spaces: ``[V1, V2, V5, V4]`` reads a
    12-lead record's V1, MIT-BIH's usual second lead, not its lead I), else its first channel
    other than ``channel`` whatever its name (so that any database's lead names do), or None
    for a one-lead record."""
    others = [c for c in range(header.n_sig) if c != channel]
    names = [str(header.sig_name[c]) for c in others]
    for fold in (str, lambda name: name.strip().casefold()):
        folded = [fold(name) for name in names]
        for name in lead2:
            if fold(str(name)) in folded:
                return others[folded.index(fold(str(name)))]
    return others[0] if others else None


def read_channels(base: str, record: str, header, channel: int, lead2=()):
    """``(signal, fs, lead, signal2, name2)``: ``channel``, its name, and the second lead
    :func:`other_channel` picks (of the preferred names ``lead2``) with its name (None and ""
    without one); NaN samples set to 0 with a warning; a RecordError names the file."""
    import wfdb

    other = other_channel(header, channel, lead2)
    channels = [channel] if other is None else [channel, other]
    try:
        rec = wfdb.rdrecord(base, channels=channels)
    except Exception as exc:
        signal_file = Path(base).parent / header.file_name[channel]
        raise RecordError(
            f"record {record}: signal file {signal_file} cannot be read: {exc}"
        ) from exc
    signal = fill_nan(rec.p_signal[:, 0], record).astype(np.float32)
    if other is None:
        return signal, float(rec.fs), rec.sig_name[0], None, ""
    signal2 = fill_nan(rec.p_signal[:, 1], f"{record} (lead {rec.sig_name[1]})")
    return signal, float(rec.fs), rec.sig_name[0], signal2.astype(np.float32), rec.sig_name[1]


def read_record(
    data_dir: str | os.PathLike,
    record: str,
    lead: str | list[str] = "MLII",
    fallback_channel: int | None = 0,
    fs: float | None = 360.0,
    annotator: str = "atr",
    lead2=(),
) -> Record:
    """Read one lead and the reference annotations of ``record``, resampled to ``fs``.

    ``lead`` is a signal name from the header, or a list of them, the first present winning
    (:func:`choose_channel`). Where the record has none of them (MIT-BIH 102 and 104 have no
    MLII), channel ``fallback_channel`` is read instead; ``None`` makes that an error. The
    record's other lead comes with it (:func:`other_channel`: the first of ``lead2`` it has,
    else its first other channel). ``fs=None`` keeps the record's own sampling rate.
    """
    import wfdb

    check_record_files(data_dir, record)
    base = str(Path(data_dir) / record)
    header = wfdb.rdheader(base)
    channel = choose_channel(header, record, lead, fallback_channel)
    signal, record_fs, lead_read, signal2, name2 = read_channels(
        base, record, header, channel, lead2
    )
    try:
        ann = wfdb.rdann(base, annotator)
    except Exception as exc:
        raise RecordError(
            f"record {record}: annotation file {base}.{annotator} cannot be read: {exc}"
        ) from exc
    if ann.record_name and ann.record_name != record:
        raise RecordError(
            f"record {record}: annotation file {base}.{annotator} belongs to record "
            f"{ann.record_name!r}"
        )
    samples = np.asarray(ann.sample, dtype=np.int64)
    if samples.size and samples.max() >= len(signal) + 1:
        raise RecordError(
            f"record {record}: annotation file {base}.{annotator} has annotations past the end "
            f"of the signal ({samples.max()} >= {len(signal)}); is it another record's?"
        )
    symbols = np.asarray(ann.symbol, dtype=str)
    check_annotations(record, f"{base}.{annotator}", signal, samples, symbols, record_fs)
    out = Record(record, signal, record_fs, lead_read, samples, symbols, signal2, name2)
    return out if fs is None else at_rate(out, fs)


def resample_signal(signal: np.ndarray, fs: float, fs_target: float) -> np.ndarray:
    """``signal`` resampled from ``fs`` to ``fs_target`` Hz (polyphase, float32)."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    ratio = Fraction(fs_target / fs).limit_denominator(1000)
    return resample_poly(signal, ratio.numerator, ratio.denominator).astype(np.float32)


def at_rate(record: Record, fs: float) -> Record:
    """``record`` (both leads) resampled to ``fs``, annotations moved with it; itself if it is
    already at ``fs``."""
    if abs(record.fs - fs) <= 1e-6:
        return record
    signal, samples = resample(record.signal, record.ann_sample, record.fs, fs, record.name)
    signal2 = None
    if record.signal2 is not None:
        signal2 = resample_signal(record.signal2, record.fs, fs)[: len(signal)]
    return dataclasses.replace(
        record, signal=signal, fs=float(fs), ann_sample=samples, signal2=signal2
    )


def resample(
    signal: np.ndarray,
    samples: np.ndarray,
    fs: float,
    fs_target: float,
    record: str = "(unnamed)",
) -> tuple[np.ndarray, np.ndarray]:
    """Resample ``signal`` from ``fs`` to ``fs_target`` and move annotation ``samples`` with it.

    Annotations that land outside the resampled signal are moved onto its first or last
    sample, with a warning naming ``record`` and the number moved.
    """
    out = resample_signal(signal, fs, fs_target)
    moved = np.round(np.asarray(samples) * (fs_target / fs)).astype(np.int64)
    outside = int(((moved < 0) | (moved >= len(out))).sum())
    if outside:
        log.warning(
            "record %s: %d annotations fall outside the signal resampled to %g Hz "
            "(%d samples): moved onto its first or last sample",
            record,
            outside,
            fs_target,
            len(out),
        )
    return out, np.clip(moved, 0, len(out) - 1)


def _np_load(path, mmap_mode=None):
    """``np.load`` that never unpickles: the package's one call of it."""
    return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)


def load_array(path: str | os.PathLike, mmap: bool = False) -> np.ndarray:
    """A plain ``.npy`` array, never unpickling; memory-mapped (read-only) with ``mmap``. A file
    that is not a readable ``.npy`` of plain values is a :class:`ValueError` naming it."""
    try:
        data = _np_load(path, "r" if mmap else None)
    except (OSError, EOFError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable .npy array of plain values: {exc}") from exc
    if not isinstance(data, np.ndarray):
        raise ValueError(f"{path}: not a .npy array")
    return data


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load an ``.npz`` of plain arrays, never unpickling.

    Object arrays (pickles, which can run code when loaded) are refused with a
    :class:`ValueError` saying so; a file that is not a readable ``.npz`` archive (truncated,
    corrupt, a bare ``.npy`` or pickle) is a :class:`ValueError` naming the file too.
    """
    import zipfile

    unreadable = (OSError, EOFError, zipfile.BadZipFile)

    def refused(exc: Exception) -> ValueError:
        if "pickle" in str(exc):
            return ValueError(
                f"{path}: refusing to load pickled (object) arrays; ecg2d files hold plain "
                "arrays only, so this file is damaged or not ecg2d's: delete it and rerun"
            )
        return ValueError(f"{path}: not a readable .npz file: {exc}")

    try:
        data = _np_load(path)
    except ValueError as exc:
        raise refused(exc) from exc
    except unreadable as exc:
        raise ValueError(f"{path}: not a readable .npz file: {exc}") from exc
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not an .npz archive (a bare array)")
    with data:
        try:
            return {key: data[key] for key in data.files}
        except ValueError as exc:
            raise refused(exc) from exc
        except unreadable as exc:
            raise ValueError(f"{path}: not a readable .npz file: {exc}") from exc


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
    remove_stale_temps(dest_dir / record)  # a download killed outright leaves its folder
    with tempfile.TemporaryDirectory(prefix=temp_prefix(dest_dir / record), dir=dest_dir) as tmp:
        wfdb.dl_files(f"{db}/{version}", tmp, files, keep_subdirs=False, overwrite=True)
        for name in files:
            verify_file(Path(tmp) / name, checksums)
        for name in files:
            os.replace(Path(tmp) / name, dest_dir / name)
