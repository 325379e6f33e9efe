"""Celery tasks of the bills app: thin, retry-safe (each re-checks state in its service)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from billing_project import clock
from bills.services.expiry import bills_expire_due
from bills.services.runs import billing_run_execute


@shared_task(
    name="bills.expire_due_bills", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5
)
def expire_due_bills(*, batch_size: int = 1000) -> int:
    """Beat job: mark ACTIVE bills past their expiry EXPIRED."""
    return bills_expire_due(at=clock.now(), batch_size=batch_size)


@shared_task(
    name="bills.execute_billing_run",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def execute_billing_run(*, run_id: int) -> str:
    """Run (or resume) a bulk billing run to its end; progress is committed per chunk."""
    return billing_run_execute(run_id=run_id).status
