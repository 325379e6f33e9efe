"""Error codes of the payment services.

The collection-side codes and messages are the reference's (collection-services ``PaymentValidator`` and
``PaymentEnricher``, reference §9): clients match on them. Codes prefixed ``PAYMENT_`` are new rules of this
service with no reference equivalent.
"""

from __future__ import annotations

from billing_project.errors import ConflictError, DomainError

# Reference codes (collection-services).
INVALID_PAYMENTDETAIL = "INVALID_PAYMENTDETAIL"
INVALID_BILL_AMOUNT = "INVALID_BILL_AMOUNT"
INVALID_BILL = "INVALID_BILL"
BILL_EXPIRED = "BILL_EXPIRED"
BILL_EXPIRED_MESSAGE = "Bill expired or invalid, regenerate bill!"
BILL_ALREADY_PAID = "BILL_ALREADY_PAID"
BILL_ALREADY_PAID_MESSAGE = "Bill has already been paid or is in pending state"
INVALID_BILL_ID = "INVALID_BILL_ID"
INVALID_BILL_BUSINESSSERVICE = "INVALID_BILL_BUSINESSSERVICE"
DUPLICATE_BILLID = "DUPLICATE_BILLID"
INVALID_PAYMENTMODE = "INVALID_PAYMENTMODE"
INVALID_INST_NUMBER = "INVALID_INST_NUMBER"
INVALID_INST_DATE = "INVALID_INST_DATE"

# New codes.
PAYMENT_TENANT_REQUIRED = "PAYMENT_TENANT_REQUIRED"
PAYMENT_PAYER_NOT_FOUND = "PAYMENT_PAYER_NOT_FOUND"
PAYMENT_DUPLICATE_TRANSACTION_NUMBER = "PAYMENT_DUPLICATE_TRANSACTION_NUMBER"
PAYMENT_NOT_FOUND = "PAYMENT_NOT_FOUND"
PAYMENT_ALREADY_REVERSED = "PAYMENT_ALREADY_REVERSED"
PAYMENT_NOT_DISHONOURABLE = "PAYMENT_NOT_DISHONOURABLE"
PAYMENT_REASON_REQUIRED = "PAYMENT_REASON_REQUIRED"
PAYMENT_BELOW_MINIMUM = "PAYMENT_BELOW_MINIMUM"


class PaymentAlreadyReversed(ConflictError):
    """The payment was already cancelled or dishonoured: its write-back was already undone."""

    code = PAYMENT_ALREADY_REVERSED


def bill_expired(bill_id: object) -> DomainError:
    return DomainError(BILL_EXPIRED, BILL_EXPIRED_MESSAGE, params=[str(bill_id)])


def bill_already_paid(bill_id: object) -> DomainError:
    return DomainError(BILL_ALREADY_PAID, BILL_ALREADY_PAID_MESSAGE, params=[str(bill_id)])


def bill_paid_in_part(bill_id: object, consumer_code: str) -> DomainError:
    """A PARTIALLY_PAID bill: the reference's code (clients match on it), with what to do next."""
    return DomainError(
        BILL_ALREADY_PAID,
        f"Bill {bill_id} has been paid in part; the remaining dues of {consumer_code} are on a new bill: fetch the "
        "current bill and pay that one",
        params=[str(bill_id)],
    )
