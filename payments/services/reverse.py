"""Cancelling and dishonouring a payment: its write-back is undone exactly (reference §7.8.1 step 4, §7.9).

Both run one durable transaction with the locks of ``payment_create`` (accounts → demands → bills → payment),
re-check the payment's status under the payment lock, subtract exactly the stored ``PaymentApplication``
deltas from the demand details, recompute the demands' completion, bump the accounts' revision, append
history (PAYMENT_REVERSAL), mark the paid bills CANCELLED with their paid amounts cleared, and record
``PaymentWriteBack(REVERSE)``. The next ``bill_fetch`` builds a bill for the restored dues.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction

from billing_project.errors import ConflictError, DomainError
from billing_project.money import ZERO
from bills.models import Bill, BillAccountDetail, BillDetail, BillStatus
from masters.access import Caller, require_role
from payments.errors import (
    PAYMENT_ALREADY_REVERSED,
    PAYMENT_NOT_DISHONOURABLE,
    PAYMENT_REASON_REQUIRED,
)
from payments.models import InstrumentStatus, Payment, PaymentStatus
from payments.selectors import PAYMENT_ROLES, bills_of_payment, payment_get, payments_with_details
from payments.services.hooks import payment_reversed
from payments.services.locking import Locked, lock_for_bills
from payments.services.validation import INSTRUMENT_MODES
from payments.services.writeback import writeback_reverse

REVERSED_STATUSES = (PaymentStatus.CANCELLED, PaymentStatus.DISHONOURED)


def payment_cancel(*, caller: Caller, payment_id: uuid.UUID | str, reason: str, at: dt.datetime) -> Payment:
    """Cancel a payment (receipt cancellation): undo its write-back; the payment and instrument become CANCELLED."""
    return _reverse(
        caller=caller,
        payment_id=payment_id,
        reason=reason,
        at=at,
        status=PaymentStatus.CANCELLED,
        instrument_status=InstrumentStatus.CANCELLED,
    )


def payment_dishonour(*, caller: Caller, payment_id: uuid.UUID | str, reason: str, at: dt.datetime) -> Payment:
    """Record that the instrument bounced (CHEQUE, DD, OFFLINE_NEFT, OFFLINE_RTGS, POSTAL_ORDER only): undo the
    write-back; the payment and instrument become DISHONOURED."""
    return _reverse(
        caller=caller,
        payment_id=payment_id,
        reason=reason,
        at=at,
        status=PaymentStatus.DISHONOURED,
        instrument_status=InstrumentStatus.DISHONOURED,
    )


def _check_reversible(payment: Payment, status: str) -> None:
    if payment.status in REVERSED_STATUSES:
        raise ConflictError(
            PAYMENT_ALREADY_REVERSED,
            f"Payment {payment.pk} is already {payment.status}; its write-back was undone once",
        )
    if status == PaymentStatus.DISHONOURED and payment.payment_mode not in INSTRUMENT_MODES:
        raise DomainError(
            PAYMENT_NOT_DISHONOURABLE,
            f"A {payment.payment_mode} payment cannot be dishonoured; only {', '.join(sorted(INSTRUMENT_MODES))} can",
        )


def _reverse(
    *,
    caller: Caller,
    payment_id: uuid.UUID | str,
    reason: str,
    at: dt.datetime,
    status: str,
    instrument_status: str,
) -> Payment:
    payment = payment_get(payment_id)
    require_role(caller, payment.tenant.code, PAYMENT_ROLES, "cancel payments")
    if not (reason or "").strip():
        raise DomainError(PAYMENT_REASON_REQUIRED, "A reason is mandatory to cancel or dishonour a payment")
    _check_reversible(payment, status)
    bills = bills_of_payment(payment)
    with transaction.atomic(durable=True):
        payment_reverse_record(
            payment_id=payment.pk,
            bills=bills,
            status=status,
            instrument_status=instrument_status,
            reason=reason,
            actor=caller.username,
            at=at,
        )
    return payments_with_details().get(pk=payment.pk)


def payment_reverse_record(
    *,
    payment_id: uuid.UUID,
    bills: list[Bill],
    status: str,
    instrument_status: str,
    reason: str,
    actor: str,
    at: dt.datetime,
    notify: bool = True,
) -> Payment:
    """The reversal inside the caller's transaction (also DIGIT's payment-cancel messages, which have no caller):
    lock, re-check under the lock, undo the write-back, cancel the paid bills, mark the payment. ``notify``: tell
    the registered handlers (publish the reversal); off for a reversal DIGIT itself published."""
    with transaction.atomic(savepoint=False):
        locked = lock_for_bills(bills=bills)
        payment = Payment.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=payment_id)
        _check_reversible(payment, status)
        writeback_reverse(payment=payment, locked=locked, actor=actor, at=at)
        _cancel_bills(locked, actor=actor, at=at)
        payment.status = status
        payment.instrument_status = instrument_status
        payment.cancel_reason = reason.strip()
        payment.cancelled_by, payment.cancelled_at = actor, at
        payment.modified_by, payment.modified_at = actor, at
        payment.save(
            update_fields=[
                "status",
                "instrument_status",
                "cancel_reason",
                "cancelled_by",
                "cancelled_at",
                "modified_by",
                "modified_at",
            ]
        )
        if notify:
            payment_reversed(payment_id=payment.pk, actor=actor, at=at)
    return payment


def _cancel_bills(locked: Locked, *, actor: str, at: dt.datetime) -> None:
    """The paid bills become CANCELLED (no longer paid); their paid and adjusted amounts are cleared.

    The payment's own rows (``PaymentDetail``, ``PaymentAccountLine``) keep what it had apportioned.
    """
    bills: list[Bill] = []
    details: list[BillDetail] = []
    lines: list[BillAccountDetail] = []
    for bill in locked.bills.values():
        bill.status = BillStatus.CANCELLED
        bill.modified_by, bill.modified_at = actor, at
        bills.append(bill)
        for detail in bill.details.all():
            detail.amount_paid = None
            details.append(detail)
            for line in detail.account_details.all():
                line.adjusted_amount = ZERO
                lines.append(line)
    Bill.objects.filter(pk__in=[bill.pk for bill in bills]).update(
        status=BillStatus.CANCELLED, modified_by=actor, modified_at=at
    )
    BillDetail.objects.bulk_update(details, ["amount_paid"])
    BillAccountDetail.objects.bulk_update(lines, ["adjusted_amount"])
