"""Fixtures of the bill tests: the seed masters of ``pb`` (plus PT_TIME_INTEREST), callers, demand and fetch helpers.

Times are fixed and passed explicitly: ``AT`` (2024-05-01 15:30 IST) and ``LATER`` (2024-05-02 17:00 IST). A bill
built at ``AT`` from a demand without ``billExpiryTime`` expires at ``END_OF_AT_DAY`` (2024-05-01 23:59:59.999 IST).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command

from bills.models import Bill, BillAccountDetail, BillDetail
from bills.services import FetchCriteria, bill_fetch
from demands.models import ConsumerAccount, Demand
from demands.services import DemandInput, DetailInput, PayerInput, demand_create, demand_update
from masters.access import Caller, caller_for
from masters.models import IdSequence, Payer, PayerType, Role, TaxHeadMaster, Tenant
from tests.demands.conftest import (
    PTAN2018_FROM,
    PTAN2018_TO,
    PTAN2019_FROM,
    PTAN2019_TO,
    line,
    ms,
    pt_demand,
)

IST = ZoneInfo("Asia/Kolkata")
AT = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)  # 15:30 IST
LATER = dt.datetime(2024, 5, 2, 11, 30, tzinfo=dt.UTC)  # 17:00 IST, the day after AT
END_OF_AT_DAY = dt.datetime(2024, 5, 1, 23, 59, 59, 999000, tzinfo=IST)
END_OF_LATER_DAY = dt.datetime(2024, 5, 2, 23, 59, 59, 999000, tzinfo=IST)
MASTERS_DIR = settings.BASE_DIR / "masters" / "fixtures" / "mdms"

P2018 = (PTAN2018_FROM, PTAN2018_TO)
P2019 = (PTAN2019_FROM, PTAN2019_TO)

__all__ = [
    "AT",
    "END_OF_AT_DAY",
    "END_OF_LATER_DAY",
    "IST",
    "LATER",
    "P2018",
    "P2019",
    "BillSnapshot",
    "bill_snapshot",
    "create",
    "fetch",
    "line",
    "ms",
    "pt_demand",
    "set_tax",
]


class _Null:
    def write(self, *_: Any) -> None:
        pass

    def flush(self) -> None:
        pass


@pytest.fixture
def seed(tenant_factory: Callable[[str], Tenant]) -> dict[str, Tenant]:
    """The seed masters of ``pb`` (PT, WC, TL), PT_TIME_INTEREST (order 1), and the cities amritsar and jalandhar."""
    call_command("load_mdms", str(MASTERS_DIR), stdout=_Null())
    pb = Tenant.objects.get(code="pb")
    TaxHeadMaster.objects.create(
        tenant=pb, code="PT_TIME_INTEREST", service="PT", name="Pt time interest", category="PENALTY", order=1
    )
    return {"pb": pb, "amritsar": tenant_factory("pb.amritsar"), "jalandhar": tenant_factory("pb.jalandhar")}


@pytest.fixture
def employee(seed: dict[str, Tenant], user_factory: Callable[..., Any]) -> Caller:
    return caller_for(user_factory("emp-asr", {"pb.amritsar": [Role.EMPLOYEE]}))


@pytest.fixture
def jalandhar_employee(seed: dict[str, Tenant], user_factory: Callable[..., Any]) -> Caller:
    return caller_for(user_factory("emp-jal", {"pb.jalandhar": [Role.EMPLOYEE]}))


@pytest.fixture
def payer_factory(seed: dict[str, Tenant]) -> Callable[..., Payer]:
    def make(name: str, mobile: str, **kwargs: Any) -> Payer:
        kwargs.setdefault("type", PayerType.CITIZEN)
        return Payer.objects.create(tenant=seed["pb"], name=name, mobile_number=mobile, **kwargs)

    return make


@pytest.fixture
def citizen_factory(
    seed: dict[str, Tenant], user_factory: Callable[..., Any], payer_factory: Callable[..., Payer]
) -> Callable[..., tuple[Caller, Payer]]:
    """A citizen login (role CITIZEN in ``pb``) linked to a payer of the registry."""

    def make(username: str, name: str, mobile: str, **kwargs: Any) -> tuple[Caller, Payer]:
        user = user_factory(username, {"pb": [Role.CITIZEN]})
        payer = payer_factory(name, mobile, user=user, **kwargs)
        return caller_for(user), payer

    return make


def create(caller: Caller, *demands: DemandInput, at: dt.datetime = AT) -> list[Demand]:
    return demand_create(caller=caller, demands=list(demands), at=at)


def set_tax(
    caller: Caller, demand: Demand, head: str, amount: str, *, at: dt.datetime = LATER, **changes: Any
) -> Demand:
    """``demand_update`` of one demand: the line of ``head`` gets ``amount``, every other line is kept."""
    lines = tuple(
        DetailInput(
            id=d.pk,
            tax_head_code=d.tax_head_code,
            tax_amount=Decimal(amount) if d.tax_head_code == head else d.tax_amount,
        )
        for d in demand.details.order_by("created_at", "pk")
    )
    data = DemandInput(
        id=demand.pk,
        tenant_code=demand.tenant.code,
        consumer_code=demand.consumer_code,
        consumer_type=demand.consumer_type,
        business_service=demand.business_service,
        tax_period_from=demand.tax_period_from,
        tax_period_to=demand.tax_period_to,
        details=lines + tuple(changes.pop("add", ())),
        payer=PayerInput(uuid=demand.payer_id) if demand.payer_id else None,
        bill_expiry_time=demand.bill_expiry_time,
        fixed_bill_expiry_date=demand.fixed_bill_expiry_date,
        additional_details=demand.additional_details,
        **changes,
    )
    [updated] = [d for d in demand_update(caller=caller, demands=[data], at=at) if d.pk == demand.pk]
    return updated


def fetch(
    caller: Caller,
    *codes: str,
    tenant: str | None = "pb.amritsar",
    service: str | None = "PT",
    at: dt.datetime = AT,
    **criteria: Any,
) -> list[Bill]:
    return bill_fetch(
        caller=caller,
        criteria=FetchCriteria(tenant_id=tenant, business_service=service, consumer_codes=codes, **criteria),
        at=at,
    )


@dataclass(frozen=True)
class BillSnapshot:
    bills: tuple[tuple[str, str, str, Decimal], ...]  # (consumer code, bill number, status, total)
    details: int
    account_details: int
    sequences: tuple[tuple[str, int], ...]
    revisions: tuple[tuple[str, int], ...]


def bill_snapshot() -> BillSnapshot:
    """Every bill row, the detail counts, the id sequences and the account revisions."""
    return BillSnapshot(
        bills=tuple(
            Bill.objects.order_by("bill_number").values_list("consumer_code", "bill_number", "status", "total_amount")
        ),
        details=BillDetail.objects.count(),
        account_details=BillAccountDetail.objects.count(),
        sequences=tuple(IdSequence.objects.order_by("name").values_list("name", "last_value")),
        revisions=tuple(ConsumerAccount.objects.order_by("consumer_code").values_list("consumer_code", "revision")),
    )
