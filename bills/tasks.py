"""Celery tasks of the bills app: thin, retry-safe (each re-checks state in its service)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import OperationalError

from billing_project import clock
from bills.models import RunStatus
from bills.services.expiry import bills_expire_due
from bills.services.runs import billing_run_execute

CHUNKS_PER_TASK = 50


@shared_task(
    name="bills.expire_due_bills", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5
)
def expire_due_bills(*, batch_size: int = 1000) -> int:
    """Beat job: mark ACTIVE bills past their expiry EXPIRED."""
    return bills_expire_due(at=clock.now(), batch_size=batch_size)


@shared_task(
    bind=True,
    name="bills.execute_billing_run",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def execute_billing_run(self: Any, *, run_id: int, chunks_per_task: int = CHUNKS_PER_TASK) -> str:
    """Run (or resume) a bulk billing run; progress is committed per chunk.

    A worker does ``chunks_per_task`` chunks and queues the rest as a new task, so no task runs for hours (a
    broker would redeliver it) and a long run spreads over the workers. In-process (eager) it runs to the
    end. A run that fails on a business error is recorded FAILED by the service; the task returns its status.
    """
    run = billing_run_execute(run_id=run_id, max_chunks=None if self.request.is_eager else chunks_per_task)
    if run.status in (RunStatus.PENDING, RunStatus.RUNNING):
        execute_billing_run.delay(run_id=run_id, chunks_per_task=chunks_per_task)
    return str(run.status)
