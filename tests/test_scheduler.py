"""The workflow's fix for Snakemake's scheduler re-runs (issue 11): one pending timer, not a
chain per finished job, so the main process stays idle while a job waits for cores."""

from __future__ import annotations

import threading
import time

from snakemake.scheduling.job_scheduler import JobScheduler

from ecg2d.workflow import coalesce_scheduler_reevaluations
from tests.conftest import REPO


def releases(scheduler, calls: int, delay: float = 0.05) -> int:
    """How often the semaphore was released after ``calls`` re-runs were asked for."""
    scheduler._open_jobs = threading.Semaphore(0)
    for _ in range(calls):
        scheduler._schedule_reevalutation(delay)
    time.sleep(delay + 0.5)
    count = 0
    while scheduler._open_jobs.acquire(blocking=False):
        count += 1
    return count


def test_snakemake_chains_one_rerun_per_round_and_the_fix_keeps_one():
    original = JobScheduler._schedule_reevalutation
    scheduler = object.__new__(JobScheduler)
    try:
        if not getattr(original, "coalesced", False):
            # Snakemake as pinned: every request starts its own timer (the chains).
            assert releases(scheduler, 5) == 5
        assert coalesce_scheduler_reevaluations()
        assert coalesce_scheduler_reevaluations()  # idempotent
        assert releases(scheduler, 5) == 1
        # once the pending timer has fired, the next request starts a new one
        assert releases(scheduler, 3) == 1
        assert scheduler._ecg2d_reevaluation.daemon
    finally:
        JobScheduler._schedule_reevalutation = original


def test_the_workflow_installs_it():
    assert "coalesce_scheduler_reevaluations()" in (REPO / "rules" / "common.smk").read_text()


def test_the_round_a_timer_runs_can_always_ask_for_the_next():
    """The rate limiter relies on it: a round that finds no free slot asks for a re-run; the
    re-run's own round must be able to ask again, or the run would stall."""
    original = JobScheduler._schedule_reevalutation
    scheduler = object.__new__(JobScheduler)
    rounds = []

    class Scheduler:
        def release(self):  # the scheduler's round: asks for the next re-run, three times
            rounds.append(len(rounds))
            if len(rounds) < 3:
                scheduler._schedule_reevalutation(0.01)

    try:
        assert coalesce_scheduler_reevaluations()
        scheduler._open_jobs = Scheduler()
        scheduler._schedule_reevalutation(0.01)
        time.sleep(0.5)
        assert rounds == [0, 1, 2]
    finally:
        JobScheduler._schedule_reevalutation = original
