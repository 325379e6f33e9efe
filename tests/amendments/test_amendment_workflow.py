"""Amendment workflow on the database: approve applies the lines once, reject/withdraw apply nothing, roles,
self-approval, absorption by the next demand, the bill becoming stale (reference §7.10, §14.7)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from amendments.models import Amendment, AmendmentTransition
from bills.models import Bill, BillStatus
from bills.services import FetchCriteria, bill_fetch
from demands.models import ConsumerAccount, Demand, DemandDetail, DemandDetailHistory, DemandHistory
from demands.services import demand_create
from masters.access import Caller, caller_for
from masters.models import Role
from tests.amendments.conftest import AT, LATER, amend, amendment_snapshot, decide, lines, snapshot, wc_demand
from tests.demands.conftest import WCAN2020_FROM, WCAN2020_TO, line

pytestmark = pytest.mark.django_db

T_FETCH = AT + dt.timedelta(minutes=1)
T_AMEND = AT + dt.timedelta(minutes=2)
T_APPROVE = AT + dt.timedelta(minutes=3)
T_REFETCH = AT + dt.timedelta(minutes=4)
P2020 = (WCAN2020_FROM, WCAN2020_TO)


def demand_lines(demand: Demand) -> list[tuple[str, Decimal, Decimal, int]]:
    return list(
        DemandDetail.objects.filter(demand=demand)
        .order_by("position")
        .values_list("tax_head_code", "tax_amount", "collection_amount", "position")
    )


def revision(consumer_code: str = "WS-107-001", service: str = "WC") -> int:
    return ConsumerAccount.objects.get(consumer_code=consumer_code, business_service=service).revision


def fetch(caller: Caller, consumer_code: str = "WS-107-001", *, at: dt.datetime) -> list[Bill]:
    return bill_fetch(
        caller=caller,
        criteria=FetchCriteria(tenant_id="pb.amritsar", business_service="WC", consumer_codes=(consumer_code,)),
        at=at,
    )


def test_reference_14_7_approve_applies_lines_and_next_bill_is_110_lower(
    employee: Caller, approver: Caller, wc_masters: dict[str, Any]
) -> None:
    [demand] = demand_create(
        caller=employee,
        demands=[wc_demand(details=(line("WS_CHARGE", "1000"), line("WS_TIME_PENALTY", "50")))],
        at=AT,
    )
    [bill] = fetch(employee, at=T_FETCH)
    assert bill.total_amount == Decimal("1050.00")

    amendment = amend(employee, at=T_AMEND)
    assert (amendment.amendment_id, amendment.state, amendment.status) == (
        "DN-WS-107-001-000001",
        "APPROVALPENDING",
        "INWORKFLOW",
    )
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.ACTIVE
    revision_before = revision()

    approved = decide(approver, amendment, "APPROVE", at=T_APPROVE, comment="court order 12")

    assert (approved.state, approved.status, approved.amended_demand_id, approved.consumed_at) == (
        "APPROVED",
        "CONSUMED",
        demand.pk,
        T_APPROVE,
    )
    assert demand_lines(demand) == [
        ("WS_CHARGE", Decimal("1000.00"), Decimal("0.00"), 0),
        ("WS_TIME_PENALTY", Decimal("50.00"), Decimal("0.00"), 1),
        ("WS_CHARGE", Decimal("-100.00"), Decimal("0.00"), 2),
        ("WS_TIME_PENALTY", Decimal("-10.00"), Decimal("0.00"), 3),
    ]
    # The demand lines carry the amendment lines' ids: a second application would hit the primary key.
    amendment_line_ids = [d.pk for d in approved.details.all()]
    assert (
        list(
            DemandDetail.objects.filter(demand=demand, position__gte=2)
            .order_by("position")
            .values_list("id", flat=True)
        )
        == amendment_line_ids
    )
    added = DemandDetail.objects.get(pk=amendment_line_ids[0])
    assert (added.created_by, added.created_at, added.modified_by, added.modified_at) == (
        "approver-asr",
        T_APPROVE,
        "approver-asr",
        T_APPROVE,
    )
    assert revision() == revision_before + 1
    assert list(
        DemandHistory.objects.filter(demand=demand).order_by("id").values_list("action", "revision", "changed_by")
    ) == [("CREATE", 1, "emp-asr"), ("AMENDMENT", 2, "approver-asr")]
    assert list(
        DemandDetailHistory.objects.filter(demand=demand, action="AMENDMENT")
        .order_by("id")
        .values_list("tax_head_code", "tax_amount", "collection_amount", "revision")
    ) == [
        ("WS_CHARGE", Decimal("-100.00"), Decimal("0.00"), 2),
        ("WS_TIME_PENALTY", Decimal("-10.00"), Decimal("0.00"), 2),
    ]
    assert list(
        AmendmentTransition.objects.filter(amendment=amendment)
        .order_by("at", "id")
        .values_list("action", "from_state", "to_state", "status", "actor", "at", "comment", "demand")
    ) == [
        ("OPEN", "NEW", "APPROVALPENDING", "INWORKFLOW", "emp-asr", T_AMEND, "", None),
        ("APPROVE", "APPROVALPENDING", "APPROVED", "ACTIVE", "approver-asr", T_APPROVE, "court order 12", None),
        (
            "APPLY",
            "APPROVED",
            "APPROVED",
            "CONSUMED",
            "approver-asr",
            T_APPROVE,
            f"Lines added to demand {demand.pk}",
            demand.pk,
        ),
    ]

    # The bill is stale (its revision is behind), so the next fetch expires it and builds one 110 lower.
    [new_bill] = fetch(employee, at=T_REFETCH)
    assert new_bill.pk != bill.pk
    assert new_bill.total_amount == bill.total_amount - Decimal("110.00") == Decimal("940.00")
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.EXPIRED


def test_reject_applies_nothing(employee: Caller, approver: Caller, wc_masters: dict[str, Any]) -> None:
    [demand] = demand_create(caller=employee, demands=[wc_demand()], at=AT)
    amendment = amend(employee, at=T_AMEND)
    before = snapshot()

    rejected = decide(approver, amendment, "REJECT", at=T_APPROVE, comment="no order")

    assert (rejected.state, rejected.status, rejected.amended_demand_id) == ("REJECTED", "INACTIVE", None)
    assert snapshot() == before
    assert demand_lines(demand) == [("WS_CHARGE", Decimal("1000.00"), Decimal("0.00"), 0)]
    # An INACTIVE amendment is never absorbed either.
    [later] = demand_create(caller=employee, demands=[wc_demand(period=P2020)], at=LATER)
    assert demand_lines(later) == [("WS_CHARGE", Decimal("1000.00"), Decimal("0.00"), 0)]


def test_send_back_resubmit_then_approve(
    employee: Caller, employee2: Caller, approver: Caller, wc_masters: dict[str, Any]
) -> None:
    [demand] = demand_create(caller=employee, demands=[wc_demand()], at=AT)
    amendment = amend(employee, at=T_AMEND)

    sent_back = decide(approver, amendment, "SEND_BACK", at=T_APPROVE, comment="attach the order")
    assert (sent_back.state, sent_back.status) == ("PENDING_FOR_CITIZEN_ACTION", "INWORKFLOW")
    assert _code(lambda: decide(approver, amendment, "APPROVE", at=T_APPROVE)) == "EG_BS_AMENDMENT_STATE_ERROR"

    resubmitted = decide(employee2, amendment, "RE-SUBMIT", at=T_REFETCH)  # another employee of the tenant may
    assert (resubmitted.state, resubmitted.status) == ("APPROVALPENDING", "INWORKFLOW")
    approved = decide(approver, amendment, "APPROVE", at=T_REFETCH)
    assert (approved.state, approved.status, approved.amended_demand_id) == ("APPROVED", "CONSUMED", demand.pk)
    assert [t.action for t in approved.transitions.all()] == ["OPEN", "SEND_BACK", "RESUBMIT", "APPROVE", "APPLY"]


def _code(call: Any) -> str:
    from billing_project.errors import DomainError

    try:
        call()
    except DomainError as exc:
        return exc.code
    raise AssertionError("no DomainError raised")


def test_creator_cannot_approve_even_as_superuser(
    user_factory: Any, approver: Caller, wc_masters: dict[str, Any]
) -> None:
    both = caller_for(
        user_factory("emp-approver", {"pb.amritsar": [Role.EMPLOYEE, Role.AMENDMENT_APPROVER]}, superuser=True)
    )
    [demand] = demand_create(caller=both, demands=[wc_demand()], at=AT)
    amendment = amend(both, at=T_AMEND)
    before = (amendment_snapshot(), snapshot())

    for action in ("APPROVE", "REJECT", "SEND_BACK"):
        assert (
            _code(lambda action=action: decide(both, amendment, action, at=T_APPROVE))
            == "EG_BS_AMENDMENT_SELF_APPROVAL"
        )

    assert (amendment_snapshot(), snapshot()) == before
    assert decide(approver, amendment, "APPROVE", at=T_APPROVE).amended_demand_id == demand.pk


def test_roles_per_action(
    employee: Caller, employee2: Caller, approver: Caller, user_factory: Any, wc_masters: dict[str, Any]
) -> None:
    jalandhar_approver = caller_for(user_factory("approver-jal", {"pb.jalandhar": [Role.AMENDMENT_APPROVER]}))
    state_approver = caller_for(user_factory("approver-pb", {"pb": [Role.AMENDMENT_APPROVER]}))
    amendment = amend(employee, at=T_AMEND)
    before = amendment_snapshot()

    assert _code(lambda: decide(employee2, amendment, "APPROVE")) == "EG_BS_AMENDMENT_ACTION_NOT_ALLOWED"
    assert _code(lambda: decide(jalandhar_approver, amendment, "APPROVE")) == "EG_BS_AMENDMENT_NOT_FOUND"
    assert _code(lambda: decide(employee2, amendment, "WITHDRAW")) == "EG_BS_AMENDMENT_ACTION_NOT_ALLOWED"
    assert _code(lambda: decide(approver, amendment, "WITHDRAW")) == "EG_BS_AMENDMENT_ACTION_NOT_ALLOWED"
    assert _code(lambda: decide(approver, amendment, "RESUBMIT")) == "EG_BS_AMENDMENT_ACTION_NOT_ALLOWED"
    assert _code(lambda: decide(approver, amendment, "ACTIVATE")) == "EG_BS_AMENDMENT_UNKNOWN_ACTION"
    assert _code(lambda: decide(approver, amendment, "APPLY")) == "EG_BS_AMENDMENT_UNKNOWN_ACTION"
    assert amendment_snapshot() == before
    # A state-level approver reaches the city.
    assert decide(state_approver, amendment, "REJECT").status == "INACTIVE"


def test_creator_withdraws_before_a_decision(employee: Caller, approver: Caller, wc_masters: dict[str, Any]) -> None:
    amendment = amend(employee, at=T_AMEND)
    withdrawn = decide(employee, amendment, "WITHDRAW", at=T_APPROVE, comment="typo")
    assert (withdrawn.state, withdrawn.status) == ("WITHDRAWN", "INACTIVE")
    assert _code(lambda: decide(approver, amendment, "APPROVE")) == "EG_BS_AMENDMENT_STATE_ERROR"
    # No longer in workflow: a new amendment for the consumer may be created.
    assert amend(employee, at=T_REFETCH).amendment_id == "DN-WS-107-001-000002"


def test_approved_without_unpaid_demand_stays_active_and_the_next_demand_absorbs_it(
    employee: Caller, approver: Caller, wc_masters: dict[str, Any]
) -> None:
    amendment = amend(employee, details=lines(("WS_CHARGE", "-100"), ("WS_TIME_PENALTY", "-10")), at=T_AMEND)
    approved = decide(approver, amendment, "APPROVE", at=T_APPROVE)
    assert (approved.state, approved.status, approved.amended_demand_id) == ("APPROVED", "ACTIVE", None)
    assert not Demand.objects.exists()

    [demand] = demand_create(caller=employee, demands=[wc_demand(period=P2020)], at=LATER)

    assert demand_lines(demand) == [
        ("WS_CHARGE", Decimal("1000.00"), Decimal("0.00"), 0),
        ("WS_CHARGE", Decimal("-100.00"), Decimal("0.00"), 1),
        ("WS_TIME_PENALTY", Decimal("-10.00"), Decimal("0.00"), 2),
    ]
    stored = Amendment.objects.get(pk=amendment.pk)
    assert (stored.status, stored.amended_demand_id, stored.consumed_at, stored.modified_by) == (
        "CONSUMED",
        demand.pk,
        LATER,
        "emp-asr",
    )
    assert list(DemandHistory.objects.filter(demand=demand).order_by("id").values_list("action", "revision")) == [
        ("CREATE", 1),
        ("AMENDMENT", 1),  # same transaction, same revision
    ]
    # Exactly once: the demand after that takes nothing.
    [next_demand] = demand_create(caller=employee, demands=[wc_demand()], at=LATER)
    assert demand_lines(next_demand) == [("WS_CHARGE", Decimal("1000.00"), Decimal("0.00"), 0)]


def test_absorption_only_by_the_same_business_service_and_latest_new_demand(
    employee: Caller, approver: Caller, wc_masters: dict[str, Any]
) -> None:
    amendment = amend(employee, consumer_code="C-1", at=T_AMEND)
    decide(approver, amendment, "APPROVE", at=T_APPROVE)
    # A PT demand of the same consumer code does not take a WC amendment.
    from tests.demands.conftest import pt_demand

    [pt] = demand_create(caller=employee, demands=[pt_demand("C-1")], at=LATER)
    assert demand_lines(pt) == [("PT_TAX", Decimal("500.00"), Decimal("0.00"), 0)]
    assert Amendment.objects.get(pk=amendment.pk).status == "ACTIVE"

    # Two new WC demands in one call: only the latest period takes the lines.
    older, newer = demand_create(caller=employee, demands=[wc_demand("C-1"), wc_demand("C-1", period=P2020)], at=LATER)
    assert demand_lines(older) == [("WS_CHARGE", Decimal("1000.00"), Decimal("0.00"), 0)]
    assert demand_lines(newer) == [
        ("WS_CHARGE", Decimal("1000.00"), Decimal("0.00"), 0),
        ("WS_CHARGE", Decimal("-100.00"), Decimal("0.00"), 1),
        ("WS_TIME_PENALTY", Decimal("-10.00"), Decimal("0.00"), 2),
    ]
    assert Amendment.objects.get(pk=amendment.pk).amended_demand_id == newer.pk


def test_latest_unpaid_active_demand_is_the_target(
    employee: Caller, approver: Caller, wc_masters: dict[str, Any]
) -> None:
    older, newer = demand_create(caller=employee, demands=[wc_demand(), wc_demand(period=P2020)], at=AT)
    from demands.services import demand_cancel

    demand_cancel(
        caller=employee, demand_id=newer.pk, at=T_FETCH
    )  # CANCELLED demands never take lines (DECISIONS [12])
    amendment = amend(employee, at=T_AMEND)
    approved = decide(approver, amendment, "APPROVE", at=T_APPROVE)
    assert approved.amended_demand_id == older.pk
    assert len(demand_lines(newer)) == 1


def test_settling_amendment_completes_the_demand(
    employee: Caller, approver: Caller, wc_masters: dict[str, Any]
) -> None:
    [demand] = demand_create(caller=employee, demands=[wc_demand(details=(line("WS_CHARGE", "110"),))], at=AT)
    decide(approver, amend(employee, at=T_AMEND), "APPROVE", at=T_APPROVE)
    assert Demand.objects.get(pk=demand.pk).is_payment_completed is True


def test_transition_with_the_workflow_off_is_refused(
    employee: Caller, approver: Caller, wc_masters: dict[str, Any], settings: Any
) -> None:
    amendment = amend(employee, at=T_AMEND)
    settings.AMENDMENT_WORKFLOW_ENABLED = False
    before = amendment_snapshot()
    assert _code(lambda: decide(approver, amendment, "APPROVE")) == "EG_BS_AMENDMENT_UPDATE_WF_ERROR"
    assert amendment_snapshot() == before
