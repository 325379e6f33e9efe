"""Fixtures of the end-to-end gateway flows: the sandbox gateway and our Django app, both as real local HTTP
servers (the sandbox in a thread; our app through pytest-django's ``live_server``), wired to each other:
our adapter calls the sandbox, the sandbox POSTs its signed callbacks to our real callback endpoint.

Everything runs in committed transactions (``live_server`` implies ``transactional_db``). Times are injected:
the flows freeze ``billing_project.clock`` (the sandbox reads the same clock, so the signatures it makes are
as old as our endpoint expects). Retries inside a gateway call wait 0 s (settings), so no test sleeps.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from billing_project import clock
from bills.models import Bill
from masters.access import Caller, caller_for
from masters.models import Role
from tests.payments import conftest as payment_fixtures
from tests.payments.conftest import AT, CITY, line, make_bill, next_consumer, pt_demand
from tests.sandbox_gateway import RunningSandbox, running_sandbox_gateway

seed = payment_fixtures.seed
employee_user = payment_fixtures.employee_user
employee = payment_fixtures.employee

SECRET = "flows-sandbox-secret"
KEY = "flows-sandbox-merchant-key"
D = Decimal
# Bills are made at AT (2024-05-01 10:00 UTC) and stay current until the end of that day in Asia/Kolkata
# (18:29:59 UTC): every flow happens between PAY_AT and then.
PAY_AT = dt.datetime(2024, 5, 1, 11, 0, tzinfo=dt.UTC)


@pytest.fixture
def flow_settings(settings: Any) -> Any:
    settings.PAYMENT_GATEWAY = "sandbox"
    settings.PAYMENT_GATEWAY_SANDBOX_SECRET = SECRET
    settings.PAYMENT_GATEWAY_SANDBOX_KEY = KEY
    settings.PAYMENT_GATEWAY_CALL_RETRY_BASE_SECONDS = 0.0
    settings.PAYMENT_GATEWAY_CALL_RETRY_CAP_SECONDS = 0.0
    settings.PAYMENT_GATEWAY_RETRY_JITTER = 0.0
    settings.PAYMENT_GATEWAY_CONNECT_TIMEOUT = 2.0
    settings.PAYMENT_GATEWAY_READ_TIMEOUT = 5.0
    return settings


@pytest.fixture
def sandbox(flow_settings: Any, live_server: Any) -> Iterator[RunningSandbox]:
    """The sandbox on a free port, callbacks queued until delivered (manual); our adapter pointed at it and
    our callback URL at the live server."""
    with running_sandbox_gateway(secret=SECRET, merchant_key=KEY) as running:
        running.faults(callback_mode="manual")
        flow_settings.PAYMENT_GATEWAY_URL = running.url
        flow_settings.PAYMENT_GATEWAY_CALLBACK_BASE_URL = live_server.url
        yield running


@pytest.fixture
def payer(seed: Any, user_factory: Callable[..., Any]) -> Caller:
    """A citizen of the city: may pay bills online."""
    return caller_for(user_factory("citizen-asr", {CITY: [Role.CITIZEN]}))


@pytest.fixture
def make_pt_bill(employee: Caller) -> Callable[[], Bill]:
    """A new consumer's PT bill of 1100: PT_TAX 1000 + PT_FIRE_CESS 100 (part payments allowed, whole amounts)."""

    def make() -> Bill:
        return make_bill(
            employee, pt_demand(next_consumer("PT-FLOW"), details=(line("PT_TAX", "1000"), line("PT_FIRE_CESS", "100")))
        )

    return make


@contextlib.contextmanager
def at(moment: dt.datetime) -> Iterator[dt.datetime]:
    """Freeze the clock (ours, and the sandbox's) at ``moment``."""
    with clock.frozen(moment) as frozen:
        yield frozen


def sandbox_ids(sandbox: RunningSandbox) -> dict[str, list[dict[str, Any]]]:
    """The sandbox's transactions by merchant reference."""
    found: dict[str, list[dict[str, Any]]] = {}
    for txn in sandbox.state()["transactions"]:
        found.setdefault(txn["merchant_reference"], []).append(txn)
    return found


__all__ = ["AT", "CITY", "KEY", "PAY_AT", "SECRET", "D", "at", "sandbox_ids"]
