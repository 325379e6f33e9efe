"""Fixtures of the payment tests: the seed masters (from the demand tests), a cashier, bills to pay, snapshots.

Times are fixed: demands and bills at ``AT`` (2024-05-01 10:00 UTC; a bill without expiry time expires at the
end of that day in Asia/Kolkata, 18:29:59.999 UTC), payments at ``PAY_AT``, reversals at ``CANCEL_AT``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from bills.models import Bill, BillAccountDetail, BillDetail
from bills.services import FetchCriteria, bill_fetch
from demands.models import ConsumerAccount, Demand, DemandDetail, DemandDetailHistory, DemandHistory
from demands.services import DemandInput, DetailInput, demand_create
from masters.access import Caller, caller_for
from masters.models import IdSequence, Role, TaxHeadMaster, Tenant
from payments.models import Payment, PaymentAccountLine, PaymentApplication, PaymentDetail, PaymentWriteBack
from payments.services import PaymentDetailInput, PaymentInput, payment_create
from tests.demands import conftest as demand_fixtures
from tests.demands.conftest import (
    PTAN2017_FROM,
    PTAN2017_TO,
    PTAN2018_FROM,
    PTAN2018_TO,
    PTAN2019_FROM,
    PTAN2019_TO,
    WCAN2019_FROM,
    WCAN2019_TO,
    WCAN2020_FROM,
    WCAN2020_TO,
    line,
    ms,
    pt_demand,
    wc_demand,
)

# Fixtures of the demand tests, used here too (pytest finds fixtures by module attribute).
seed = demand_fixtures.seed
wc_masters = demand_fixtures.wc_masters
employee_user = demand_fixtures.employee_user
employee = demand_fixtures.employee
advance_service_without_head = demand_fixtures.advance_service_without_head

AT = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
PAY_AT = dt.datetime(2024, 5, 1, 11, 0, tzinfo=dt.UTC)
CANCEL_AT = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
AFTER_EXPIRY = dt.datetime(2024, 5, 1, 18, 30, tzinfo=dt.UTC)
CITY = "pb.amritsar"


@pytest.fixture
def interest_head(seed: dict[str, Tenant]) -> TaxHeadMaster:
    """PT_TIME_INTEREST (order 1) — not in the seed, needed by the reference's §14.2 example."""
    return TaxHeadMaster.objects.create(
        tenant=seed["pb"],
        code="PT_TIME_INTEREST",
        service="PT",
        name="Interest",
        category="PENALTY",
        order=1,
    )


@pytest.fixture
def cashier(seed: dict[str, Tenant], user_factory: Callable[..., Any]) -> Caller:
    return caller_for(user_factory("cashier-asr", {CITY: [Role.CASHIER]}))


def fetch_bill(caller: Caller, consumer_code: str, service: str = "PT", at: dt.datetime = AT) -> Bill | None:
    """The consumer's current bill through ``bill_fetch`` (None when nothing is due)."""
    bills = bill_fetch(
        caller=caller,
        criteria=FetchCriteria(tenant_id=CITY, business_service=service, consumer_codes=(consumer_code,)),
        at=at,
    )
    assert len(bills) <= 1
    return bills[0] if bills else None


def make_bill(caller: Caller, *demands: DemandInput, at: dt.datetime = AT) -> Bill:
    """Create the demands and fetch the (one) consumer's bill."""
    demand_create(caller=caller, demands=list(demands), at=at)
    bill = fetch_bill(caller, demands[0].consumer_code, demands[0].business_service, at=at)
    assert bill is not None
    return bill


def pay_input(
    bill: Bill, amount: str | Decimal, *, mode: str = "CASH", due: str | Decimal | None = None, **kwargs: Any
) -> PaymentInput:
    paid = Decimal(amount)
    total_due = bill.total_amount if due is None else Decimal(due)
    kwargs.setdefault("paid_by", "Owner")
    if mode in ("CHEQUE", "DD", "OFFLINE_NEFT", "OFFLINE_RTGS", "POSTAL_ORDER"):
        kwargs.setdefault("instrument_number", "000123")
        kwargs.setdefault("instrument_date", AT)
    return PaymentInput(
        tenant_code=kwargs.pop("tenant_code", CITY),
        payment_mode=mode,
        total_due=total_due,
        total_amount_paid=paid,
        details=(
            PaymentDetailInput(
                bill_id=bill.pk,
                business_service=kwargs.pop("business_service", bill.business_service),
                total_due=total_due,
                total_amount_paid=paid,
            ),
        ),
        **kwargs,
    )


