"""The adapter of the project's sandbox gateway (``docs/payment-gateway-sandbox.md``), over httpx.

Timeouts come from settings (``PAYMENT_GATEWAY_CONNECT_TIMEOUT``, ``PAYMENT_GATEWAY_READ_TIMEOUT``); 5xx
answers, timeouts and connection errors raise :class:`TransientGatewayError`, 4xx answers
:class:`PermanentGatewayError` (404: :class:`GatewayNotFound`). The sandbox's CREATED (checkout not completed)
and PENDING (bank deciding) are both our PENDING.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings

from payments.gateway.adapters.base import (
    HARD,
    SOFT,
    CallbackEvent,
    CallbackRejected,
    ChargeRequest,
    GatewayAdapter,
    GatewayNotFound,
    InitiateRequest,
    PermanentGatewayError,
    RefundInfo,
    RefundRequest,
    TransactionInfo,
    TransientGatewayError,
)
from payments.gateway.domain.signature import signature_problem
from payments.gateway.errors import CALLBACK_MALFORMED

SIGNATURE_HEADER = "X-Sandbox-Signature"
STATUS_MAP = {"CREATED": "PENDING", "PENDING": "PENDING", "SUCCESS": "SUCCESS", "FAILURE": "FAILURE"}
# Declines the payer or the card issuer made for good; anything else that fails is soft (may succeed later).
HARD_DECLINES = frozenset({"card_declined", "payer_declined", "expired_card", "stolen_card", "lost_card"})


def _decline(status: str, failure_code: str) -> str:
    if status != "FAILURE":
        return ""
    return HARD if failure_code in HARD_DECLINES else SOFT


def _money(value: Any) -> Decimal:
    if not isinstance(value, str | int):
        raise ValueError(f"not an amount: {value!r}")
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def _amount_text(amount: Decimal) -> str:
    return f"{amount:.2f}"


class SandboxAdapter(GatewayAdapter):
    name = "sandbox"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        merchant_key: str | None = None,
        secret: str | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        callback_tolerance: int | None = None,
    ) -> None:
        self.base_url = (base_url or settings.PAYMENT_GATEWAY_URL).rstrip("/")
        self.merchant_key = merchant_key or settings.PAYMENT_GATEWAY_SANDBOX_KEY
        self.secret = secret or settings.PAYMENT_GATEWAY_SANDBOX_SECRET
        connect = settings.PAYMENT_GATEWAY_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
        read = settings.PAYMENT_GATEWAY_READ_TIMEOUT if read_timeout is None else read_timeout
        self.timeout = httpx.Timeout(read, connect=connect)
        self.callback_tolerance = (
            settings.PAYMENT_GATEWAY_CALLBACK_TOLERANCE_SECONDS if callback_tolerance is None else callback_tolerance
        )

    # --- HTTP ------------------------------------------------------------------------------------------
    def _request(
        self, method: str, path: str, *, body: dict[str, Any] | None = None, key: str | None = None, **params: str
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.merchant_key}", "Accept": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        try:
            response = httpx.request(
                method,
                f"{self.base_url}{path}",
                json=body,
                params=params or None,
                headers=headers,
                timeout=self.timeout,
            )
        except httpx.TimeoutException as exc:
            raise TransientGatewayError(f"timeout: {exc.__class__.__name__}", code="timeout") from exc
        except httpx.TransportError as exc:
            raise TransientGatewayError(
                f"connection error: {exc.__class__.__name__}: {exc}", code="connection"
            ) from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        status = response.status_code
        if status >= 500:
            raise TransientGatewayError(
                f"gateway answered {status}: {self._error_code(data) or 'no error body'}",
                http_status=status,
                code=self._error_code(data),
            )
        if status == 404:
            raise GatewayNotFound(f"gateway answered 404 for {path}", http_status=status, code=self._error_code(data))
        if status >= 400:
            raise PermanentGatewayError(
                f"gateway refused ({status}): {self._error_message(data)}",
                http_status=status,
                code=self._error_code(data),
            )
        if not isinstance(data, dict):
            raise TransientGatewayError(f"gateway answered {status} without a JSON object", http_status=status)
        return status, data

    @staticmethod
    def _error_code(data: Any) -> str:
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            return str(data["error"].get("code", ""))
        return ""

    @staticmethod
    def _error_message(data: Any) -> str:
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            error = data["error"]
            return f"{error.get('code', '')}: {error.get('message', '')}"
        return "no error body"

    def _transaction(self, data: dict[str, Any], http_status: int) -> TransactionInfo:
        try:
            raw = str(data["status"])
            failure_code = str(data.get("failure_code") or "")
            return TransactionInfo(
                gateway_transaction_id=str(data["id"]),
                merchant_reference=str(data.get("merchant_reference") or ""),
                amount=_money(data["amount"]),
                currency=str(data.get("currency") or ""),
                status=STATUS_MAP[raw],
                raw_status=raw,
                failure_code=failure_code,
                decline=_decline(STATUS_MAP[raw], failure_code),
                checkout_url=str(data.get("checkout_url") or ""),
                http_status=http_status,
            )
        except (KeyError, ValueError, TypeError) as exc:
            # A 2xx answer we cannot read: treat as lost (the work may be done; we look it up again).
            raise TransientGatewayError(
                f"unreadable transaction in the answer: {exc!r}", http_status=http_status
            ) from exc

    # --- interface -------------------------------------------------------------------------------------
    def initiate(self, request: InitiateRequest) -> TransactionInfo:
        status, data = self._request(
            "POST",
            "/v1/transactions",
            key=request.idempotency_key,
            body={
                "merchant_reference": request.merchant_reference,
                "amount": _amount_text(request.amount),
                "currency": request.currency,
                "callback_url": request.callback_url,
                "return_url": request.return_url,
                "description": request.description,
                "customer": {
                    "name": request.customer.name,
                    "mobile": request.customer.mobile,
                    "email": request.customer.email,
                },
            },
        )
        return self._transaction(data, status)

    def charge_token(self, request: ChargeRequest) -> TransactionInfo:
        status, data = self._request(
            "POST",
            "/v1/charges",
            key=request.idempotency_key,
            body={
                "merchant_reference": request.merchant_reference,
                "amount": _amount_text(request.amount),
                "currency": request.currency,
                "token": request.token,
                "callback_url": request.callback_url,
                "description": request.description,
            },
        )
        return self._transaction(data, status)

    def status(self, gateway_transaction_id: str) -> TransactionInfo:
        status, data = self._request("GET", f"/v1/transactions/{quote(gateway_transaction_id, safe='')}")
        return self._transaction(data, status)

    def find_by_reference(self, merchant_reference: str) -> TransactionInfo | None:
        status, data = self._request("GET", "/v1/transactions", merchant_reference=merchant_reference)
        items = data.get("items")
        if not isinstance(items, list):
            raise TransientGatewayError("unreadable search answer: no items list", http_status=status)
        found = [
            self._transaction(item, status)
            for item in items
            if isinstance(item, dict) and item.get("merchant_reference") == merchant_reference
        ]
        return found[0] if found else None

    def refund(self, request: RefundRequest) -> RefundInfo:
        status, data = self._request(
            "POST",
            f"/v1/transactions/{quote(request.gateway_transaction_id, safe='')}/refunds",
            key=request.idempotency_key,
            body={"amount": _amount_text(request.amount), "reason": request.reason},
        )
        try:
            return RefundInfo(
                refund_id=str(data["id"]),
                gateway_transaction_id=str(data.get("transaction_id") or request.gateway_transaction_id),
                amount=_money(data["amount"]),
                status=str(data.get("status") or ""),
                http_status=status,
            )
        except (KeyError, ValueError) as exc:
            raise TransientGatewayError(f"unreadable refund in the answer: {exc!r}", http_status=status) from exc

    def verify_callback(self, *, body: bytes, headers: Mapping[str, str], now: dt.datetime) -> CallbackEvent:
        header = next((value for name, value in headers.items() if name.lower() == SIGNATURE_HEADER.lower()), None)
        problem = signature_problem(
            secret=self.secret, header=header, body=body, now=int(now.timestamp()), tolerance=self.callback_tolerance
        )
        if problem is not None:
            raise CallbackRejected(problem, f"callback refused: {problem}")
        try:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("the body is not a JSON object")
            status = STATUS_MAP[str(data["status"])]
            sequence = data.get("sequence")
            if sequence is not None and (isinstance(sequence, bool) or not isinstance(sequence, int)):
                raise ValueError("sequence is not an integer")
            occurred = data.get("occurred_at")
            failure_code = str(data.get("failure_code") or "")
            return CallbackEvent(
                event_id=str(data.get("event_id") or ""),
                gateway_transaction_id=str(data["transaction_id"]),
                merchant_reference=str(data["merchant_reference"]),
                amount=_money(data["amount"]),
                currency=str(data.get("currency") or ""),
                status=status,
                failure_code=failure_code,
                sequence=sequence,
                occurred_at=dt.datetime.fromisoformat(occurred) if isinstance(occurred, str) and occurred else None,
                decline=_decline(status, failure_code),
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise CallbackRejected(CALLBACK_MALFORMED, f"unreadable callback: {exc}", signature_valid=True) from exc
