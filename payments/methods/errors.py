"""The error codes of saved payment methods and autopay (all this service's: the reference has none).

Raised as the kernel class of their HTTP meaning (``billing_project.errors``): ``DomainError(CODE, message)``
(400) unless noted. The second group is not raised: it is why an autopay charge ended or waits
(``AutopayCharge.failure_code``), shown to the payer and to staff.
"""

from __future__ import annotations

from typing import Final

# Refusals.
PAYMENT_METHOD_CARD_NUMBER_REFUSED: Final = "PAYMENT_METHOD_CARD_NUMBER_REFUSED"  # a value looked like a card number
PAYMENT_METHOD_INVALID: Final = "PAYMENT_METHOD_INVALID"
PAYMENT_METHOD_EXPIRED: Final = "PAYMENT_METHOD_EXPIRED"
PAYMENT_METHOD_DUPLICATE: Final = "PAYMENT_METHOD_DUPLICATE"  # 409
PAYMENT_METHOD_NOT_FOUND: Final = "PAYMENT_METHOD_NOT_FOUND"  # 404 (also: not the caller's to act for)
PAYMENT_METHOD_NOT_USABLE: Final = "PAYMENT_METHOD_NOT_USABLE"  # 409 (also a charge's failure code)
PAYMENT_METHOD_NOT_FOR_BILL: Final = "PAYMENT_METHOD_NOT_FOR_BILL"  # 409
PAYMENT_METHOD_PAYER_NOT_FOUND: Final = "PAYMENT_METHOD_PAYER_NOT_FOUND"  # 404
AUTOPAY_MANDATE_INVALID: Final = "AUTOPAY_MANDATE_INVALID"
AUTOPAY_CONSUMER_NOT_FOUND: Final = "AUTOPAY_CONSUMER_NOT_FOUND"  # 404
AUTOPAY_MANDATE_EXISTS: Final = "AUTOPAY_MANDATE_EXISTS"  # 409
AUTOPAY_MANDATE_NOT_FOUND: Final = "AUTOPAY_MANDATE_NOT_FOUND"  # 404
AUTOPAY_CHARGE_NOT_FOUND: Final = "AUTOPAY_CHARGE_NOT_FOUND"  # 404
AUTOPAY_CHARGE_NOT_RETRYABLE: Final = "AUTOPAY_CHARGE_NOT_RETRYABLE"  # 409
AUTOPAY_CHARGE_NOT_UNAPPLIED: Final = "AUTOPAY_CHARGE_NOT_UNAPPLIED"  # 409: only UNAPPLIED is resolved by hand

# Why a charge ended or waits (``AutopayCharge.failure_code``; the gateway's own codes are stored as they come).
NOTHING_DUE: Final = "NOTHING_DUE"
PAYER_CHANGED: Final = "PAYER_CHANGED"
MANDATE_REVOKED: Final = "MANDATE_REVOKED"
PAYMENT_METHOD_REVOKED: Final = "PAYMENT_METHOD_REVOKED"
ATTEMPT_LOST: Final = "ATTEMPT_LOST"
UNAPPLIED: Final = "UNAPPLIED"
REFUNDED: Final = "REFUNDED"
SUPERSEDED: Final = "SUPERSEDED"
BILL_PAID: Final = "BILL_PAID"
AUTOPAY_OVER_LIMIT: Final = "AUTOPAY_OVER_LIMIT"
BILL_FETCH_FAILED: Final = "BILL_FETCH_FAILED"
GATEWAY_FAILURE: Final = "FAILURE"  # a decline without the gateway's own failure code
