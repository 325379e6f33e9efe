"""The error codes of the payment core (counter payments, validation, write-back, reversal, remittance).

Raised as the kernel class of their HTTP meaning (``billing_project.errors``): ``DomainError(CODE, message)``
(400) unless noted. The collection-side codes and messages are the reference's (collection-services'
``PaymentValidator`` and ``PaymentEnricher``): clients match on them. Codes prefixed ``PAYMENT_`` are this
service's, with no reference equivalent (docs/reference-rules.md, "Error codes"). ``INVALID_PAYMENTDETAIL``
and ``INVALID_BILL`` are also raised by the apportionment (a lower app): they are ``demands.errors``' codes,
imported here so that payment code names them in one place.
"""

from __future__ import annotations

from typing import Final

from billing_project.errors import DomainError
from demands.errors import INVALID_BILL, INVALID_PAYMENTDETAIL

# Reference codes (collection-services).
INVALID_BILL_AMOUNT: Final = "INVALID_BILL_AMOUNT"
BILL_EXPIRED: Final = "BILL_EXPIRED"
BILL_EXPIRED_MESSAGE: Final = "Bill expired or invalid, regenerate bill!"
BILL_ALREADY_PAID: Final = "BILL_ALREADY_PAID"
BILL_ALREADY_PAID_MESSAGE: Final = "Bill has already been paid or is in pending state"
INVALID_BILL_ID: Final = "INVALID_BILL_ID"
INVALID_BILL_BUSINESSSERVICE: Final = "INVALID_BILL_BUSINESSSERVICE"
DUPLICATE_BILLID: Final = "DUPLICATE_BILLID"
INVALID_PAYMENTMODE: Final = "INVALID_PAYMENTMODE"
INVALID_INST_NUMBER: Final = "INVALID_INST_NUMBER"
INVALID_INST_DATE: Final = "INVALID_INST_DATE"
# The collection face's workflow (reference): a payment of another tenant or business service.
INVALID_TENANT_ID: Final = "INVALID_TENANT_ID"
INVALID_BUSINESS_SERVICE: Final = "INVALID_BUSINESS_SERVICE"

# New codes.
PAYMENT_TENANT_REQUIRED: Final = "PAYMENT_TENANT_REQUIRED"
PAYMENT_PAYER_NOT_FOUND: Final = "PAYMENT_PAYER_NOT_FOUND"
PAYMENT_DUPLICATE_TRANSACTION_NUMBER: Final = "PAYMENT_DUPLICATE_TRANSACTION_NUMBER"  # 409
PAYMENT_NOT_FOUND: Final = "PAYMENT_NOT_FOUND"  # 404
PAYMENT_FORM_KEY_REUSED: Final = "PAYMENT_FORM_KEY_REUSED"  # 409: a counter form key another user submitted
PAYMENT_ALREADY_REVERSED: Final = "PAYMENT_ALREADY_REVERSED"  # 409: its write-back was undone once
PAYMENT_NOT_DISHONOURABLE: Final = "PAYMENT_NOT_DISHONOURABLE"
PAYMENT_REASON_REQUIRED: Final = "PAYMENT_REASON_REQUIRED"
PAYMENT_NOT_REMITTABLE: Final = "PAYMENT_NOT_REMITTABLE"  # 409
PAYMENT_WRITEBACK_INVALID: Final = "PAYMENT_WRITEBACK_INVALID"  # the pure write-back refused a plan
PAYMENT_REVERSAL_CONFLICT: Final = "PAYMENT_REVERSAL_CONFLICT"  # 409: later writes used what it applied
PAYMENT_BELOW_MINIMUM: Final = "PAYMENT_BELOW_MINIMUM"  # a part payment below the service's minAmountPayable


def bill_expired(bill_id: object) -> DomainError:
    """The reference's refusal of a bill that is not ACTIVE and current, with its message and the bill id."""
    return DomainError(BILL_EXPIRED, BILL_EXPIRED_MESSAGE, params=[str(bill_id)])


def bill_already_paid(bill_id: object) -> DomainError:
    """The reference's refusal of a paid bill, with its message and the bill id."""
    return DomainError(BILL_ALREADY_PAID, BILL_ALREADY_PAID_MESSAGE, params=[str(bill_id)])


def bill_paid_in_part(bill_id: object, consumer_code: str) -> DomainError:
    """A PARTIALLY_PAID bill: the reference's code (clients match on it), with what to do next."""
    return DomainError(
        BILL_ALREADY_PAID,
        f"Bill {bill_id} has been paid in part; the remaining dues of {consumer_code} are on a new bill: fetch the "
        "current bill and pay that one",
        params=[str(bill_id)],
    )


__all__ = [
    "BILL_ALREADY_PAID",
    "BILL_ALREADY_PAID_MESSAGE",
    "BILL_EXPIRED",
    "BILL_EXPIRED_MESSAGE",
    "DUPLICATE_BILLID",
    "INVALID_BILL",
    "INVALID_BILL_AMOUNT",
    "INVALID_BILL_BUSINESSSERVICE",
    "INVALID_BILL_ID",
    "INVALID_BUSINESS_SERVICE",
    "INVALID_INST_DATE",
    "INVALID_INST_NUMBER",
    "INVALID_PAYMENTDETAIL",
    "INVALID_PAYMENTMODE",
    "INVALID_TENANT_ID",
    "PAYMENT_ALREADY_REVERSED",
    "PAYMENT_BELOW_MINIMUM",
    "PAYMENT_DUPLICATE_TRANSACTION_NUMBER",
    "PAYMENT_NOT_DISHONOURABLE",
    "PAYMENT_NOT_FOUND",
    "PAYMENT_NOT_REMITTABLE",
    "PAYMENT_PAYER_NOT_FOUND",
    "PAYMENT_REASON_REQUIRED",
    "PAYMENT_REVERSAL_CONFLICT",
    "PAYMENT_TENANT_REQUIRED",
    "PAYMENT_WRITEBACK_INVALID",
    "bill_already_paid",
    "bill_expired",
    "bill_paid_in_part",
]
