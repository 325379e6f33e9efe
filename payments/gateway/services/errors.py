"""Error codes of the gateway services (stable; clients match on them)."""

from __future__ import annotations

from billing_project.errors import ConflictError, DomainError
from payments.gateway.selectors import GATEWAY_TRANSACTION_NOT_FOUND, GatewayTransactionNotFound

GATEWAY_AMOUNT_INVALID = "GATEWAY_AMOUNT_INVALID"
GATEWAY_RETURN_URL_INVALID = "GATEWAY_RETURN_URL_INVALID"
GATEWAY_REFUND_NOT_ALLOWED = "GATEWAY_REFUND_NOT_ALLOWED"
GATEWAY_REFUND_AMOUNT_INVALID = "GATEWAY_REFUND_AMOUNT_INVALID"
GATEWAY_REFUND_PAYMENT_ACTIVE = "GATEWAY_REFUND_PAYMENT_ACTIVE"
GATEWAY_BILL_NOT_FOUND = "INVALID_BILL_ID"  # the collection code of payment_validate, for one face


class RefundNotAllowed(ConflictError):
    code = GATEWAY_REFUND_NOT_ALLOWED


def amount_invalid(message: str) -> DomainError:
    return DomainError(GATEWAY_AMOUNT_INVALID, message, fields={"amount": [message]})


__all__ = [
    "GATEWAY_AMOUNT_INVALID",
    "GATEWAY_BILL_NOT_FOUND",
    "GATEWAY_REFUND_AMOUNT_INVALID",
    "GATEWAY_REFUND_NOT_ALLOWED",
    "GATEWAY_REFUND_PAYMENT_ACTIVE",
    "GATEWAY_RETURN_URL_INVALID",
    "GATEWAY_TRANSACTION_NOT_FOUND",
    "GatewayTransactionNotFound",
    "RefundNotAllowed",
    "amount_invalid",
]
