"""Fixtures of the demand tests: the seed masters of state ``pb``, WaterCharges masters, callers, inputs.

Times are fixed: the seed's PT periods (epoch ms) and the ``AT``/``LATER`` instants passed to services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from billing_project.digit.timeconv import from_epoch_ms
from demands.models import ConsumerAccount, Demand, DemandDetail, DemandDetailHistory, DemandHistory
from demands.services import DemandInput, DetailInput, PayerInput
from masters.access import Caller, caller_for
from masters.models import BusinessService, Payer, PayerType, Role, TaxHeadMaster, TaxPeriod, Tenant

# Seed periods (masters/fixtures/mdms/pb/TaxPeriod.json), epoch milliseconds.
PTAN2019_FROM, PTAN2019_TO = 1554076799000, 1585679399000
PTAN2018_FROM, PTAN2018_TO = 1522540800000, 1554076799000
PTAN2017_FROM, PTAN2017_TO = 1491004800000, 1522540798000
PTAN2016_FROM, PTAN2016_TO = 1459468800000, 1491004799000
TLAN2018_FROM, TLAN2018_TO = 1522540800000, 1554076799000

# WaterCharges periods created by ``wc_masters`` (UTC midnights).
WCAN2019_FROM, WCAN2019_TO = 1554076800000, 1585699199000  # 2019-04-01 .. 2020-03-31 23:59:59 UTC
WCAN2020_FROM, WCAN2020_TO = 1585699200000, 1617235199000  # 2020-04-01 .. 2021-03-31 23:59:59 UTC

AT = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
AT_MS = 1714557600000
LATER = dt.datetime(2024, 5, 2, 11, 30, tzinfo=dt.UTC)
LATER_MS = 1714649400000

MASTERS_DIR = settings.BASE_DIR / "masters" / "fixtures" / "mdms"


def ms(value: int) -> dt.datetime:
    result = from_epoch_ms(value)
    assert result is not None
    return result


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seed(tenant_factory: Callable[[str], Tenant]) -> dict[str, Tenant]:
    """The seed masters of ``pb`` (PT, WC, TL) and the cities pb.amritsar and pb.jalandhar."""
    call_command("load_mdms", str(MASTERS_DIR), stdout=_Null())
    return {
        "pb": Tenant.objects.get(code="pb"),
        "amritsar": tenant_factory("pb.amritsar"),
        "jalandhar": tenant_factory("pb.jalandhar"),
    }


class _Null:
    def write(self, *_: Any) -> None:
        pass

    def flush(self) -> None:
        pass


@pytest.fixture
def wc_masters(seed: dict[str, Tenant]) -> dict[str, Any]:
    """WaterCharges (isAdvanceAllowed=true in the seed) gets a charge head, an advance head and two periods."""
    pb = seed["pb"]
    return {
        "charge": TaxHeadMaster.objects.create(
            tenant=pb, code="WS_CHARGE", service="WC", name="Water charge", category="CHARGES", order=2
        ),
        "penalty": TaxHeadMaster.objects.create(
            tenant=pb, code="WS_TIME_PENALTY", service="WC", name="Water penalty", category="PENALTY", order=1
        ),
        "advance": TaxHeadMaster.objects.create(
            tenant=pb,
            code="WS_ADVANCE_CARRYFORWARD",
            service="WC",
            name="Water advance",
            category="ADVANCE_COLLECTION",
            order=0,
        ),
        "p2019": TaxPeriod.objects.create(
            tenant=pb,
            service="WC",
            code="WCAN2019",
            from_date=ms(WCAN2019_FROM),
            to_date=ms(WCAN2019_TO),
            period_cycle="ANNUAL",
            financial_year="2019-20",
        ),
        "p2020": TaxPeriod.objects.create(
            tenant=pb,
            service="WC",
            code="WCAN2020",
            from_date=ms(WCAN2020_FROM),
            to_date=ms(WCAN2020_TO),
            period_cycle="ANNUAL",
            financial_year="2020-21",
        ),
    }


@pytest.fixture
def employee_user(seed: dict[str, Tenant], user_factory: Callable[..., Any]) -> Any:
    return user_factory("emp-asr", {"pb.amritsar": [Role.EMPLOYEE]})


@pytest.fixture
def employee(employee_user: Any) -> Caller:
    return caller_for(employee_user)


@pytest.fixture
def payer_factory(seed: dict[str, Tenant]) -> Callable[..., Payer]:
    def make(name: str, mobile: str, **kwargs: Any) -> Payer:
        kwargs.setdefault("type", PayerType.CITIZEN)
        return Payer.objects.create(tenant=seed["pb"], name=name, mobile_number=mobile, **kwargs)

    return make


def line(code: str, tax: str, collection: str | None = None, **kwargs: Any) -> DetailInput:
    return DetailInput(
        tax_head_code=code,
        tax_amount=Decimal(tax),
        collection_amount=None if collection is None else Decimal(collection),
        **kwargs,
    )


def pt_demand(
    consumer_code: str = "PT-107-001",
    *,
    tenant: str = "pb.amritsar",
    period: tuple[int, int] = (PTAN2019_FROM, PTAN2019_TO),
    details: tuple[DetailInput, ...] | None = None,
    payer: PayerInput | None = None,
    **kwargs: Any,
) -> DemandInput:
    return DemandInput(
        tenant_code=tenant,
        consumer_code=consumer_code,
        consumer_type=kwargs.pop("consumer_type", "BUILTUP"),
        business_service=kwargs.pop("business_service", "PT"),
        tax_period_from=ms(period[0]),
        tax_period_to=ms(period[1]),
        details=details if details is not None else (line("PT_TAX", "500"),),
        payer=payer,
        **kwargs,
    )


def wc_demand(
    consumer_code: str = "WS-107-001",
    *,
    period: tuple[int, int] = (WCAN2019_FROM, WCAN2019_TO),
    details: tuple[DetailInput, ...] | None = None,
    **kwargs: Any,
) -> DemandInput:
    return pt_demand(
        consumer_code,
        period=period,
        details=details if details is not None else (line("WS_CHARGE", "1000"),),
        business_service=kwargs.pop("business_service", "WC"),
        consumer_type=kwargs.pop("consumer_type", "waterConnection"),
        **kwargs,
    )


@dataclass(frozen=True)
class Snapshot:
    demands: int
    details: int
    history: int
    detail_history: int
    accounts: int
    payers: int
    revisions: tuple[tuple[str, str, str, int], ...]


def snapshot() -> Snapshot:
    """Row counts of everything a demand write touches, and every account's revision."""
    return Snapshot(
        demands=Demand.objects.count(),
        details=DemandDetail.objects.count(),
        history=DemandHistory.objects.count(),
        detail_history=DemandDetailHistory.objects.count(),
        accounts=ConsumerAccount.objects.count(),
        payers=Payer.objects.count(),
        revisions=tuple(
            ConsumerAccount.objects.order_by("tenant__code", "business_service", "consumer_code").values_list(
                "tenant__code", "business_service", "consumer_code", "revision"
            )
        ),
    )


