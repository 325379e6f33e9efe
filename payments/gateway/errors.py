"""The error codes of online payments (the gateway integration), stable: clients and staff match on them.

Raised as the kernel class of their HTTP meaning (``billing_project.errors``): ``DomainError(CODE, message)``
(400) unless noted. All are this service's own (the reference has no gateway integration); ``INVALID_BILL_ID``
is the collection code (``payments.errors``) a payment of an unknown bill gets on every face. The callback
codes are not ``DomainError`` codes: they are what a refused callback is answered and recorded with.
"""

from __future__ import annotations

from typing import Final

from billing_project.errors import DomainError
from payments.errors import INVALID_BILL_ID

# Starting an online payment.
GATEWAY_AMOUNT_INVALID: Final = "GATEWAY_AMOUNT_INVALID"
GATEWAY_RETURN_URL_INVALID: Final = "GATEWAY_RETURN_URL_INVALID"
GATEWAY_BILL_NOT_FOUND: Final = INVALID_BILL_ID
GATEWAY_UNKNOWN: Final = "GATEWAY_UNKNOWN"  # 404 (no such adapter); 409 when registering a payment method
GATEWAY_TRANSACTION_NOT_FOUND: Final = "GATEWAY_TRANSACTION_NOT_FOUND"  # 404

# Refunds.
GATEWAY_REFUND_NOT_ALLOWED: Final = "GATEWAY_REFUND_NOT_ALLOWED"  # 409
GATEWAY_REFUND_AMOUNT_INVALID: Final = "GATEWAY_REFUND_AMOUNT_INVALID"
GATEWAY_REFUND_PAYMENT_ACTIVE: Final = "GATEWAY_REFUND_PAYMENT_ACTIVE"  # 409
GATEWAY_REFUND_REASON_REQUIRED: Final = "GATEWAY_REFUND_REASON_REQUIRED"

# Callbacks: why one was refused (HTTP 401/400, recorded on the ``GatewayCallback`` row).
SIGNATURE_MISSING: Final = "SIGNATURE_MISSING"
SIGNATURE_MALFORMED: Final = "SIGNATURE_MALFORMED"
SIGNATURE_MISMATCH: Final = "SIGNATURE_MISMATCH"
SIGNATURE_TIMESTAMP_OUT_OF_TOLERANCE: Final = "SIGNATURE_TIMESTAMP_OUT_OF_TOLERANCE"
CALLBACK_MALFORMED: Final = "CALLBACK_MALFORMED"


def amount_invalid(message: str) -> DomainError:
    """``GATEWAY_AMOUNT_INVALID`` naming the ``amount`` field."""
    return DomainError(GATEWAY_AMOUNT_INVALID, message, fields={"amount": [message]})
