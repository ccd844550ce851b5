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


def coalesce_scheduler_reevaluations() -> bool:
    """Keep at most one of Snakemake's delayed scheduler re-runs pending; True if installed.

    Snakemake's job-rate limiter (``--max-jobs-per-timespan``, default 100 per second) starts a
    timer after every scheduling round, and the timer runs another round when it fires. Every
    round that a finished job triggers thus starts a chain of rounds, one per timespan, that
    lives for as long as some job is ready but waiting for cores; all chains re-evaluate every
    waiting job (parameters, resources, input sizes, the scheduling problem). After the few
    hundred short jobs of the data stages, while one experiment trains and the other waits,
    hundreds of chains kept the main process at about 75 % of a core (issue 11, snakemake#3955;
    ``bench/scheduler_wait.py``), and a non-daemon timer per chain held the finished process
    until it fired. One pending re-run does the same work: each round looks at every ready
    job, and the round it runs starts the next timer if jobs still wait (the pending mark is
    cleared before the timer releases the scheduler, so that round can always ask again).
    The timer is a daemon thread, so a finished run exits at once. A Snakemake without the
    method (a later version that changed it) is left alone.
    """
    import threading

    try:
        from snakemake.scheduling.job_scheduler import JobScheduler
    except ImportError:
        return False
    original = getattr(JobScheduler, "_schedule_reevalutation", None)
    if original is None or getattr(original, "coalesced", False):
        return original is not None

    lock = threading.Lock()

    def schedule_reevaluation(self, delay) -> None:
        with lock:
            if getattr(self, "_ecg2d_pending", False):
                return
            self._ecg2d_pending = True

        def fire() -> None:
            # Cleared before the release, so the round it runs can ask for the next one.
            with lock:
                self._ecg2d_pending = False
            self._open_jobs.release()

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        self._ecg2d_reevaluation = timer
        timer.start()

    schedule_reevaluation.coalesced = True
    JobScheduler._schedule_reevalutation = schedule_reevaluation
    return True
