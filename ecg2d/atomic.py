"""Atomic writes: every output is written to a hidden temporary sibling and renamed into place.

A job killed midway never leaves a file that looks finished, and the next write of the same
target removes what a dead job left (:func:`remove_stale_temps`).
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

#: Temporary siblings of a target ``name`` are ``.{name}.tmp-*``: hidden, and recognisable as
#: leftovers of an interrupted write.
TEMP_INFIX = ".tmp-"


def temp_prefix(target: str | os.PathLike) -> str:
    """Name prefix of the temporary siblings that :func:`atomic_path`/:func:`atomic_dir` use."""
    return f".{Path(target).name}{TEMP_INFIX}"


def remove_stale_temps(target: str | os.PathLike) -> list[Path]:
    """Delete leftovers of interrupted atomic writes of ``target``; return what was deleted.

    A job killed outright (SIGKILL, power loss) cannot clean up, so every atomic write first
    removes the temporary siblings of its target. Snakemake runs at most one job per output at
    a time (and locks the working directory), so any such sibling is a dead job's.
    """
    import glob
    import shutil

    target = Path(target)
    if not target.parent.is_dir():
        return []
    stale = sorted(target.parent.glob(f"{glob.escape(temp_prefix(target))}*"))
    for path in stale:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return stale


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None):
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success.

    The file gets the permissions of a plainly created file (``0666`` less the umask), not
    ``mkstemp``'s private ``0600``. Leftovers of earlier interrupted writes are removed first.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    fd, tmp = tempfile.mkstemp(
        prefix=temp_prefix(target), suffix=suffix or "".join(target.suffixes), dir=target.parent
    )
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(target: str | os.PathLike):
    """Yield a temporary directory beside ``target``; rename it onto ``target`` on success.

    The directory gets the permissions of a plainly created one (``0777`` less the umask), not
    ``mkdtemp``'s private ``0700``. Leftovers of earlier interrupted writes are removed first.
    """
    import shutil

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(target), dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def save_figure(fig, path, dpi: int = 100) -> None:
    """Save a matplotlib figure as PNG atomically (the caller closes it)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")


def write_csv(table, path) -> None:
    """Write a pandas table as CSV atomically, without its index, byte-for-byte reproducible."""
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")
