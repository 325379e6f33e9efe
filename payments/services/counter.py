"""``counter_payment_take``: a payment taken at the counter desk, recorded once per form.

The counter form carries a one-time key (``form_key``, drawn when the form is shown). The payment and a
``CounterSubmission`` row holding the key are written in one durable transaction, after ``payment_create``'s
validation and under its locks. A second submission of the same form — a double click, a reload, a browser
that re-posts — finds the row and answers the payment already recorded (``replayed=True``), whether it comes
after the first committed or races it: the racing one waits on the consumer's account lock, then fails the
bill's re-check (or the key's unique constraint), and the key then names the payment the first one took.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from billing_project.errors import ConflictError, DomainError
from masters.access import Caller
from payments.errors import PAYMENT_FORM_KEY_REUSED
from payments.models import CounterSubmission, Payment
from payments.selectors import payments_with_details
from payments.services.create import payment_integrity_error, payment_record
from payments.services.inputs import PaymentInput
from payments.services.validation import payment_validate


@dataclass(frozen=True)
class CounterOutcome:
    payment: Payment
    replayed: bool


def _submitted(form_key: uuid.UUID, caller: Caller) -> CounterOutcome | None:
    row = CounterSubmission.objects.filter(key=form_key).first()
    if row is None:
        return None
    if row.created_by != caller.username:
        raise ConflictError(PAYMENT_FORM_KEY_REUSED, "This payment form was submitted by another user; open a new one.")
    return CounterOutcome(payment=payments_with_details().get(pk=row.payment_id), replayed=True)


def counter_payment_take(
    *, caller: Caller, form_key: uuid.UUID, payment: PaymentInput, at: dt.datetime
) -> CounterOutcome:
    """Take ``payment`` once per ``form_key``: validate, record and write back as ``payment_create`` does."""
    done = _submitted(form_key, caller)
    if done is not None:
        return done
    try:
        plan = payment_validate(caller=caller, payment=payment, at=at)
        try:
            with transaction.atomic(durable=True):
                stored = payment_record(caller=caller, plan=plan, at=at)
                CounterSubmission.objects.create(
                    key=form_key, payment=stored, created_by=caller.username, created_at=at
                )
        except IntegrityError as exc:
            raise payment_integrity_error(exc, plan) from exc
    except (DomainError, IntegrityError):
        # A racing twin of this form may have recorded the payment meanwhile (its bill is now paid or stale,
        # or its key is taken): answer that payment.
        done = _submitted(form_key, caller)
        if done is not None:
            return done
        raise
    return CounterOutcome(payment=payments_with_details().get(pk=stored.pk), replayed=False)