def pay(caller: Caller, bill: Bill, amount: str | Decimal, *, at: dt.datetime = PAY_AT, **kwargs: Any) -> Payment:
    return payment_create(caller=caller, payment=pay_input(bill, amount, **kwargs), at=at)


def lines_of(consumer_code: str, service: str = "PT") -> list[tuple[str, Decimal, Decimal]]:
    """(tax head, tax, collection) of every line of the consumer, oldest demand first."""
    return list(
        DemandDetail.objects.filter(demand__consumer_code=consumer_code, demand__business_service=service)
        .order_by("demand__tax_period_from", "created_at", "tax_head_code", "pk")
        .values_list("tax_head_code", "tax_amount", "collection_amount")
    )


def detail_snapshot() -> list[tuple[Any, ...]]:
    """Every demand detail as stored, minus the modification stamp (which a reversal rewrites)."""
    return list(
        DemandDetail.objects.order_by("pk").values_list(
            "pk",
            "demand_id",
            "tax_head_code",
            "tax_amount",
            "collection_amount",
            "additional_details",
            "created_by",
            "created_at",
        )
    )


def demand_flags() -> list[tuple[Any, ...]]:
    return list(Demand.objects.order_by("pk").values_list("pk", "status", "is_payment_completed"))


@dataclass(frozen=True)
class State:
    """Everything a payment write touches: row counts, values, bill states, revisions, sequences."""

    counts: tuple[int, ...]
    details: list[tuple[Any, ...]]
    flags: list[tuple[Any, ...]]
    bills: list[tuple[Any, ...]]
    bill_details: list[tuple[Any, ...]]
    account_lines: list[tuple[Any, ...]]
    revisions: list[tuple[Any, ...]]
    sequences: list[tuple[Any, ...]]


def state() -> State:
    return State(
        counts=tuple(
            model.objects.count()
            for model in (
                Payment,
                PaymentDetail,
                PaymentAccountLine,
                PaymentApplication,
                PaymentWriteBack,
                DemandDetail,
                DemandHistory,
                DemandDetailHistory,
                Bill,
            )
        ),
        details=detail_snapshot(),
        flags=demand_flags(),
        bills=list(Bill.objects.order_by("pk").values_list("pk", "status", "modified_at")),
        bill_details=list(BillDetail.objects.order_by("pk").values_list("pk", "amount_paid")),
        account_lines=list(BillAccountDetail.objects.order_by("pk").values_list("pk", "adjusted_amount")),
        revisions=list(ConsumerAccount.objects.order_by("pk").values_list("pk", "revision")),
        sequences=list(IdSequence.objects.order_by("name").values_list("name", "last_value")),
    )


_codes = itertools.count(1)


def next_consumer(prefix: str = "PT-PROP") -> str:
    return f"{prefix}-{next(_codes):05d}"


__all__ = [
    "AFTER_EXPIRY",
    "AT",
    "CANCEL_AT",
    "CITY",
    "PAY_AT",
    "PTAN2017_FROM",
    "PTAN2017_TO",
    "PTAN2018_FROM",
    "PTAN2018_TO",
    "PTAN2019_FROM",
    "PTAN2019_TO",
    "WCAN2019_FROM",
    "WCAN2019_TO",
    "WCAN2020_FROM",
    "WCAN2020_TO",
    "DetailInput",
    "demand_flags",
    "detail_snapshot",
    "fetch_bill",
    "line",
    "lines_of",
    "make_bill",
    "ms",
    "next_consumer",
    "pay",
    "pay_input",
    "pt_demand",
    "state",
    "wc_demand",
]
