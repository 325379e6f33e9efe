"""The adapter interface: what our services need from a payment gateway, in our own types.

A gateway adapter turns these calls into the gateway's HTTP API and its answers into the dataclasses below.
It raises :class:`TransientGatewayError` for failures that may go away (5xx, timeouts, connection errors: the
call may or may not have done its work, so it is retried with the same idempotency key or looked up later) and
:class:`PermanentGatewayError` for refusals (4xx: retrying the same call cannot help). A declined payment is
not an error: it is a transaction in FAILURE with a ``failure_code`` and a ``decline`` of HARD (never retry,
e.g. card declined) or SOFT (may succeed later, e.g. insufficient funds).

Adding a real gateway = one subclass of :class:`GatewayAdapter` + an entry in ``PAYMENT_GATEWAY_ADAPTERS``.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

HARD = "HARD"
SOFT = "SOFT"


class GatewayError(Exception):
    """A gateway call failed. ``http_status`` is None when no answer came (timeout, connection)."""

    transient = False

    def __init__(self, message: str, *, http_status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.code = code


class TransientGatewayError(GatewayError):
    """5xx, timeout or connection error: the work may or may not have been done; retry or look it up."""

    transient = True


class PermanentGatewayError(GatewayError):
    """The gateway refused the request (4xx): the same request will be refused again."""


class GatewayNotFound(PermanentGatewayError):
    """The gateway holds no such transaction."""


class CallbackRejected(Exception):
    """A callback whose signature, timestamp or body cannot be trusted. ``reason`` is a stable code;
    ``signature_valid`` tells whether the signature itself held (a valid signature over a malformed body)."""

    def __init__(self, reason: str, message: str = "", *, signature_valid: bool = False) -> None:
        super().__init__(message or reason)
        self.reason = reason
        self.message = message or reason
        self.signature_valid = signature_valid


@dataclass(frozen=True)
class Customer:
    name: str = ""
    mobile: str = ""
    email: str = ""


@dataclass(frozen=True)
class InitiateRequest:
    """Create a hosted-checkout transaction."""

    merchant_reference: str
    amount: Decimal
    currency: str
    callback_url: str
    return_url: str
    description: str
    customer: Customer
    idempotency_key: str


@dataclass(frozen=True)
class ChargeRequest:
    """Charge a saved token at once (no payer interaction)."""

    merchant_reference: str
    amount: Decimal
    currency: str
    token: str
    callback_url: str
    description: str
    idempotency_key: str


@dataclass(frozen=True)
class RefundRequest:
    gateway_transaction_id: str
    amount: Decimal
    reason: str
    idempotency_key: str


@dataclass(frozen=True)
class TransactionInfo:
    """A transaction as the gateway holds it, with ``status`` in our words: PENDING (created, payer or bank
    still deciding), SUCCESS or FAILURE. ``raw_status`` is the gateway's own word."""

    gateway_transaction_id: str
    merchant_reference: str
    amount: Decimal
    currency: str
    status: str
    raw_status: str
    failure_code: str = ""
    decline: str = ""
    checkout_url: str = ""
    http_status: int | None = None


@dataclass(frozen=True)
class RefundInfo:
    refund_id: str
    gateway_transaction_id: str
    amount: Decimal
    status: str
    http_status: int | None = None


@dataclass(frozen=True)
class CallbackEvent:
    """A verified callback: the gateway's word on a transaction, with its ordering ``sequence``."""

    event_id: str
    gateway_transaction_id: str
    merchant_reference: str
    amount: Decimal
    currency: str
    status: str
    failure_code: str
    sequence: int | None
    occurred_at: dt.datetime | None
    decline: str = ""


class GatewayAdapter(abc.ABC):
    """One payment gateway. Instances are cheap; services make one per use through the registry."""

    name: str = ""

    @abc.abstractmethod
    def initiate(self, request: InitiateRequest) -> TransactionInfo:
        """Create a hosted-checkout transaction (PENDING, with ``checkout_url``). Idempotent on the key."""

    @abc.abstractmethod
    def charge_token(self, request: ChargeRequest) -> TransactionInfo:
        """Charge a saved token: the answer is already final (SUCCESS, or FAILURE with a decline)."""

    @abc.abstractmethod
    def status(self, gateway_transaction_id: str) -> TransactionInfo:
        """The transaction as the gateway holds it; :class:`GatewayNotFound` when unknown."""

    @abc.abstractmethod
    def find_by_reference(self, merchant_reference: str) -> TransactionInfo | None:
        """The transaction created for our reference (when its creation answer was lost), or None."""

    @abc.abstractmethod
    def refund(self, request: RefundRequest) -> RefundInfo:
        """Refund (part of) a successful transaction. Idempotent on the key."""

    @abc.abstractmethod
    def verify_callback(self, *, body: bytes, headers: Mapping[str, str], now: dt.datetime) -> CallbackEvent:
        """Check a callback's signature and timestamp and parse it; :class:`CallbackRejected` otherwise."""