def revision_of(consumer_code: str, business_service: str = "PT", tenant: str = "pb.amritsar") -> int:
    return ConsumerAccount.objects.get(
        tenant__code=tenant, business_service=business_service, consumer_code=consumer_code
    ).revision


@pytest.fixture
def advance_service_without_head(seed: dict[str, Tenant]) -> BusinessService:
    """A service that allows advance but has no ADVANCE_COLLECTION tax head (only a charge head)."""
    pb = seed["pb"]
    service = BusinessService.objects.create(tenant=pb, code="SW", business_service="Sewerage", is_advance_allowed=True)
    TaxHeadMaster.objects.create(tenant=pb, code="SW_CHARGE", service="SW", name="Sewerage", category="CHARGES")
    TaxPeriod.objects.create(
        tenant=pb,
        service="SW",
        code="SWAN2019",
        from_date=ms(WCAN2019_FROM),
        to_date=ms(WCAN2019_TO),
        period_cycle="ANNUAL",
        financial_year="2019-20",
    )
    TaxPeriod.objects.create(
        tenant=pb,
        service="SW",
        code="SWAN2020",
        from_date=ms(WCAN2020_FROM),
        to_date=ms(WCAN2020_TO),
        period_cycle="ANNUAL",
        financial_year="2020-21",
    )
    return service
