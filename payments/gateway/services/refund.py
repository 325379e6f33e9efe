"""Refunds of successful online payments.

``gateway_refund`` checks and commits a REQUESTED ``GatewayRefund`` (its reference ``RFD-<id hex>`` is the
idempotency key), then calls the gateway outside the transaction (``gateway_refund_send``). A transient failure
leaves it REQUESTED: the reconciler re-sends it with the same key, so the gateway refunds once. A refusal makes
it FAILED and queues the transaction (REFUND_FAILED).

Only money that is not (or no longer) applied to a bill is refunded: the transaction has no Payment (UNAPPLIED)
or its Payment was cancelled first (``payment_cancel`` undoes the write-back to the demands). Refunding an
applied payment directly would leave the demands paid with money given back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from billing_project.errors import ConflictError, DomainError, NotFound
from billing_project.money import ZERO, MoneyError, exact_money, to_money
from masters.access import Caller, require_role
from masters.models import Role
from payments.gateway.adapters import adapter_for
from payments.gateway.adapters.base import PermanentGatewayError, RefundRequest, TransientGatewayError
from payments.gateway.errors import (
    GATEWAY_REFUND_AMOUNT_INVALID,
    GATEWAY_REFUND_NOT_ALLOWED,
    GATEWAY_REFUND_PAYMENT_ACTIVE,
    GATEWAY_REFUND_REASON_REQUIRED,
    GATEWAY_TRANSACTION_NOT_FOUND,
)
from payments.gateway.models import (
    AttemptKind,
    AttentionReason,
    GatewayRefund,
    GatewayTransaction,
    RefundStatus,
    TransactionStatus,
)
from payments.gateway.services.calls import gateway_call
from payments.gateway.services.verdict import transaction_key
from payments.models import PaymentStatus

REFUND_ROLES = (Role.BILLING_ADMIN,)


def _refund_amount(value: Decimal | None, remaining: Decimal) -> Decimal:
    if value is None:
        return remaining
    try:
        amount: Decimal | None = exact_money(value, column=False)
    except MoneyError:
        amount = None
    if amount is None or amount <= ZERO:
        raise DomainError(GATEWAY_REFUND_AMOUNT_INVALID, f"Invalid refund amount {value}")
    if amount > remaining:
        raise DomainError(
            GATEWAY_REFUND_AMOUNT_INVALID, f"Refund {amount} exceeds what is left to refund ({remaining})"
        )
    return amount


def gateway_refund(
    *,
    caller: Caller,
    transaction_id: uuid.UUID | str,
    reason: str,
    at: dt.datetime,
    amount: Decimal | None = None,
) -> GatewayRefund:
    """Refund ``amount`` (default: all that is left) of a SUCCESS transaction whose money is not applied."""
    key = transaction_key(transaction_id)
    if not reason.strip():
        raise DomainError(GATEWAY_REFUND_REASON_REQUIRED, "A refund needs a reason", fields={"reason": ["required"]})
    with transaction.atomic(durable=True):
        rows = list(
            GatewayTransaction.objects.select_for_update(of=("self",))
            .select_related("tenant", "payment")
            .filter(pk=key)
        )
        if not rows:
            raise NotFound(GATEWAY_TRANSACTION_NOT_FOUND, f"No gateway transaction {transaction_id}")
        txn = rows[0]
        require_role(caller, txn.tenant.code, REFUND_ROLES, "refund online payments")
        if txn.status != TransactionStatus.SUCCESS:
            raise ConflictError(
                GATEWAY_REFUND_NOT_ALLOWED,
                f"Only a SUCCESS transaction can be refunded; {txn.merchant_reference} is {txn.status}",
            )
        if txn.payment is not None and txn.payment.status != PaymentStatus.CANCELLED:
            raise ConflictError(
                GATEWAY_REFUND_PAYMENT_ACTIVE,
                f"The money of {txn.merchant_reference} is applied as payment {txn.payment_id}: cancel that "
                "payment first",
            )
        taken = (
            GatewayRefund.objects.filter(
                transaction=txn, status__in=[RefundStatus.REQUESTED, RefundStatus.SUCCESS]
            ).aggregate(total=Sum("amount"))["total"]
            or ZERO
        )
        refund_amount = _refund_amount(amount, to_money(txn.amount - taken))
        if refund_amount <= ZERO:
            raise ConflictError(GATEWAY_REFUND_NOT_ALLOWED, f"{txn.merchant_reference} is already refunded in full")
        refund_id = uuid.uuid4()
        refund = GatewayRefund.objects.create(
            id=refund_id,
            transaction=txn,
            reference=f"RFD-{refund_id.hex}",
            amount=refund_amount,
            reason=reason.strip(),
            requested_by=caller.username,
            created_at=at,
            updated_at=at,
        )
    return gateway_refund_send(refund_id=refund.pk, at=at)


def gateway_refund_send(*, refund_id: uuid.UUID, at: dt.datetime) -> GatewayRefund:
    """Send a REQUESTED refund (again) with its own reference as the idempotency key; store the answer."""
    refund = GatewayRefund.objects.select_related("transaction").get(pk=refund_id)
    if refund.status != RefundStatus.REQUESTED:
        return refund
    txn = refund.transaction
    adapter = adapter_for(txn.gateway)
    try:
        info = gateway_call(
            txn=txn,
            kind=AttemptKind.REFUND,
            summary={"refund": refund.reference, "amount": str(refund.amount)},
            call=lambda: adapter.refund(
                RefundRequest(
                    gateway_transaction_id=txn.gateway_transaction_id or "",
                    amount=refund.amount,
                    reason=refund.reason,
                    idempotency_key=refund.reference,
                )
            ),
            at=at,
        )
    except TransientGatewayError as exc:
        GatewayRefund.objects.filter(pk=refund.pk, status=RefundStatus.REQUESTED).update(
            error=exc.message[:2000], updated_at=at
        )
        return GatewayRefund.objects.get(pk=refund.pk)
    except PermanentGatewayError as exc:
        with transaction.atomic(durable=True):
            txn = GatewayTransaction.objects.select_for_update().get(pk=txn.pk)
            updated = GatewayRefund.objects.filter(pk=refund.pk, status=RefundStatus.REQUESTED).update(
                status=RefundStatus.FAILED, error=exc.message[:2000], updated_at=at
            )
            if updated:
                txn.needs_attention = True
                txn.attention_reason = AttentionReason.REFUND_FAILED
                txn.attention_note = f"refund {refund.reference} refused: {exc.message}"[:4000]
                txn.updated_at = at
                txn.save()
        return GatewayRefund.objects.get(pk=refund.pk)
    with transaction.atomic(durable=True):
        txn = GatewayTransaction.objects.select_for_update().get(pk=txn.pk)
        updated = GatewayRefund.objects.filter(pk=refund.pk, status=RefundStatus.REQUESTED).update(
            status=RefundStatus.SUCCESS, gateway_refund_id=info.refund_id[:128], error="", updated_at=at
        )
        if updated:
            txn.refunded_amount = to_money(txn.refunded_amount + refund.amount)
            if txn.attention_reason == AttentionReason.UNAPPLIED and txn.refunded_amount == txn.amount:
                txn.needs_attention, txn.attention_reason = False, ""
                txn.attention_note = f"refunded in full ({refund.reference})"
            txn.updated_at = at
            txn.save()
    return GatewayRefund.objects.get(pk=refund.pk)
