"""Reads of gateway transactions: one with its history, the caller's visible ones, the due and open ones."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import F, Prefetch, Q, QuerySet

from billing_project.errors import NotFound
from billing_project.uuids import uuid_or_404
from masters.access import Caller
from payments.gateway.errors import GATEWAY_TRANSACTION_NOT_FOUND
from payments.gateway.models import (
    OPEN_STATUSES,
    GatewayAttempt,
    GatewayCallback,
    GatewayRefund,
    GatewayTransaction,
    TransactionStatus,
)
from payments.selectors import PAYMENT_ROLES


def transactions_with_history() -> QuerySet[GatewayTransaction]:
    return GatewayTransaction.objects.select_related("tenant", "bill", "payment").prefetch_related(
        Prefetch("attempts", queryset=GatewayAttempt.objects.order_by("at", "pk")),
        Prefetch("refunds", queryset=GatewayRefund.objects.order_by("created_at", "pk")),
    )


def gateway_transaction_get(transaction_id: uuid.UUID | str) -> GatewayTransaction:
    key = uuid_or_404(
        transaction_id, code=GATEWAY_TRANSACTION_NOT_FOUND, message=f"No gateway transaction {transaction_id}"
    )
    txn = transactions_with_history().filter(pk=key).first()
    if txn is None:
        raise NotFound(GATEWAY_TRANSACTION_NOT_FOUND, f"No gateway transaction {transaction_id}")
    return txn


def gateway_transaction_by_reference(merchant_reference: str) -> GatewayTransaction | None:
    return transactions_with_history().filter(merchant_reference=merchant_reference).first()


def gateway_transactions_visible_to(caller: Caller) -> QuerySet[GatewayTransaction]:
    """Transactions of the tenants where the caller holds a payment role (superusers: all)."""
    return transactions_with_history().filter(caller.tenant_q("tenant__code", PAYMENT_ROLES))


def transactions_due_for_poll(*, at: dt.datetime, limit: int) -> list[uuid.UUID]:
    return list(
        GatewayTransaction.objects.filter(status__in=OPEN_STATUSES, next_poll_at__lte=at)
        .order_by("next_poll_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def transactions_to_reconcile(*, at: dt.datetime, grace: dt.timedelta, limit: int) -> list[uuid.UUID]:
    """Every transaction still unresolved: PENDING, UNKNOWN, and INITIATED past the grace period — the ones the
    reconciler never asked about first, then the longest-unasked (so that a run is never stuck on the same
    oldest ``limit`` rows: each run stamps ``last_reconciled_at`` on those it asks about)."""
    query = Q(status__in=[TransactionStatus.PENDING, TransactionStatus.UNKNOWN]) | Q(
        status=TransactionStatus.INITIATED, created_at__lte=at - grace
    )
    return list(
        GatewayTransaction.objects.filter(query)
        .order_by(F("last_reconciled_at").asc(nulls_first=True), "created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def callbacks_of(transaction_id: uuid.UUID) -> QuerySet[GatewayCallback]:
    return GatewayCallback.objects.filter(transaction_id=transaction_id).order_by("received_at", "pk")
