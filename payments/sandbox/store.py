"""The sandbox's in-memory state: transactions, tokens, refunds, idempotency answers and the callback queue.

Every method takes the one lock; nothing here does I/O (the HTTP server answers, the delivery module sends).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import secrets
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from billing_project.money import ZERO, MoneyError, to_money

from .faults import FaultConfig, decide

CURRENCY = "INR"
FINAL = ("SUCCESS", "FAILURE")
CALLBACK_SUBJECT = "callback"  # the fault decisions of callbacks count them in delivery order
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")

# Stripe's test cards: card number -> (failure_code or None, soft?)
TEST_CARDS: dict[str, tuple[str | None, bool]] = {
    "4242424242424242": (None, False),
    "4000000000000002": ("card_declined", False),
    "4000000000009995": ("insufficient_funds", True),
    "4000000000000119": ("processing_error", True),
}


class SandboxError(Exception):
    """An error answer: HTTP status, stable code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def as_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


@dataclasses.dataclass
class Transaction:
    id: str
    merchant_reference: str
    amount: Decimal
    currency: str
    status: str
    failure_code: str | None
    checkout_url: str | None
    callback_url: str
    return_url: str
    description: str
    customer: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    sequence: int = 0
    refunded: Decimal = ZERO

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "merchant_reference": self.merchant_reference,
            "amount": str(self.amount),
            "currency": self.currency,
            "status": self.status,
            "failure_code": self.failure_code,
            "checkout_url": self.checkout_url,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclasses.dataclass
class Token:
    token: str
    card_number: str
    label: str
    brand: str
    last4: str
    expiry_month: int
    expiry_year: int
    holder_name: str
    customer_reference: str
    funded: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "label": self.label,
            "brand": self.brand,
            "last4": self.last4,
            "expiry_month": self.expiry_month,
            "expiry_year": self.expiry_year,
        }


@dataclasses.dataclass(frozen=True)
class Callback:
    """One queued callback: the event body and where it goes."""

    event: dict[str, Any]
    url: str


def parse_amount(value: Any, field: str = "amount") -> Decimal:
    if not isinstance(value, str) or not _AMOUNT.match(value):
        raise SandboxError(400, "invalid_amount", f"{field} must be a decimal string with at most two places")
    try:
        amount = to_money(value)
    except MoneyError as exc:  # pragma: no cover - the pattern already refuses what to_money refuses
        raise SandboxError(400, "invalid_amount", str(exc)) from exc
    if amount <= ZERO:
        raise SandboxError(400, "invalid_amount", f"{field} must be positive")
    return amount


def _text(payload: dict[str, Any], key: str, *, required: bool = True, limit: int = 500) -> str:
    value = payload.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit:
        raise SandboxError(400, "invalid_request", f"{key} must be a string of at most {limit} characters")
    if required and not value.strip():
        raise SandboxError(400, "invalid_request", f"{key} is required")
    return value


def _currency(payload: dict[str, Any]) -> str:
    currency = payload.get("currency", CURRENCY)
    if currency != CURRENCY:
        raise SandboxError(400, "unsupported_currency", f"only {CURRENCY} is supported")
    return CURRENCY


