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
from payments.services.inputs import PaymentDetailInput, PaymentInput
from payments.services.remit import payment_remit
from payments.services.reverse import payment_cancel, payment_dishonour
from payments.services.validation import INSTRUMENT_MODES, PaymentPlan, payment_validate
from payments.services.writeback import payment_writeback_apply

__all__ = [
    "INSTRUMENT_MODES",
    "CounterOutcome",
    "PaymentDetailInput",
    "PaymentInput",
    "PaymentPlan",
    "counter_payment_take",
    "payment_cancel",
    "payment_create",
    "payment_dishonour",
    "payment_integrity_error",
    "payment_record",
    "payment_remit",
    "payment_validate",
    "payment_writeback_apply",
]
