"""``gateway_verdict_apply``: THE one path that settles a gateway transaction (SUCCESS / FAILURE / PENDING).

Callback, poll, reconciliation, direct charge and the settlement import all call it. One durable transaction:
lock the transaction row (lock order: gateway transaction → then ``payment_record``'s own order: consumer
account → demands → bill → id sequence → payment), decide with the pure ``verdict_decide`` (a final state never
changes; stale and out-of-order verdicts are ignored; amount and gateway id must match), and on SUCCESS record
exactly one Payment through ``payment_validate`` + ``payment_record`` in the same transaction (a savepoint
around it). The Payment's transaction number is the gateway transaction id (unique per tenant) and
``GatewayTransaction.payment`` is one-to-one, so a verdict applied twice can never pay twice.

When the money was taken but the bill can no longer take it (paid at the counter meanwhile, expired, replaced
by a newer bill because a demand changed), the transaction still becomes SUCCESS — the gateway has the money —
with no Payment, ``needs_attention`` and reason UNAPPLIED: it waits in the reconciliation queue for a refund
(``gateway_refund``) or a manual payment of the consumer's new bill. Never a lost success, never a silent double
payment.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.db import IntegrityError, transaction

from billing_project.errors import DomainError, NotFound
from billing_project.uuids import uuid_or_404
from masters.access import Caller
from payments.gateway.domain.polling import poll_delay
from payments.gateway.domain.verdicts import (
    AMOUNT_MISMATCH,
    APPLIED,
    CONFLICTING_FINAL_VERDICT,
    CURRENCY_MISMATCH,
    DUPLICATE,
    FAILURE,
    GATEWAY_ID_MISMATCH,
    PENDING,
    REJECTED,
    STALE,
    SUCCESS,
    GatewayVerdict,
    VerdictOutcome,
    verdict_decide,
)
from payments.gateway.errors import GATEWAY_TRANSACTION_NOT_FOUND
from payments.gateway.models import AttentionReason, GatewayTransaction
from payments.gateway.services import config
from payments.models import PaymentMode
from payments.services import (
    PaymentDetailInput,
    PaymentInput,
    PaymentPlan,
    payment_integrity_error,
    payment_record,
    payment_validate,
)

logger = logging.getLogger(__name__)

# Where verdicts come from (GatewayTransaction.verdict_source).
SOURCE_CALLBACK = "CALLBACK"
SOURCE_POLL = "POLL"
SOURCE_RECONCILE = "RECONCILE"
SOURCE_INITIATE = "INITIATE"
SOURCE_CHARGE = "CHARGE"
SOURCE_SETTLEMENT = "SETTLEMENT"
SOURCES = frozenset({SOURCE_CALLBACK, SOURCE_POLL, SOURCE_RECONCILE, SOURCE_INITIATE, SOURCE_CHARGE, SOURCE_SETTLEMENT})

# Reasons that a settled transaction no longer has (they were about it being open).
OPEN_REASONS = frozenset({AttentionReason.POLLS_EXHAUSTED, AttentionReason.GATEWAY_UNREACHABLE})
REJECT_REASONS = {
    AMOUNT_MISMATCH: AttentionReason.AMOUNT_MISMATCH,
    CURRENCY_MISMATCH: AttentionReason.CURRENCY_MISMATCH,
    GATEWAY_ID_MISMATCH: AttentionReason.GATEWAY_ID_MISMATCH,
    CONFLICTING_FINAL_VERDICT: AttentionReason.CONFLICTING_FINAL_VERDICT,
}


def gateway_caller(gateway: str) -> Caller:
    """The system identity that records online payments (``created_by`` of their Payment)."""
    return Caller(user_id=None, username=f"gateway:{gateway}"[:150], is_superuser=True, roles=())


def transaction_key(transaction_id: uuid.UUID | str) -> uuid.UUID:
    return uuid_or_404(
        transaction_id, code=GATEWAY_TRANSACTION_NOT_FOUND, message=f"No gateway transaction {transaction_id}"
    )


def online_payment_input(txn: GatewayTransaction, *, transaction_number: str, at: dt.datetime) -> PaymentInput:
    """The counter-payment input an online payment of ``txn`` stands for (mode ONLINE)."""
    bill = txn.bill
    return PaymentInput(
        tenant_code=txn.tenant.code,
        payment_mode=PaymentMode.ONLINE,
        total_due=bill.total_amount,
        total_amount_paid=txn.amount,
        details=(
            PaymentDetailInput(
                bill_id=bill.pk,
                business_service=bill.business_service,
                total_due=bill.total_amount,
                total_amount_paid=txn.amount,
            ),
        ),
        paid_by=txn.payer_name,
        payer_name=txn.payer_name,
        payer_email=txn.payer_email,
        mobile_number=txn.payer_mobile,
        transaction_number=transaction_number,
        transaction_date=at,
        additional_details={
            "gateway": txn.gateway,
            "merchant_reference": txn.merchant_reference,
            "gateway_transaction_id": txn.gateway_transaction_id,
        },
    )


def gateway_verdict_apply(
    *, transaction_id: uuid.UUID | str, verdict: GatewayVerdict, source: str, at: dt.datetime
) -> VerdictOutcome:
    """Apply the gateway's word on a transaction; see the module docstring. Never raises for stale,
    duplicate or mismatching verdicts: the outcome says what happened."""
    key = transaction_key(transaction_id)
    with transaction.atomic(durable=True):
        rows = list(GatewayTransaction.objects.select_for_update().filter(pk=key))
        if not rows:
            raise NotFound(GATEWAY_TRANSACTION_NOT_FOUND, f"No gateway transaction {transaction_id}")
        return _apply_locked(rows[0], verdict, source, at)


def _flag(txn: GatewayTransaction, reason: str, note: str) -> None:
    txn.needs_attention = True
    txn.attention_reason = reason
    txn.attention_note = note[:4000]


def _apply_locked(txn: GatewayTransaction, verdict: GatewayVerdict, source: str, at: dt.datetime) -> VerdictOutcome:
    decision = verdict_decide(
        current_status=txn.status,
        last_sequence=txn.last_sequence,
        gateway_transaction_id=txn.gateway_transaction_id,
        amount=txn.amount,
        currency=txn.currency,
        verdict=verdict,
    )
    if decision.result == REJECTED:
        reason = REJECT_REASONS.get(decision.reason)
        if reason is not None:
            _flag(
                txn,
                reason,
                f"{source} at {at.isoformat()}: the gateway said {verdict.status} for "
                f"{verdict.gateway_transaction_id or '-'} amount {verdict.amount} {verdict.currency or '-'}; we "
                f"hold {txn.status} for {txn.gateway_transaction_id or '-'} amount {txn.amount} {txn.currency}",
            )
        txn.updated_at = at
        txn.save()
        logger.warning("gateway verdict rejected", extra={"transaction": str(txn.pk), "reason": decision.reason})
        return _outcome(txn, REJECTED, decision.reason)
    if verdict.sequence is not None and verdict.sequence > txn.last_sequence:
        txn.last_sequence = verdict.sequence
    if not txn.gateway_transaction_id and verdict.gateway_transaction_id:
        txn.gateway_transaction_id = verdict.gateway_transaction_id
    if decision.result in (DUPLICATE, STALE):
        txn.updated_at = at
        txn.save()
        return _outcome(txn, decision.result, decision.reason)
    if verdict.status == PENDING:
        txn.mark_pending()
        txn.next_poll_at = at + poll_delay(config.poll_schedule(), txn.poll_count)
    elif verdict.status == FAILURE:
        txn.mark_failure()
        txn.failure_code = verdict.failure_code[:64] or "failed"
        txn.decline_type = verdict.decline
        _settle(txn, source, at)
    else:
        assert verdict.status == SUCCESS
        txn.mark_success()
        txn.failure_code, txn.decline_type = "", ""
        _settle(txn, source, at)
        _record_payment(txn, at)
    txn.updated_at = at
    txn.save()
    return _outcome(txn, APPLIED, verdict.status)


def _settle(txn: GatewayTransaction, source: str, at: dt.datetime) -> None:
    txn.verdict_source = source
    txn.settled_at = at
    txn.next_poll_at = None
    if txn.attention_reason in OPEN_REASONS:
        txn.needs_attention, txn.attention_reason, txn.attention_note = False, "", ""


def _record_payment(txn: GatewayTransaction, at: dt.datetime) -> None:
    """The Payment of a SUCCESS, in a savepoint: a refusal leaves the transaction SUCCESS and UNAPPLIED."""
    caller = gateway_caller(txn.gateway)
    payment_input = online_payment_input(
        txn, transaction_number=txn.gateway_transaction_id or txn.merchant_reference, at=at
    )
    plan: PaymentPlan | None = None
    try:
        with transaction.atomic(savepoint=True):  # undoes only the payment when it is refused
            plan = payment_validate(caller=caller, payment=payment_input, at=at)
            txn.payment = payment_record(caller=caller, plan=plan, at=at)
    except DomainError as exc:
        _flag(txn, AttentionReason.UNAPPLIED, f"{exc.code}: {exc.message}")
    except IntegrityError as exc:
        error = payment_integrity_error(exc, plan) if plan is not None else exc
        if not isinstance(error, DomainError):
            raise
        _flag(txn, AttentionReason.UNAPPLIED, f"{error.code}: {error.message}")


def _outcome(txn: GatewayTransaction, result: str, reason: str) -> VerdictOutcome:
    return VerdictOutcome(
        result=result,  # type: ignore[arg-type]
        reason=reason,
        status=str(txn.status),
        payment_id=str(txn.payment_id) if txn.payment_id else None,
        needs_attention=txn.needs_attention,
    )
