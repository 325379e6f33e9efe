"""Asking the gateway about open transactions: the scheduled poll and the reconciliation.

``gateway_transaction_poll`` looks one transaction up (by its gateway id, or by our merchant_reference when its
creation answer was lost), applies the answer through ``gateway_verdict_apply`` and schedules the next poll.
``gateway_transactions_poll_due`` polls the due ones (the beat job). ``gateway_transaction_reconcile`` reconciles
one transaction a person chose (the admin's "reconcile now": BILLING_ADMIN of its tenant, or a superuser; its
own lost refunds are re-sent too). ``gateway_reconcile`` asks about every
transaction still unresolved — whatever its schedule, also those already in the queue — and settles what the
gateway has settled; a transaction the gateway knows nothing of after the INITIATED grace period never reached
it: FAILURE (``never_reached_gateway``); a hosted checkout the gateway still holds open past
``PAYMENT_GATEWAY_CHECKOUT_ABANDONED_AFTER_SECONDS`` was abandoned by the payer: FAILURE (``abandoned``). Each run
asks first about the transactions it never asked about, then the longest-unasked (``last_reconciled_at``), so
that it never re-asks the same oldest ``limit`` forever. It also re-sends refunds whose answer was lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from django.db import transaction

from billing_project.errors import DomainError
from masters.access import Caller, require_role
from masters.models import Role
from payments.gateway.adapters import adapter_for
from payments.gateway.adapters.base import GatewayError, GatewayNotFound, TransactionInfo, TransientGatewayError
from payments.gateway.domain.verdicts import FAILURE, GatewayVerdict
from payments.gateway.models import (
    AttemptKind,
    GatewayRefund,
    GatewayTransaction,
    RefundStatus,
    TransactionKind,
    TransactionStatus,
)
from payments.gateway.selectors import (
    gateway_transaction_get,
    transactions_due_for_poll,
    transactions_to_reconcile,
)
from payments.gateway.services import config
from payments.gateway.services.calls import gateway_call
from payments.gateway.services.initiate import info_store
from payments.gateway.services.refund import gateway_refund_send
from payments.gateway.services.schedule import flag_lost, schedule_after_poll, schedule_after_transient
from payments.gateway.services.verdict import SOURCE_POLL, SOURCE_RECONCILE, gateway_verdict_apply, transaction_key

logger = logging.getLogger(__name__)

NEVER_REACHED_GATEWAY = "never_reached_gateway"
RECONCILE_ROLES = (Role.BILLING_ADMIN,)
ABANDONED = "abandoned"
# While one worker polls a transaction, others skip it: its next poll is pushed this far ahead first.
POLL_LEASE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class ReconcileReport:
    checked: int
    settled: int
    still_open: int
    errors: int
    refunds_resent: int


def _lookup(txn: GatewayTransaction, at: dt.datetime) -> TransactionInfo | None:
    """What the gateway holds for ``txn``; None when it holds nothing. Raises TransientGatewayError."""
    adapter = adapter_for(txn.gateway)
    if txn.gateway_transaction_id:
        gateway_id = txn.gateway_transaction_id
        try:
            return gateway_call(
                txn=txn,
                kind=AttemptKind.STATUS,
                summary={"gateway_transaction_id": gateway_id},
                call=lambda: adapter.status(gateway_id),
                at=at,
            )
        except GatewayNotFound:
            pass  # fall through: look it up by our reference
    return gateway_call(
        txn=txn,
        kind=AttemptKind.FIND,
        summary={"merchant_reference": txn.merchant_reference},
        call=lambda: adapter.find_by_reference(txn.merchant_reference),
        at=at,
    )


def _check(txn: GatewayTransaction, *, source: str, at: dt.datetime) -> bool:
    """Ask the gateway about an open transaction and apply the answer; True when it is final afterwards."""
    try:
        info = _lookup(txn, at)
    except TransientGatewayError as exc:
        schedule_after_transient(transaction_id=txn.pk, error=exc.message, at=at, to_unknown=False)
        return False
    except GatewayError as exc:  # a refusal of a lookup: our configuration is wrong; keep trying later
        schedule_after_transient(transaction_id=txn.pk, error=exc.message, at=at, to_unknown=False)
        return False
    if info is None:
        if txn.created_at <= at - config.initiated_grace():
            if txn.gateway_transaction_id:
                flag_lost(
                    transaction_id=txn.pk,
                    note=f"the gateway answers 404 for {txn.gateway_transaction_id} and nothing for "
                    f"{txn.merchant_reference}",
                    at=at,
                )
                return False
            outcome = gateway_verdict_apply(
                transaction_id=txn.pk,
                verdict=GatewayVerdict(
                    status=FAILURE, amount=None, gateway_transaction_id="", failure_code=NEVER_REACHED_GATEWAY
                ),
                source=source,
                at=at,
            )
            return outcome.status in (TransactionStatus.SUCCESS, TransactionStatus.FAILURE)
        schedule_after_poll(transaction_id=txn.pk, at=at)
        return False
    outcome = info_store(transaction_id=txn.pk, info=info, source=source, at=at)
    if outcome.status in (TransactionStatus.SUCCESS, TransactionStatus.FAILURE):
        return True
    if txn.kind == TransactionKind.CHECKOUT and txn.created_at <= at - config.checkout_abandoned_after():
        # Still open at the gateway past the horizon: the payer abandoned the checkout. A later SUCCESS from the
        # gateway is then refused as CONFLICTING_FINAL_VERDICT and queued (never a lost success).
        closed = gateway_verdict_apply(
            transaction_id=txn.pk,
            verdict=GatewayVerdict(status=FAILURE, amount=None, gateway_transaction_id="", failure_code=ABANDONED),
            source=source,
            at=at,
        )
        if closed.status == TransactionStatus.FAILURE:
            return True
    schedule_after_poll(transaction_id=txn.pk, at=at)
    return False


def gateway_transaction_poll(*, transaction_id: uuid.UUID | str, at: dt.datetime) -> GatewayTransaction:
    """Poll one transaction (no-op when it is final, or INITIATED within its grace period: its initiate call
    may still be running). Returns it as stored afterwards."""
    txn = gateway_transaction_get(transaction_key(transaction_id))
    if txn.is_final:
        return txn
    if txn.status == TransactionStatus.INITIATED and txn.created_at > at - config.initiated_grace():
        return txn
    _check(txn, source=SOURCE_POLL, at=at)
    return gateway_transaction_get(txn.pk)


def _stamp_reconciled(transaction_id: uuid.UUID, at: dt.datetime) -> None:
    """Asked about now: the next reconciliation run asks the others first."""
    with transaction.atomic(durable=True):
        GatewayTransaction.objects.filter(pk=transaction_id).update(last_reconciled_at=at)


def gateway_transaction_reconcile(
    *, caller: Caller, transaction_id: uuid.UUID | str, at: dt.datetime
) -> GatewayTransaction:
    """Reconcile ONE transaction now, for a person (the admin's "reconcile now" on the selected rows; never the
    whole job inside a request). BILLING_ADMIN of its tenant (or a superuser), re-checked here for each row.
    An unresolved transaction (PENDING, UNKNOWN, INITIATED past the grace) is asked about exactly as the
    reconciler does (source RECONCILE); its own REQUESTED refunds are re-sent. Returns it as stored afterwards."""
    txn = gateway_transaction_get(transaction_key(transaction_id))
    require_role(caller, txn.tenant.code, RECONCILE_ROLES, "reconcile this online payment")
    in_grace = txn.status == TransactionStatus.INITIATED and txn.created_at > at - config.initiated_grace()
    if not txn.is_final and not in_grace:
        _stamp_reconciled(txn.pk, at)
        _check(txn, source=SOURCE_RECONCILE, at=at)
    for refund_id in (
        GatewayRefund.objects.filter(transaction_id=txn.pk, status=RefundStatus.REQUESTED)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    ):
        gateway_refund_send(refund_id=refund_id, at=at)
    return gateway_transaction_get(txn.pk)


def _claim(transaction_id: uuid.UUID, at: dt.datetime) -> bool:
    """Push the next poll ahead (a lease), so a concurrent poller skips it; False when someone else has."""
    with transaction.atomic(durable=True):
        return bool(
            GatewayTransaction.objects.filter(pk=transaction_id, next_poll_at__lte=at).update(
                next_poll_at=at + POLL_LEASE
            )
        )


def gateway_transactions_poll_due(*, at: dt.datetime, limit: int = 100) -> int:
    """Poll up to ``limit`` open transactions whose next poll is due; returns how many were polled."""
    polled = 0
    for transaction_id in transactions_due_for_poll(at=at, limit=limit):
        if not _claim(transaction_id, at):
            continue
        try:
            gateway_transaction_poll(transaction_id=transaction_id, at=at)
        except DomainError:
            logger.exception("gateway poll failed", extra={"transaction": str(transaction_id)})
        polled += 1
    return polled


def gateway_reconcile(*, at: dt.datetime, limit: int = 500) -> ReconcileReport:
    """Settle every unresolved transaction against the gateway's answer; re-send refunds whose answer was
    lost. Safe to run any time and concurrently (every write re-checks under a lock)."""
    checked = settled = still_open = errors = 0
    for transaction_id in transactions_to_reconcile(at=at, grace=config.initiated_grace(), limit=limit):
        txn = GatewayTransaction.objects.filter(pk=transaction_id).first()
        if txn is None or txn.is_final:
            continue
        _stamp_reconciled(transaction_id, at)
        checked += 1
        try:
            if _check(txn, source=SOURCE_RECONCILE, at=at):
                settled += 1
            else:
                still_open += 1
        except DomainError:
            errors += 1
            logger.exception("gateway reconciliation failed", extra={"transaction": str(transaction_id)})
    resent = 0
    for refund_id in (
        GatewayRefund.objects.filter(status=RefundStatus.REQUESTED)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    ):
        gateway_refund_send(refund_id=refund_id, at=at)
        resent += 1
    return ReconcileReport(
        checked=checked, settled=settled, still_open=still_open, errors=errors, refunds_resent=resent
    )
