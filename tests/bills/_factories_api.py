"""Deterministic helpers of the bill API, print and admin tests: seed masters, demands, bills, callers.

Times are fixed. ``AT`` is 2024-05-01 15:30 in Asia/Kolkata (the billing time zone), so a bill generated at
``AT`` with no ``billExpiryTime`` expires at the end of that day there: ``EXPIRY_AT_MS``. ``LATER`` is the
next day, when that bill is stale.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from billing_project import clock
from billing_project.digit.timeconv import from_epoch_ms
from bills.models import Bill
from bills.services import FetchCriteria, bill_fetch
from demands.models import Demand
from demands.services import DemandInput, DetailInput, PayerInput, demand_create
from masters.access import Caller
from masters.models import Payer, PayerType, Role, TaxHeadMaster, Tenant, UserRole

MASTERS_DIR = settings.BASE_DIR / "masters" / "fixtures" / "mdms"

# Seed PT periods (masters/fixtures/mdms/pb/TaxPeriod.json), epoch milliseconds.
PTAN2019 = (1554076799000, 1585679399000)
PTAN2018 = (1522540800000, 1554076799000)

AT = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
AT_MS = 1714557600000
EXPIRY_AT_MS = 1714588199999  # 2024-05-01 23:59:59.999 Asia/Kolkata
LATER = dt.datetime(2024, 5, 2, 11, 30, tzinfo=dt.UTC)
LATER_MS = 1714649400000
EXPIRY_LATER_MS = 1714674599999  # 2024-05-02 23:59:59.999 Asia/Kolkata

REQUEST_INFO = {"apiId": "Rainmaker", "ver": ".01", "ts": 1700000000000, "msgId": "20170310130900|en_IN"}


def response_info(status: str) -> dict[str, Any]:
    return {
        "apiId": "Rainmaker",
        "ver": ".01",
        "ts": 1700000000000,
        "resMsgId": None,
        "msgId": "20170310130900|en_IN",
        "status": status,
    }


def errors(*entries: tuple[str, str]) -> dict[str, Any]:
    return {
        "ResponseInfo": None,
        "Errors": [
            {"code": code, "message": message, "description": None, "params": None} for code, message in entries
        ],
    }


def ms(value: int) -> dt.datetime:
    result = from_epoch_ms(value)
    assert result is not None
    return result


def load_seed() -> dict[str, Tenant]:
    """The seed masters of ``pb``, the cities pb.amritsar and pb.jalandhar, and a PT interest head (order 1)."""
    call_command("load_mdms", str(MASTERS_DIR), stdout=io.StringIO())
    pb = Tenant.objects.get(code="pb")
    TaxHeadMaster.objects.get_or_create(
        tenant=pb,
        code="PT_TIME_INTEREST",
        defaults={"service": "PT", "name": "Interest", "category": "PENALTY", "order": 1},
    )
    return {
        "pb": pb,
        "amritsar": Tenant.objects.get_or_create(code="pb.amritsar", defaults={"name": "Amritsar", "state": pb})[0],
        "jalandhar": Tenant.objects.get_or_create(code="pb.jalandhar", defaults={"name": "Jalandhar", "state": pb})[0],
    }


def make_user(username: str, roles: dict[str, Sequence[str]] | None = None, *, superuser: bool = False) -> Any:
    user = get_user_model().objects.create_user(
        username=username, password="pw-" + username, is_superuser=superuser, is_staff=superuser
    )
    for tenant_code, names in (roles or {}).items():
        tenant = Tenant.objects.get(code=tenant_code)
        for role in names:
            UserRole.objects.create(user=user, tenant=tenant, role=role)
    return user


def token_client(user: Any) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def employee(username: str = "emp-asr", tenant: str = "pb.amritsar") -> Any:
    return make_user(username, {tenant: [Role.EMPLOYEE]})


def citizen_payer(username: str, name: str, mobile: str, **kwargs: Any) -> tuple[Any, Payer]:
    """A citizen login (role CITIZEN in ``pb``) linked to a payer of the state registry."""
    user = make_user(username, {"pb": [Role.CITIZEN]})
    payer = Payer.objects.create(
        tenant=Tenant.objects.get(code="pb"),
        name=name,
        mobile_number=mobile,
        type=PayerType.CITIZEN,
        user=user,
        **kwargs,
    )
    return user, payer


def line(code: str, tax: str, collection: str | None = None) -> DetailInput:
    return DetailInput(
        tax_head_code=code,
        tax_amount=Decimal(tax),
        collection_amount=None if collection is None else Decimal(collection),
    )


def pt_demand(
    caller: Caller,
    consumer_code: str = "PT-107-001",
    *,
    period: tuple[int, int] = PTAN2019,
    lines: tuple[DetailInput, ...] = (),
    payer: Payer | None = None,
    tenant: str = "pb.amritsar",
    at: dt.datetime = AT,
    **kwargs: Any,
) -> Demand:
    demand = DemandInput(
        tenant_code=tenant,
        consumer_code=consumer_code,
        consumer_type="BUILTUP",
        business_service="PT",
        tax_period_from=ms(period[0]),
        tax_period_to=ms(period[1]),
        details=lines or (line("PT_TAX", "500"),),
        payer=PayerInput(uuid=payer.uuid) if payer is not None else None,
        **kwargs,
    )
    return demand_create(caller=caller, demands=[demand], at=at)[0]


def two_period_demands(caller: Caller, consumer_code: str = "PT-107-001", payer: Payer | None = None) -> list[Demand]:
    """Reference §14.1: 2018-19 ``PT_TAX 500``; 2019-20 ``PT_TAX 1000, PT_TIME_REBATE -50`` and two interest lines."""
    return [
        pt_demand(caller, consumer_code, period=PTAN2018, lines=(line("PT_TAX", "500"),), payer=payer),
        pt_demand(
            caller,
            consumer_code,
            period=PTAN2019,
            lines=(
                line("PT_TAX", "1000"),
                line("PT_TIME_REBATE", "-50"),
                line("PT_TIME_INTEREST", "20"),
                line("PT_TIME_INTEREST", "5"),
            ),
            payer=payer,
            additional_details={"assessmentNumber": "AS-1"},
        ),
    ]


def fetch(caller: Caller, *codes: str, tenant: str = "pb.amritsar", at: dt.datetime = AT) -> list[Bill]:
    """Bills through the service (test setup)."""
    with clock.frozen(at):
        return bill_fetch(
            caller=caller,
            criteria=FetchCriteria(tenant_id=tenant, business_service="PT", consumer_codes=codes),
            at=at,
        )
