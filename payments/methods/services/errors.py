"""Error codes of payment methods and autopay (all new: the reference has no equivalent)."""

from __future__ import annotations

from billing_project.errors import ConflictError, DomainError, NotFound

PAN_REFUSED = "PAYMENT_METHOD_CARD_NUMBER_REFUSED"
METHOD_INVALID = "PAYMENT_METHOD_INVALID"
METHOD_EXPIRED = "PAYMENT_METHOD_EXPIRED"
METHOD_DUPLICATE = "PAYMENT_METHOD_DUPLICATE"
METHOD_NOT_FOUND = "PAYMENT_METHOD_NOT_FOUND"
METHOD_NOT_USABLE = "PAYMENT_METHOD_NOT_USABLE"
PAYER_NOT_FOUND = "PAYMENT_METHOD_PAYER_NOT_FOUND"
MANDATE_INVALID = "AUTOPAY_MANDATE_INVALID"
MANDATE_CONSUMER_NOT_FOUND = "AUTOPAY_CONSUMER_NOT_FOUND"
MANDATE_EXISTS = "AUTOPAY_MANDATE_EXISTS"
MANDATE_NOT_FOUND = "AUTOPAY_MANDATE_NOT_FOUND"
CHARGE_NOT_FOUND = "AUTOPAY_CHARGE_NOT_FOUND"
CHARGE_NOT_RETRYABLE = "AUTOPAY_CHARGE_NOT_RETRYABLE"
METHOD_NOT_FOR_BILL = "PAYMENT_METHOD_NOT_FOR_BILL"


class CardNumberRefused(DomainError):
    """A field looked like a card number (13–19 digits passing Luhn): this service never stores one."""

    code = PAN_REFUSED


class MethodNotFound(NotFound):
    code = METHOD_NOT_FOUND


class MethodDuplicate(ConflictError):
    code = METHOD_DUPLICATE


class MandateExists(ConflictError):
    code = MANDATE_EXISTS


class MandateNotFound(NotFound):
    code = MANDATE_NOT_FOUND


class ChargeNotFound(NotFound):
    code = CHARGE_NOT_FOUND


class ChargeNotRetryable(ConflictError):
    code = CHARGE_NOT_RETRYABLE


class PayerNotFound(NotFound):
    code = PAYER_NOT_FOUND


CHARGE_NOT_UNAPPLIED = "AUTOPAY_CHARGE_NOT_UNAPPLIED"


class ChargeNotUnapplied(ConflictError):
    """Only an UNAPPLIED charge (money taken, not applied) is resolved by hand."""

    code = CHARGE_NOT_UNAPPLIED
