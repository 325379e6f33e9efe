"""Celery task of the batch imports: thin and retry-safe (the service skips lines already recorded)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from billing_project import clock
from payments.imports.models import ImportStatus
from payments.imports.services import import_run_continue, import_run_execute, import_runs_resubmit_stale

ROWS_PER_TASK = 500


@shared_task(
    bind=True,
    name="payments.imports.execute_run",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=8,
)
def execute_run(self: Any, *, run_id: str, rows_per_task: int = ROWS_PER_TASK) -> str:
    """Execute (or resume) an import run. A worker does ``rows_per_task`` lines and queues the rest as a new task,
    so no task holds a worker for long (and a broker redelivery redoes little); in-process (eager) it runs to the
    end. The next task is submitted through the outbox (one per count of processed lines)."""
    run = import_run_execute(run_id=run_id, at=clock.now(), max_rows=None if self.request.is_eager else rows_per_task)
    if run.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        import_run_continue(run_id=run_id, rows_per_task=rows_per_task)
    return str(run.status)


@shared_task(name="payments.imports.resubmit_stale_runs", acks_late=True)
def resubmit_stale_runs() -> int:
    """Beat job (every minute): submit again the import runs whose task was lost (QUEUED or RUNNING without
    progress for ``JOB_RESUBMIT_AFTER_SECONDS``)."""
    return import_runs_resubmit_stale(at=clock.now())
