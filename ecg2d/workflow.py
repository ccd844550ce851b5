"""Glue between Snakemake ``script:`` jobs and the ecg2d package."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def job(snakemake):
    """Set up logging to the job's log file (and stderr) and report failures in one line.

    Any exception is logged with its traceback to the log file, its message alone goes to
    stderr as ``ecg2d error: ...``, and the job exits non-zero.
    """
    log_file = snakemake.log[0] if snakemake.log else None
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        handlers=handlers,
        force=True,
    )
    log = logging.getLogger(f"ecg2d.{snakemake.rule}")
    try:
        yield log
    except Exception as exc:
        log.debug("traceback", exc_info=True)
        if log_file:
            with open(log_file, "a") as handle:
                import traceback

                traceback.print_exc(file=handle)
        print(f"ecg2d error in rule {snakemake.rule}: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
