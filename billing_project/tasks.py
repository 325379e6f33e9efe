"""Kernel Celery tasks."""

from __future__ import annotations

from celery import shared_task

from billing_project import clock
from billing_project.idempotency import idempotency_keys_purge


@shared_task(name="kernel.purge_idempotency_keys", acks_late=True)
def purge_idempotency_keys() -> int:
    """Beat job: forget idempotency keys older than their time to live."""
    return idempotency_keys_purge(at=clock.now())
