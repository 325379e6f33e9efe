"""Remittance: a payment's instrument (or cash) was deposited in the bank (collection workflow REMIT)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction

from billing_project.errors import ConflictError
from masters.access import Caller, require_role
from payments.errors import PAYMENT_NOT_REMITTABLE
from payments.models import InstrumentStatus, Payment, PaymentStatus
from payments.selectors import PAYMENT_ROLES, payment_get, payments_with_details


def payment_remit(*, caller: Caller, payment_id: uuid.UUID | str, at: dt.datetime) -> Payment:
    """NEW → DEPOSITED, instrument REMITTED. Nothing else changes: the money was already applied at creation.

    Only the payment row is locked (a reversal takes it last, after the consumer locks), so the lock order
    holds. A payment that is not NEW cannot be remitted (again).
    """
    payment = payment_get(payment_id)
    require_role(caller, payment.tenant.code, PAYMENT_ROLES, "remit payments")
    with transaction.atomic(durable=True):
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status != PaymentStatus.NEW:
            raise ConflictError(
                PAYMENT_NOT_REMITTABLE, f"Payment {payment.pk} is {payment.status}; only NEW payments can be remitted"
            )
        payment.status = PaymentStatus.DEPOSITED
        payment.instrument_status = InstrumentStatus.REMITTED
        payment.modified_by, payment.modified_at = caller.username, at
        payment.save(update_fields=["status", "instrument_status", "modified_by", "modified_at"])
    return payments_with_details().get(pk=payment.pk)
