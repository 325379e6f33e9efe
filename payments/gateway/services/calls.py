"""Every call to a gateway goes through ``gateway_call``: retried in place on transient errors (bounded,
exponential, jittered; same idempotency key), one ``GatewayAttempt`` row per call, never inside a database
transaction (the attempt rows are written in autocommit after each call)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import F

from payments.gateway.adapters.base import GatewayError, GatewayNotFound
from payments.gateway.domain.retry import backoff_delay, retry_allowed
from payments.gateway.models import AttemptOutcome, GatewayAttempt, GatewayTransaction
from payments.gateway.services import config

T = TypeVar("T")


def _outcome_of(value: Any) -> tuple[str, int | None, str]:
    if value is None:
        return AttemptOutcome.NOT_FOUND, 200, ""
    return AttemptOutcome.OK, getattr(value, "http_status", None), str(getattr(value, "raw_status", "") or "")


def _record(
    transaction_id: Any,
    *,
    kind: str,
    summary: dict[str, Any],
    outcome: str,
    http_status: int | None,
    gateway_status: str,
    error: str,
    started: float,
    at: dt.datetime,
) -> None:
    with transaction.atomic(durable=True):
        GatewayAttempt.objects.create(
            transaction_id=transaction_id,
            kind=kind,
            request_summary=summary,
            http_status=http_status,
            outcome=outcome,
            gateway_status=gateway_status[:16],
            error=error[:2000],
            duration_ms=max(0, int((time.monotonic() - started) * 1000)),
            at=at,
        )
        GatewayTransaction.objects.filter(pk=transaction_id).update(attempt_count=F("attempt_count") + 1)


class CallInsideTransaction(RuntimeError):
    """A gateway call was attempted inside a database transaction (DESIGN rule 8): a programming error."""


def _inside_transaction() -> bool:
    """True inside an atomic block of our code (a test case's wrapping transaction does not count)."""
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def gateway_call(
    *, txn: GatewayTransaction, kind: str, summary: dict[str, Any], call: Callable[[], T], at: dt.datetime
) -> T:
    """Run ``call`` (an adapter method bound to its request), retrying transient errors per
    ``PAYMENT_GATEWAY_CALL_ATTEMPTS``; every call is recorded. Raises the last ``GatewayError``."""
    if _inside_transaction():
        raise CallInsideTransaction(f"gateway call {kind} for {txn.pk} inside a database transaction")
    policy = config.call_retry_policy()
    failures = 0
    while True:
        started = time.monotonic()
        try:
            value = call()
        except GatewayError as exc:
            failures += 1
            outcome: str
            if isinstance(exc, GatewayNotFound):
                outcome = AttemptOutcome.NOT_FOUND
            else:
                outcome = AttemptOutcome.TRANSIENT if exc.transient else AttemptOutcome.PERMANENT
            _record(
                txn.pk,
                kind=kind,
                summary=summary,
                outcome=outcome,
                http_status=exc.http_status,
                gateway_status="",
                error=exc.message,
                started=started,
                at=at,
            )
            if exc.transient and retry_allowed(policy, failures):
                config.sleep(backoff_delay(policy, failures, config.jitter_source))
                continue
            raise
        outcome, http_status, gateway_status = _outcome_of(value)
        _record(
            txn.pk,
            kind=kind,
            summary=summary,
            outcome=outcome,
            http_status=http_status,
            gateway_status=gateway_status,
            error="",
            started=started,
            at=at,
        )
        return value
