"""Fixtures of the gateway tests: a bill to pay, the sandbox gateway as a real local HTTP server with our
adapter pointed at it, signed callbacks, and a transaction row in a chosen state.

Retries inside a call wait 0 s and jitter is 0 (settings), so that schedules are exact and no test sleeps.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from bills.models import Bill
from masters.access import Caller, caller_for
from masters.models import Role
from payments.gateway.domain.signature import signature_header
from payments.gateway.models import GatewayTransaction, TransactionStatus
from tests.payments import conftest as payment_fixtures
from tests.payments.conftest import AT, CITY, PAY_AT, line, make_bill, next_consumer, pt_demand
from tests.sandbox_gateway import RunningSandbox, running_sandbox_gateway

seed = payment_fixtures.seed
employee_user = payment_fixtures.employee_user
employee = payment_fixtures.employee
cashier = payment_fixtures.cashier

SECRET = "gateway-test-secret"
KEY = "gateway-test-key"
D = Decimal


@pytest.fixture(autouse=True)
def _gateway_settings(settings: Any) -> None:
    settings.PAYMENT_GATEWAY_CALL_RETRY_BASE_SECONDS = 0.0
    settings.PAYMENT_GATEWAY_RETRY_JITTER = 0.0
    settings.PAYMENT_GATEWAY_SANDBOX_SECRET = SECRET
    settings.PAYMENT_GATEWAY_SANDBOX_KEY = KEY
    settings.PAYMENT_GATEWAY_URL = "http://127.0.0.1:9"  # nothing listens: tests that call use `sandbox`
    settings.PAYMENT_GATEWAY_CALLBACK_BASE_URL = "http://testserver"


@pytest.fixture(scope="module")
def _sandbox_server() -> Iterator[RunningSandbox]:
    with running_sandbox_gateway(secret=SECRET, merchant_key=KEY) as running:
        yield running


@pytest.fixture
def sandbox(_sandbox_server: RunningSandbox, settings: Any) -> Iterator[RunningSandbox]:
    """The sandbox, reset, callbacks queued (manual), our adapter pointed at it."""
    _sandbox_server.reset()
    _sandbox_server.faults(callback_mode="manual")
    settings.PAYMENT_GATEWAY_URL = _sandbox_server.url
    yield _sandbox_server
    _sandbox_server.reset()


@pytest.fixture
def payer(seed: Any, user_factory: Any) -> Caller:
    """A citizen of the city (may pay online)."""
    return caller_for(user_factory("citizen-asr", {CITY: [Role.CITIZEN]}))


@pytest.fixture
def bill(employee: Caller) -> Bill:
    """PT 2019-20: PT_TAX 1000 + PT_FIRE_CESS 100 = 1100 (part payments allowed, whole amounts)."""
    return make_bill(
        employee, pt_demand(next_consumer(), details=(line("PT_TAX", "1000"), line("PT_FIRE_CESS", "100")))
    )


def make_txn(
    bill: Bill, amount: str = "1100", *, status: str = TransactionStatus.PENDING, **kwargs: Any
) -> GatewayTransaction:
    """A transaction row as if initiated at ``AT`` (test data, written directly)."""
    txn_id = uuid.uuid4()
    reference = f"GTX-{txn_id.hex}"
    fields: dict[str, Any] = {
        "id": txn_id,
        "merchant_reference": reference,
        "idempotency_key": f"{reference}:initiate",
        "gateway": "sandbox",
        "gateway_transaction_id": f"txn_{txn_id.hex[:12]}",
        "tenant": bill.tenant,
        "bill": bill,
        "consumer_code": bill.consumer_code,
        "business_service": bill.business_service,
        "amount": D(amount),
        "status": status,
        "next_poll_at": AT + dt.timedelta(minutes=5),
        "created_by": "test",
        "created_at": AT,
        "updated_at": AT,
    }
    fields.update(kwargs)
    return GatewayTransaction.objects.create(**fields)


def callback_body(txn: GatewayTransaction, status: str = "SUCCESS", **overrides: Any) -> bytes:
    payload: dict[str, Any] = {
        "event_id": f"evt_{uuid.uuid4().hex[:10]}",
        "transaction_id": txn.gateway_transaction_id,
        "merchant_reference": txn.merchant_reference,
        "amount": f"{txn.amount:.2f}",
        "currency": "INR",
        "status": status,
        "failure_code": "payer_declined" if status == "FAILURE" else None,
        "sequence": 2,
        "occurred_at": PAY_AT.isoformat(),
    }
    payload.update(overrides)
    return json.dumps(payload).encode()


def signed(body: bytes, at: dt.datetime = PAY_AT, secret: str = SECRET) -> str:
    return signature_header(secret, int(at.timestamp()), body)


__all__ = ["AT", "CITY", "KEY", "PAY_AT", "SECRET", "D", "callback_body", "make_txn", "signed"]
