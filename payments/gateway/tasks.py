"""Celery tasks of the gateway integration: thin and retry-safe (every service re-checks state under a lock,
returns early when the work is done; ``acks_late``: a task lost with its worker is delivered again)."""

from __future__ import annotations

import dataclasses
from typing import Any

from billing_project import clock
from billing_project.tasks import retry_safe_task
from payments.gateway.services import (
    gateway_reconcile,
    gateway_transaction_poll,
    gateway_transactions_poll_due,
)


@retry_safe_task(name="payments.gateway.poll_due")
def poll_due(*, limit: int = 100) -> int:
    """Beat job: poll the open transactions whose next poll is due."""
    return gateway_transactions_poll_due(at=clock.now(), limit=limit)


@retry_safe_task(name="payments.gateway.poll_transaction")
def poll_transaction(*, transaction_id: str) -> str:
    """Poll one transaction now (admin "poll now", or after a lost answer); returns its status."""
    return str(gateway_transaction_poll(transaction_id=transaction_id, at=clock.now()).status)


@retry_safe_task(name="payments.gateway.reconcile")
def reconcile(*, limit: int = 500) -> dict[str, Any]:
    """Beat job: settle every unresolved transaction against the gateway; re-send lost refunds."""
    return dataclasses.asdict(gateway_reconcile(at=clock.now(), limit=limit))