def body_fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SandboxStore:
    def __init__(self, *, now: Callable[[], dt.datetime] = _utc_now) -> None:
        self._lock = threading.RLock()
        self.now = now  # the sandbox's clock: transaction times and callback signature timestamps
        self.changed = threading.Condition(self._lock)  # notified when a callback is queued
        self._reset()

    def _reset(self) -> None:
        self.faults = FaultConfig()
        self.transactions: dict[str, Transaction] = {}
        self.tokens: dict[str, Token] = {}
        self.refunds: list[dict[str, Any]] = []
        self.queue: list[Callback] = []
        self.deliveries: list[dict[str, Any]] = []
        self._idempotency: dict[tuple[str, str], tuple[str, int, dict[str, Any]]] = {}
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}
        self._occurrences: dict[str, int] = {}

    # -- control ---------------------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self._reset()

    def configure(self, changes: dict[str, Any]) -> FaultConfig:
        """Apply fault changes; a new seed restarts the occurrence counters (same faults on every run)."""
        with self._lock:
            self.faults = self.faults.updated(changes)
            if "seed" in changes:
                self._occurrences.clear()
            self.changed.notify_all()
            return self.faults

    def strikes(self, subject: str) -> dict[str, bool]:
        """Which faults strike this merchant call (the next occurrence of ``subject``, its route)."""
        with self._lock:
            occurrence = self._occurrences.get(subject, 0) + 1
            self._occurrences[subject] = occurrence
            faults = self.faults
        names = {"error": faults.error_rate, "timeout": faults.timeout_rate}
        names |= {"error_after": faults.error_after_rate, "slow": faults.slow_rate}
        return {
            name: decide(rate=rate, seed=faults.seed, fault=name, subject=subject, occurrence=occurrence)
            for name, rate in names.items()
        }

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "faults": self.faults.as_json(),
                "transactions": [txn.as_json() for txn in self.transactions.values()],
                "refunds": [dict(refund) for refund in self.refunds],
                "tokens": [token.as_json() for token in self.tokens.values()],
                "queued_callbacks": [dict(callback.event) for callback in self.queue],
                "deliveries": [dict(delivery) for delivery in self.deliveries],
            }

    # -- idempotency -------------------------------------------------------------------------------------

    def key_lock(self, route: str, key: str) -> threading.Lock:
        """The lock held while a call with this Idempotency-Key does its work: concurrent repeats wait for
        the first one's answer instead of doing the work twice."""
        with self._lock:
            return self._key_locks.setdefault((route, key), threading.Lock())

    def remembered(self, route: str, key: str, fingerprint: str) -> tuple[int, dict[str, Any]] | None:
        with self._lock:
            seen = self._idempotency.get((route, key))
        if seen is None:
            return None
        if seen[0] != fingerprint:
            raise SandboxError(422, "idempotency_key_reused", "this Idempotency-Key was used with another body")
        return seen[1], seen[2]

    def remember(self, route: str, key: str, fingerprint: str, status: int, body: dict[str, Any]) -> None:
        with self._lock:
            self._idempotency.setdefault((route, key), (fingerprint, status, body))

    # -- merchant API --------------------------------------------------------------------------------------

    def create_transaction(self, payload: dict[str, Any], *, base_url: str) -> dict[str, Any]:
        reference = _text(payload, "merchant_reference", limit=100)
        amount = parse_amount(payload.get("amount"))
        currency = _currency(payload)
        callback_url = _text(payload, "callback_url")
        return_url = _text(payload, "return_url", required=False)
        description = _text(payload, "description", required=False)
        customer = payload.get("customer") or {}
        if not isinstance(customer, dict):
            raise SandboxError(400, "invalid_request", "customer must be an object")
        txn_id = "txn_" + secrets.token_hex(10)
        now = self.now()
        txn = Transaction(
            id=txn_id,
            merchant_reference=reference,
            amount=amount,
            currency=currency,
            status="CREATED",
            failure_code=None,
            checkout_url=f"{base_url}/checkout/{txn_id}",
            callback_url=callback_url,
            return_url=return_url,
            description=description,
            customer={key: str(value) for key, value in customer.items()},
            created_at=now,
            updated_at=now,
        )
        with self._lock:
            self.transactions[txn_id] = txn
            return txn.as_json()

    def transaction(self, txn_id: str) -> Transaction:
        with self._lock:
            txn = self.transactions.get(txn_id)
            if txn is None:
                raise SandboxError(404, "not_found", f"no transaction {txn_id}")
            return dataclasses.replace(txn)

    def find(self, reference: str) -> dict[str, Any]:
        with self._lock:
            items = [txn.as_json() for txn in self.transactions.values() if txn.merchant_reference == reference]
        return {"items": items}

    def refund(self, txn_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        amount = parse_amount(payload.get("amount"))
        reason = _text(payload, "reason", required=False)
        with self._lock:
            txn = self.transactions.get(txn_id)
            if txn is None:
                raise SandboxError(404, "not_found", f"no transaction {txn_id}")
            if txn.status != "SUCCESS":
                raise SandboxError(409, "not_refundable", f"transaction is {txn.status}, not SUCCESS")
            if txn.refunded + amount > txn.amount:
                raise SandboxError(409, "refund_exceeds_amount", f"refunds would exceed {txn.amount}")
            txn.refunded += amount
            refund = {
                "id": "rf_" + secrets.token_hex(10),
                "transaction_id": txn_id,
                "amount": str(amount),
                "status": "SUCCESS",
                "reason": reason,
            }
            self.refunds.append(refund)
            return {key: refund[key] for key in ("id", "transaction_id", "amount", "status")}

    def tokenize(self, payload: dict[str, Any]) -> dict[str, Any]:
        number = payload.get("card_number")
        if not isinstance(number, str) or number not in TEST_CARDS:
            raise SandboxError(400, "invalid_card", "not a sandbox test card")
        month, year = payload.get("expiry_month"), payload.get("expiry_year")
        if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 12:
            raise SandboxError(400, "invalid_request", "expiry_month must be 1..12")
        if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
            raise SandboxError(400, "invalid_request", "expiry_year must be a four-digit year")
        token = Token(
            token="tok_" + secrets.token_hex(10),
            card_number=number,
            label=f"VISA •••• {number[-4:]}",
            brand="VISA",
            last4=number[-4:],
            expiry_month=month,
            expiry_year=year,
            holder_name=_text(payload, "holder_name", required=False),
            customer_reference=_text(payload, "customer_reference", required=False),
        )
        with self._lock:
            self.tokens[token.token] = token
        return token.as_json()

    def fund(self, token_id: str) -> dict[str, Any]:
        with self._lock:
            token = self.tokens.get(token_id)
            if token is None:
                raise SandboxError(404, "not_found", f"no token {token_id}")
            token.funded = True
            return token.as_json() | {"funded": True}

    def charge(self, payload: dict[str, Any]) -> dict[str, Any]:
        reference = _text(payload, "merchant_reference", limit=100)
        amount = parse_amount(payload.get("amount"))
        currency = _currency(payload)
        callback_url = _text(payload, "callback_url", required=False)
        description = _text(payload, "description", required=False)
        token_id = _text(payload, "token")
        now = self.now()
        with self._lock:
            token = self.tokens.get(token_id)
            if token is None:
                raise SandboxError(400, "invalid_token", f"no token {token_id}")
            failure_code, soft = TEST_CARDS[token.card_number]
            if soft and token.funded and failure_code == "insufficient_funds":
                failure_code = None
            txn = Transaction(
                id="txn_" + secrets.token_hex(10),
                merchant_reference=reference,
                amount=amount,
                currency=currency,
                status="CREATED",
                failure_code=None,
                checkout_url=None,
                callback_url=callback_url,
                return_url="",
                description=description,
                customer={},
                created_at=now,
                updated_at=now,
            )
            self.transactions[txn.id] = txn
            self._change(txn, "FAILURE" if failure_code else "SUCCESS", failure_code)
            return txn.as_json()

    # -- checkout ------------------------------------------------------------------------------------------

    def decide(self, txn_id: str, action: str) -> Transaction:
        """The payer's (or the bank's) decision: approve, decline or pending."""
        with self._lock:
            txn = self.transactions.get(txn_id)
            if txn is None:
                raise SandboxError(404, "not_found", f"no transaction {txn_id}")
            if txn.checkout_url is None:
                raise SandboxError(409, "not_a_checkout", "a token charge has no checkout")
            if txn.status in FINAL or (action == "pending" and txn.status == "PENDING"):
                raise SandboxError(409, "already_decided", f"transaction is already {txn.status}")
            if action == "approve":
                self._change(txn, "SUCCESS", None)
            elif action == "decline":
                self._change(txn, "FAILURE", "payer_declined")
            else:
                self._change(txn, "PENDING", None)
            return dataclasses.replace(txn)

    def _change(self, txn: Transaction, status: str, failure_code: str | None) -> None:
        """Move ``txn`` (lock held) and queue its callback."""
        txn.status = status
        txn.failure_code = failure_code
        txn.updated_at = self.now()
        txn.sequence += 1
        if txn.callback_url:
            self.queue.append(_callback(txn, status, failure_code, txn.sequence, txn.updated_at))
            self.changed.notify_all()

    # -- callbacks -----------------------------------------------------------------------------------------

    def take_callbacks(self) -> list[Callback]:
        """Empty the queue into the order of delivery, with the callback faults applied.

        Dropped callbacks are recorded as deliveries with outcome ``dropped`` and left out. With
        ``reorder_callbacks`` each transaction's callbacks come newest first and a stale PENDING callback
        follows a final one; with ``duplicate_callbacks`` every callback is sent twice in a row.
        """
        with self._lock:
            queued, self.queue = self.queue, []
            faults = self.faults
            ordered = _reordered(queued, self) if faults.reorder_callbacks else queued
            result: list[Callback] = []
            for callback in ordered:
                occurrence = self._occurrences.get(CALLBACK_SUBJECT, 0) + 1
                self._occurrences[CALLBACK_SUBJECT] = occurrence
                if decide(
                    rate=faults.drop_callback_rate,
                    seed=faults.seed,
                    fault="drop",
                    subject=CALLBACK_SUBJECT,
                    occurrence=occurrence,
                ):
                    self.deliveries.append(_delivery(callback, "dropped", attempts=0, http_status=None))
                    continue
                result.append(callback)
                if faults.duplicate_callbacks:
                    result.append(callback)
            return result

    def delivered(
        self, callback: Callback, outcome: str, *, attempts: int, http_status: int | None, error: str
    ) -> None:
        with self._lock:
            self.deliveries.append(
                _delivery(callback, outcome, attempts=attempts, http_status=http_status, error=error)
            )


def _callback(
    txn: Transaction, status: str, failure_code: str | None, sequence: int, occurred_at: dt.datetime
) -> Callback:
    event = {
        "event_id": "evt_" + secrets.token_hex(10),
        "transaction_id": txn.id,
        "merchant_reference": txn.merchant_reference,
        "amount": str(txn.amount),
        "currency": txn.currency,
        "status": status,
        "failure_code": failure_code,
        "sequence": sequence,
        "occurred_at": occurred_at.isoformat(),
    }
    return Callback(event=event, url=txn.callback_url)


def _reordered(queued: list[Callback], store: SandboxStore) -> list[Callback]:
    by_txn: dict[str, list[Callback]] = {}
    for callback in queued:
        by_txn.setdefault(callback.event["transaction_id"], []).append(callback)
    result: list[Callback] = []
    for txn_id, callbacks in by_txn.items():
        newest_first = sorted(callbacks, key=lambda callback: callback.event["sequence"], reverse=True)
        result.extend(newest_first)
        final = newest_first[0]
        if final.event["status"] in FINAL and not any(cb.event["status"] == "PENDING" for cb in callbacks):
            txn = store.transactions[txn_id]
            result.append(_callback(txn, "PENDING", None, final.event["sequence"] - 1, txn.created_at))
    return result


def _delivery(
    callback: Callback, outcome: str, *, attempts: int, http_status: int | None, error: str = ""
) -> dict[str, Any]:
    return {
        "event_id": callback.event["event_id"],
        "transaction_id": callback.event["transaction_id"],
        "merchant_reference": callback.event["merchant_reference"],
        "status": callback.event["status"],
        "sequence": callback.event["sequence"],
        "url": callback.url,
        "outcome": outcome,
        "attempts": attempts,
        "http_status": http_status,
        "error": error,
    }
