"""Advance carry-forward through demand_create on the database (reference §7.1 step 5, §7.8.3, fixed [23])."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from billing_project.errors import DomainError
from demands.models import Demand, DemandDetail, DemandDetailHistory, DemandHistory
from demands.services import demand_cancel, demand_create, demand_update
from tests.demands.conftest import (
    AT,
    LATER,
    PTAN2018_FROM,
    PTAN2018_TO,
    WCAN2020_FROM,
    WCAN2020_TO,
    line,
    pt_demand,
    revision_of,
    snapshot,
    wc_demand,
)

LATEST = dt.datetime(2024, 5, 3, 8, 15, tzinfo=dt.UTC)


def lines(demand: Demand) -> list[tuple[str, Decimal, Decimal]]:
    return sorted(
        DemandDetail.objects.filter(demand=demand).values_list("tax_head_code", "tax_amount", "collection_amount")
    )


def old_with_advance(employee: Any, advance: str = "-500") -> Demand:
    [old] = demand_create(
        caller=employee,
        demands=[wc_demand(details=(line("WS_CHARGE", "1000", "1000"), line("WS_ADVANCE_CARRYFORWARD", advance)))],
        at=AT,
    )
    return old


def test_reference_7_8_3_example_moves_only_what_the_new_demand_needs(employee, wc_masters):
    old = old_with_advance(employee)
    assert lines(old) == [
        ("WS_ADVANCE_CARRYFORWARD", Decimal("-500.00"), Decimal("0.00")),
        ("WS_CHARGE", Decimal("1000.00"), Decimal("1000.00")),
    ]
    assert DemandHistory.objects.filter(action="ADVANCE_CARRY_FORWARD").count() == 0

    [new] = demand_create(
        caller=employee,
        demands=[wc_demand(period=(WCAN2020_FROM, WCAN2020_TO), details=(line("WS_CHARGE", "300"),))],
        at=LATER,
    )

    assert lines(old) == [
        ("WS_ADVANCE_CARRYFORWARD", Decimal("-500.00"), Decimal("-300.00")),
        ("WS_CHARGE", Decimal("1000.00"), Decimal("1000.00")),
    ]
    assert lines(new) == [("WS_CHARGE", Decimal("300.00"), Decimal("300.00"))]
    # No line is created anywhere (the reference appended an id-less surplus line here).
    assert DemandDetail.objects.count() == 3
    # The returned demand shows the carried collection.
    assert [(d.tax_head_code, d.collection_amount) for d in new.details.all()] == [("WS_CHARGE", Decimal("300.00"))]
    assert (new.is_payment_completed, Demand.objects.get(pk=old.pk).is_payment_completed) == (True, False)
    old_row = Demand.objects.get(pk=old.pk)
    assert (old_row.modified_by, old_row.modified_at, old_row.created_at) == ("emp-asr", LATER, AT)
    advance_line = DemandDetail.objects.get(tax_head_code="WS_ADVANCE_CARRYFORWARD")
    assert (advance_line.modified_by, advance_line.modified_at) == ("emp-asr", LATER)

    # One write call: revision 2 for the creation and the carry-forward alike.
    assert revision_of("WS-107-001", "WC") == 2
    assert list(
        DemandHistory.objects.order_by("id").values_list(
            "demand_id", "revision", "action", "changed_by", "changed_at", "is_payment_completed"
        )
    ) == [
        (old.pk, 1, "CREATE", "emp-asr", AT, False),
        (new.pk, 2, "CREATE", "emp-asr", LATER, False),
        (old.pk, 2, "ADVANCE_CARRY_FORWARD", "emp-asr", LATER, False),
        (new.pk, 2, "ADVANCE_CARRY_FORWARD", "emp-asr", LATER, True),
    ]
    charge_new = DemandDetail.objects.get(demand=new)
    assert list(
        DemandDetailHistory.objects.filter(action="ADVANCE_CARRY_FORWARD")
        .order_by("id")
        .values_list(
            "detail_id", "demand_id", "revision", "changed_at", "tax_head_code", "tax_amount", "collection_amount"
        )
    ) == [
        (advance_line.pk, old.pk, 2, LATER, "WS_ADVANCE_CARRYFORWARD", Decimal("-500.00"), Decimal("-300.00")),
        (charge_new.pk, new.pk, 2, LATER, "WS_CHARGE", Decimal("300.00"), Decimal("300.00")),
    ]
    assert list(
        DemandDetailHistory.objects.filter(action="CREATE", demand=new).values_list("tax_amount", "collection_amount")
    ) == [(Decimal("300.00"), Decimal("0.00"))]


def test_reference_14_4_the_next_demand_takes_the_whole_advance(employee, wc_masters):
    old = old_with_advance(employee, advance="-200")
    [new] = demand_create(
        caller=employee,
        demands=[wc_demand(period=(WCAN2020_FROM, WCAN2020_TO), details=(line("WS_CHARGE", "1500"),))],
        at=LATER,
    )
    assert lines(old) == [
        ("WS_ADVANCE_CARRYFORWARD", Decimal("-200.00"), Decimal("-200.00")),
        ("WS_CHARGE", Decimal("1000.00"), Decimal("1000.00")),
    ]
    assert lines(new) == [("WS_CHARGE", Decimal("1500.00"), Decimal("200.00"))]
    # The old demand is now settled (800 = 800); the new one owes 1300.
    assert Demand.objects.get(pk=old.pk).is_payment_completed is True
    assert Demand.objects.get(pk=new.pk).is_payment_completed is False


def test_every_due_head_of_the_new_demand_is_covered_smallest_first(employee, wc_masters):
    old = old_with_advance(employee, advance="-320")
    [new] = demand_create(
        caller=employee,
        demands=[
            wc_demand(
                period=(WCAN2020_FROM, WCAN2020_TO),
                details=(line("WS_CHARGE", "300"), line("WS_TIME_PENALTY", "40")),
            )
        ],
        at=LATER,
    )
    # 320 of advance for 340 of dues: the smaller head (penalty 40) first, then 280 of the charge.
    assert lines(old) == [
        ("WS_ADVANCE_CARRYFORWARD", Decimal("-320.00"), Decimal("-320.00")),
        ("WS_CHARGE", Decimal("1000.00"), Decimal("1000.00")),
    ]
    assert lines(new) == [
        ("WS_CHARGE", Decimal("300.00"), Decimal("280.00")),
        ("WS_TIME_PENALTY", Decimal("40.00"), Decimal("40.00")),
    ]
    assert DemandDetail.objects.count() == 4
    assert (Demand.objects.get(pk=old.pk).is_payment_completed, Demand.objects.get(pk=new.pk).is_payment_completed) == (
        True,
        False,
    )


def test_no_carry_forward_when_the_service_does_not_allow_advance(employee, seed):
    # PT has an ADVANCE_COLLECTION head in the seed but isAdvanceAllowed=false.
    [old] = demand_create(
        caller=employee,
        demands=[pt_demand(details=(line("PT_TAX", "1000", "1000"), line("PT_ADVANCE_CARRYFORWARD", "-500")))],
        at=AT,
    )
    [new] = demand_create(
        caller=employee,
        demands=[pt_demand(period=(PTAN2018_FROM, PTAN2018_TO), details=(line("PT_TAX", "300"),))],
        at=LATER,
    )
    assert lines(old) == [
        ("PT_ADVANCE_CARRYFORWARD", Decimal("-500.00"), Decimal("0.00")),
        ("PT_TAX", Decimal("1000.00"), Decimal("1000.00")),
    ]
    assert lines(new) == [("PT_TAX", Decimal("300.00"), Decimal("0.00"))]
    assert list(DemandHistory.objects.values_list("action", flat=True)) == ["CREATE", "CREATE"]
    assert Demand.objects.get(pk=old.pk).modified_at == AT


def test_no_carry_forward_without_unused_advance(employee, wc_masters):
    [old] = demand_create(
        caller=employee,
        demands=[
            wc_demand(details=(line("WS_CHARGE", "1000", "1000"), line("WS_ADVANCE_CARRYFORWARD", "-500", "-500")))
        ],
        at=AT,
    )
    [new] = demand_create(
        caller=employee,
        demands=[wc_demand(period=(WCAN2020_FROM, WCAN2020_TO), details=(line("WS_CHARGE", "300"),))],
        at=LATER,
    )
    assert lines(new) == [("WS_CHARGE", Decimal("300.00"), Decimal("0.00"))]
    assert Demand.objects.get(pk=old.pk).modified_at == AT
    assert DemandHistory.objects.filter(action="ADVANCE_CARRY_FORWARD").count() == 0


def test_advance_of_a_cancelled_demand_is_not_carried(employee, wc_masters):
    old = old_with_advance(employee)
    demand_cancel(caller=employee, demand_id=old.pk, at=LATER)
    [new] = demand_create(
        caller=employee,
        demands=[wc_demand(period=(WCAN2020_FROM, WCAN2020_TO), details=(line("WS_CHARGE", "300"),))],
        at=LATEST,
    )
    assert lines(new) == [("WS_CHARGE", Decimal("300.00"), Decimal("0.00"))]
    assert lines(old)[0] == ("WS_ADVANCE_CARRYFORWARD", Decimal("-500.00"), Decimal("0.00"))


def test_a_demand_created_through_update_takes_the_advance_too(employee, wc_masters):
    old = old_with_advance(employee)
    result = demand_update(
        caller=employee,
        demands=[
            wc_demand(
                id=old.pk,
                details=tuple(line(d.tax_head_code, str(d.tax_amount), id=d.pk) for d in old.details.all()),
            ),
            wc_demand(period=(WCAN2020_FROM, WCAN2020_TO), details=(line("WS_CHARGE", "300"),)),
        ],
        at=LATER,
    )
    new = next(d for d in result if d.pk != old.pk)
    assert lines(new) == [("WS_CHARGE", Decimal("300.00"), Decimal("300.00"))]
    assert lines(old)[0] == ("WS_ADVANCE_CARRYFORWARD", Decimal("-500.00"), Decimal("-300.00"))
    assert revision_of("WS-107-001", "WC") == 2
    assert list(DemandHistory.objects.order_by("id").values_list("demand_id", "revision", "action")) == [
        (old.pk, 1, "CREATE"),
        (old.pk, 2, "UPDATE"),
        (new.pk, 2, "CREATE"),
        (old.pk, 2, "ADVANCE_CARRY_FORWARD"),
        (new.pk, 2, "ADVANCE_CARRY_FORWARD"),
    ]


def test_service_allowing_advance_without_an_advance_head(employee, advance_service_without_head):
    # The consumer's first demand is created as it is (reference §7.1 step 5a: no existing demand).
    [first] = demand_create(
        caller=employee,
        demands=[wc_demand("SW-1", details=(line("SW_CHARGE", "100"),), business_service="SW")],
        at=AT,
    )
    assert lines(first) == [("SW_CHARGE", Decimal("100.00"), Decimal("0.00"))]
    # With an existing demand the advance head is needed (step 5b): nothing is written.
    before = snapshot()
    with pytest.raises(DomainError) as info:
        demand_create(
            caller=employee,
            demands=[
                wc_demand(
                    "SW-1",
                    period=(WCAN2020_FROM, WCAN2020_TO),
                    details=(line("SW_CHARGE", "100"),),
                    business_service="SW",
                )
            ],
            at=LATER,
        )
    assert (info.value.code, info.value.message) == (
        "NO TAXHEAD FOUND",
        "No Advance taxHead found for businessService: SW",
    )
    assert snapshot() == before
