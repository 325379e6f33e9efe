"""Fixtures of the payment-method and autopay tests.

The seed masters (``pb``, PT/WC/TL), a citizen Asha (login ``asha``, role CITIZEN in ``pb``) linked to the payer
she is on demands as, an employee of pb.amritsar, and helpers for demands/bills of her consumers. Times are
fixed: ``AT`` = 2024-05-01 10:00 UTC. A demand made by ``asha_demand`` carries ``billExpiryTime`` 30 days, so
its bill stays current across the retry schedule unless a test says otherwise (``expiry=None``: end of day).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from bills.models import Bill
from bills.services import FetchCriteria, bill_fetch
from demands.services import DemandInput, PayerInput, demand_create
from masters.access import Caller, caller_for
from masters.models import Payer, PayerType, Role, Tenant
from payments.methods.models import AutopayCharge, AutopayMandate, PaymentMethod
from payments.methods.services import autopay_mandate_create, autopay_schedule_due, payment_method_register
from tests.demands import conftest as demand_fixtures
from tests.demands.conftest import PTAN2018_FROM, PTAN2018_TO, PTAN2019_FROM, PTAN2019_TO, line, pt_demand
from tests.sandbox_gateway import running_sandbox_gateway

seed = demand_fixtures.seed
employee_user = demand_fixtures.employee_user
employee = demand_fixtures.employee

AT = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
CITY = "pb.amritsar"
P2018 = (PTAN2018_FROM, PTAN2018_TO)
P2019 = (PTAN2019_FROM, PTAN2019_TO)
THIRTY_DAYS = dt.timedelta(days=30)
D = Decimal

_codes = itertools.count(1)


def next_consumer() -> str:
    return f"PT-AUTO-{next(_codes):05d}"


@pytest.fixture
def asha_user(seed: dict[str, Tenant], user_factory: Callable[..., Any]) -> Any:
    return user_factory("asha", {"pb": [Role.CITIZEN]})


@pytest.fixture
def asha_payer(seed: dict[str, Tenant], asha_user: Any) -> Payer:
    return Payer.objects.create(
        tenant=seed["pb"], name="Asha Devi", mobile_number="9876543210", type=PayerType.CITIZEN, user=asha_user
    )


@pytest.fixture
def asha(asha_user: Any, asha_payer: Payer) -> Caller:
    return caller_for(asha_user)


@pytest.fixture
def ravi_payer(seed: dict[str, Tenant], user_factory: Callable[..., Any]) -> Payer:
    user = user_factory("ravi", {"pb": [Role.CITIZEN]})
    return Payer.objects.create(
        tenant=seed["pb"], name="Ravi Kumar", mobile_number="9123456780", type=PayerType.CITIZEN, user=user
    )


@pytest.fixture
def ravi(ravi_payer: Payer) -> Caller:
    return caller_for(ravi_payer.user)


def demand_of(
    payer: Payer,
    consumer_code: str,
    amount: str = "1000",
    *,
    period: tuple[int, int] = P2019,
    expiry: dt.timedelta | None = THIRTY_DAYS,
) -> DemandInput:
    return pt_demand(
        consumer_code,
        period=period,
        details=(line("PT_TAX", amount),),
        payer=PayerInput(uuid=payer.pk),
        bill_expiry_time=expiry,
    )


def make_demands(caller: Caller, *demands: DemandInput, at: dt.datetime = AT) -> None:
    demand_create(caller=caller, demands=list(demands), at=at)


def fetch_bill(caller: Caller, consumer_code: str, *, at: dt.datetime = AT) -> Bill | None:
    bills = bill_fetch(
        caller=caller,
        criteria=FetchCriteria(tenant_id=CITY, business_service="PT", consumer_codes=(consumer_code,)),
        at=at,
    )
    return bills[0] if bills else None


def register(caller: Caller, token: str = "tok_visa_0001", *, at: dt.datetime = AT, **kwargs: Any) -> PaymentMethod:
    kwargs.setdefault("payer_id", None)
    kwargs.setdefault("label", "VISA •••• 4242")
    kwargs.setdefault("brand", "VISA")
    kwargs.setdefault("last4", "4242")
    kwargs.setdefault("expiry_month", 12)
    kwargs.setdefault("expiry_year", 2030)
    return payment_method_register(caller=caller, gateway_token=token, at=at, **kwargs)


def opt_in(
    caller: Caller, method: PaymentMethod, consumer_code: str, *, at: dt.datetime = AT, **kwargs: Any
) -> AutopayMandate:
    return autopay_mandate_create(
        caller=caller,
        tenant_code=kwargs.pop("tenant_code", CITY),
        business_service=kwargs.pop("business_service", "PT"),
        consumer_code=consumer_code,
        payment_method_id=method.pk,
        at=at,
        **kwargs,
    )


# --- the real sandbox gateway -----------------------------------------------------------------------------------

MANDATE_AT = AT + dt.timedelta(minutes=1)
BILL_AT = AT + dt.timedelta(minutes=5)
RUN_AT = AT + dt.timedelta(minutes=15)
DAY = dt.timedelta(days=1)
APPROVE = "4242424242424242"
HARD = "4000000000000002"
SOFT = "4000000000009995"


@pytest.fixture
def sandbox(settings: Any):
    with running_sandbox_gateway() as running:
        settings.PAYMENT_GATEWAY = "sandbox"
        settings.PAYMENT_GATEWAY_URL = running.url
        settings.PAYMENT_GATEWAY_SANDBOX_KEY = running.merchant_key
        settings.PAYMENT_GATEWAY_SANDBOX_SECRET = running.secret
        settings.PAYMENT_GATEWAY_CALL_RETRY_BASE_SECONDS = 0
        settings.PAYMENT_GATEWAY_CALL_RETRY_CAP_SECONDS = 0
        settings.AUTOPAY_RETRY_DELAYS_DAYS = [3, 3, 3]
        running.faults(callback_mode="manual")
        yield running


def tokenise(sandbox, card_number: str) -> dict[str, Any]:
    """What the gateway's tokenisation page hands back (our service never sees the card number)."""
    with sandbox.merchant_client() as client:
        response = client.post(
            "/v1/tokens",
            json={
                "card_number": card_number,
                "expiry_month": 12,
                "expiry_year": 2030,
                "holder_name": "Asha Devi",
                "customer_reference": "asha",
            },
        )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def autopay(sandbox, asha, asha_payer, employee):
    """Asha's consumer with a 1000.00 bill generated after her opt-in; returns a function taking a card number."""

    def setup(card_number: str) -> tuple[PaymentMethod, Bill, AutopayCharge, dict[str, Any]]:
        token = tokenise(sandbox, card_number)
        method = register(
            asha,
            token["token"],
            label=token["label"],
            brand=token["brand"],
            last4=token["last4"],
            expiry_month=token["expiry_month"],
            expiry_year=token["expiry_year"],
        )
        code = next_consumer()
        make_demands(employee, demand_of(asha_payer, code, "1000"))
        opt_in(asha, method, code, at=MANDATE_AT)
        bill = fetch_bill(employee, code, at=BILL_AT)
        result = autopay_schedule_due(at=RUN_AT)
        [charge] = AutopayCharge.objects.filter(pk__in=result.scheduled)
        return method, bill, charge, token

    return setup


def charge_row(charge: AutopayCharge) -> tuple[Any, ...]:
    charge.refresh_from_db()
    return (charge.status, charge.attempt, charge.next_retry_at, charge.failure_code)


__all__ = [
    "APPROVE",
    "AT",
    "BILL_AT",
    "CITY",
    "DAY",
    "HARD",
    "MANDATE_AT",
    "P2018",
    "P2019",
    "RUN_AT",
    "SOFT",
    "THIRTY_DAYS",
    "D",
    "charge_row",
    "demand_of",
    "fetch_bill",
    "make_demands",
    "next_consumer",
    "opt_in",
    "register",
    "tokenise",
]
