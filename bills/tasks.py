"""Celery tasks of the bills app: thin, retry-safe (each re-checks state in its service)."""

from __future__ import annotations

from typing import Any

from billing_project import clock
from billing_project.tasks import retry_safe_bound_task, retry_safe_task
from bills.models import RunStatus
from bills.services import billing_run_continue, billing_run_execute, billing_runs_resubmit_stale, bills_expire_due

CHUNKS_PER_TASK = 50


@retry_safe_task(name="bills.expire_due_bills")
def expire_due_bills(*, batch_size: int = 1000) -> int:
    """Beat job: mark ACTIVE bills past their expiry EXPIRED."""
    return bills_expire_due(at=clock.now(), batch_size=batch_size)


@retry_safe_bound_task(name="bills.execute_billing_run")
def execute_billing_run(self: Any, *, run_id: int, chunks_per_task: int = CHUNKS_PER_TASK) -> str:
    """Run (or resume) a bulk billing run; progress is committed per chunk.

    A worker does ``chunks_per_task`` chunks and queues the rest as a new task, so no task runs for hours (a
    broker would redeliver it) and a long run spreads over the workers. In-process (eager) it runs to the
    end. The next task is submitted through the outbox, one per cursor position (a task delivered twice does
    not start a second chain). A run that fails on a business error is recorded FAILED by the service; the task
    returns its status.
    """
    run = billing_run_execute(run_id=run_id, max_chunks=None if self.request.is_eager else chunks_per_task)
    if run.status in (RunStatus.PENDING, RunStatus.RUNNING):
        billing_run_continue(run_id=run_id, chunks_per_task=chunks_per_task)
    return str(run.status)


@retry_safe_task(name="bills.resubmit_stale_runs")
def resubmit_stale_runs() -> int:
    """Beat job (every minute): submit again the runs whose task was lost (PENDING or RUNNING without progress
    for ``JOB_RESUBMIT_AFTER_SECONDS``)."""
    return billing_runs_resubmit_stale(at=clock.now())
