"""Writes of the payment core — import them from here, not from the modules (an import-linter contract says so).

- ``inputs``: ``PaymentInput`` / ``PaymentDetailInput``, what a counter sends
- ``errors``: the error codes (the reference's collection codes, and ``PAYMENT_*`` for new rules)
- ``validation``: ``payment_validate`` and the bill state check (reference §7.8.1)
- ``locking``: the locks of a payment write, in the project's order
- ``receipts``: receipt numbers from the ``receipt.number`` id format
- ``create``: ``payment_create`` — validate, apportion, record, write back (reference §7.8, §7.9);
  ``payment_record`` does the writing inside a caller's transaction
- ``writeback``: the write-back to the demands and its exact reversal; ``payment_writeback_apply`` (replay)
- ``reverse``: ``payment_cancel`` and ``payment_dishonour``
- ``remit``: ``payment_remit`` (the instrument was deposited)
- ``counter``: ``counter_payment_take`` — a counter-desk payment, recorded once per form (one-time form key)
"""

from payments.services.counter import CounterOutcome, counter_payment_take
from payments.services.create import payment_create, payment_integrity_error, payment_record
from payments.services.hooks import on_payment_recorded, on_payment_reversed
from payments.services.inputs import PaymentDetailInput, PaymentInput
from payments.services.locking import Locked, lock_for_bills
from payments.services.remit import payment_remit
from payments.services.reverse import REVERSED_STATUSES, payment_cancel, payment_dishonour, payment_reverse_record
from payments.services.validation import INSTRUMENT_MODES, PaymentPlan, payment_validate
from payments.services.writeback import DetailRecord, payment_writeback_apply, writeback_apply

__all__ = [
    "INSTRUMENT_MODES",
    "REVERSED_STATUSES",
    "CounterOutcome",
    "DetailRecord",
    "Locked",
    "PaymentDetailInput",
    "PaymentInput",
    "PaymentPlan",
    "counter_payment_take",
    "lock_for_bills",
    "on_payment_recorded",
    "on_payment_reversed",
    "payment_cancel",
    "payment_create",
    "payment_dishonour",
    "payment_integrity_error",
    "payment_record",
    "payment_remit",
    "payment_reverse_record",
    "payment_validate",
    "payment_writeback_apply",
    "writeback_apply",
]
