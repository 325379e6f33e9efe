"""Concurrency on PostgreSQL: an amendment is applied exactly once (DESIGN §3 rule 6, DECISIONS [4])."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from amendments.models import Amendment, AmendmentTransition
from demands.models import ConsumerAccount, DemandDetail, DemandHistory
from demands.services import demand_create
from masters.access import Caller
from tests.amendments.conftest import AT, LATER, amend, decide, lines, wc_demand
from tests.concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_racing_approvals_apply_the_lines_once(
    employee: Caller, approver: Caller, approver2: Caller, wc_masters: dict[str, Any]
) -> None:
    [demand] = demand_create(caller=employee, demands=[wc_demand()], at=AT)
    amendment = amend(employee, at=AT)

    outcomes = run_together(
        [lambda c=c: decide(c, amendment, "APPROVE", at=LATER) for c in (approver, approver, approver2, approver2)],
        success="ok",
    )

    assert sorted(outcomes) == ["EG_BS_AMENDMENT_STATE_ERROR"] * 3 + ["ok"]
    assert list(
        DemandDetail.objects.filter(demand=demand).order_by("position").values_list("tax_head_code", "tax_amount")
    ) == [("WS_CHARGE", Decimal("1000.00")), ("WS_CHARGE", Decimal("-100.00")), ("WS_TIME_PENALTY", Decimal("-10.00"))]
    assert list(AmendmentTransition.objects.order_by("at", "id").values_list("action", flat=True)) == [
        "OPEN",
        "APPROVE",
        "APPLY",
    ]
    assert list(DemandHistory.objects.order_by("id").values_list("action", "revision")) == [
        ("CREATE", 1),
        ("AMENDMENT", 2),
    ]
    assert ConsumerAccount.objects.get(consumer_code="WS-107-001", business_service="WC").revision == 2
    assert Amendment.objects.get(pk=amendment.pk).status == "CONSUMED"


def test_approval_racing_a_new_demand_applies_once(
    employee: Caller, approver: Caller, wc_masters: dict[str, Any]
) -> None:
    """No unpaid demand yet: the approval and a demand creation race on the account lock. Whichever runs
    second sees the other's work: the lines land in the new demand exactly once."""
    amendment = amend(employee, at=AT)

    outcomes = run_together(
        [
            lambda: decide(approver, amendment, "APPROVE", at=LATER),
            lambda: demand_create(caller=employee, demands=[wc_demand()], at=LATER),
        ],
        success="ok",
    )

    assert outcomes == ["ok", "ok"]
    assert list(DemandDetail.objects.order_by("position").values_list("tax_head_code", "tax_amount")) == [
        ("WS_CHARGE", Decimal("1000.00")),
        ("WS_CHARGE", Decimal("-100.00")),
        ("WS_TIME_PENALTY", Decimal("-10.00")),
    ]
    stored = Amendment.objects.get(pk=amendment.pk)
    assert stored.status == "CONSUMED"
    assert list(AmendmentTransition.objects.filter(action="APPLY").values_list("demand", flat=True)) == [
        stored.amended_demand_id
    ]


def test_two_racing_creates_leave_one_amendment_in_workflow(employee: Caller, wc_masters: dict[str, Any]) -> None:
    outcomes = run_together([lambda: amend(employee, at=AT) for _ in range(4)], success="ok")
    assert sorted(outcomes) == ["EG_BS_AMENDMENT_DUPLICATE_ERROR"] * 3 + ["ok"]
    assert list(Amendment.objects.values_list("amendment_id", "status")) == [("DN-WS-107-001-000001", "INWORKFLOW")]


def test_racing_creates_for_two_services_of_one_consumer_code_hit_the_constraint(
    employee: Caller, wc_masters: dict[str, Any]
) -> None:
    """WC and PT accounts are different locks; the partial unique constraint is what keeps one in workflow."""
    outcomes = run_together(
        [
            lambda: amend(employee, "C-9", at=AT),
            lambda: amend(employee, "C-9", service="PT", details=lines(("PT_TAX", "-5")), at=AT),
        ]
        * 2,
        success="ok",
    )
    assert sorted(outcomes) == ["EG_BS_AMENDMENT_DUPLICATE_ERROR"] * 3 + ["ok"]
    assert Amendment.objects.filter(status="INWORKFLOW").count() == 1
    assert Amendment.objects.count() == 1
