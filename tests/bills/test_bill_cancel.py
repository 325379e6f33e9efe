"""Bill cancellation at service level: ``bill_cancel`` (reference §7.6) and ``bill_cancel_one`` (REST, admin)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from billing_project.errors import DomainError
from bills.models import Bill, BillStatus
from bills.services import bill_cancel, bill_cancel_one
from masters.access import Caller
from tests.bills.conftest import AT, bill_snapshot, create, fetch, pt_demand, set_tax
from tests.demands.conftest import snapshot as demand_snapshot

pytestmark = pytest.mark.django_db

CANCEL_AT = AT + dt.timedelta(hours=1)
REASON = {"reason": "DUPLICATE", "reasonMessage": "Raised twice"}
REASON_MISSING = (
    "EG_BS_CANCELL_REASON_CODE_NOT",
    "Cancellation Reason with key 'reason' is a madnatory Text field in additionalDetails of Bill cancell Request",
)
REASON_EMPTY = ("EG_BS_CANCELL_REASON_CODE_NOT", "Cancell Reason code cannot be empty")
MESSAGE_MISSING = (
    "EG_BS_CANCELL_REASON_MSG_NOT",
    "Cancell Reason message with key 'reasonMessage' is madnatory Text field in additionalDetails of Bill cancell "
    "Request",
)
MESSAGE_EMPTY = ("EG_BS_CANCELL_REASON_MSG_NOT", "Cancell Reason message cannot be empty")


def cancel(caller: Caller, *codes: str, details: Any = None, **kwargs: Any):
    return bill_cancel(
        caller=caller,
        tenant_id=kwargs.pop("tenant", "pb.amritsar"),
        consumer_codes=list(codes),
        business_service=kwargs.pop("service", "PT"),
        additional_details=REASON if details is None else details,
        at=kwargs.pop("at", CANCEL_AT),
    )


@pytest.fixture
def billed(employee: Caller) -> Bill:
    """PT-107-001 with one ACTIVE bill of 500 built at AT."""
    create(employee, pt_demand())
    [bill] = fetch(employee, "PT-107-001")
    return bill


def test_cancel_marks_the_latest_active_bill_cancelled_and_leaves_demands_alone(employee, billed):
    demands_before = demand_snapshot()

    outcome = cancel(employee, "PT-107-001")

    assert (outcome.count, outcome.message) == (1, "Successfully cancelled 1 Active bills for given consumer codes")
    assert outcome.bill is not None
    assert outcome.bill.pk == billed.pk
    billed.refresh_from_db()
    assert (billed.status, billed.additional_details, billed.modified_by, billed.modified_at) == (
        BillStatus.CANCELLED,
        {"reason": "DUPLICATE", "reasonMessage": "Raised twice"},
        "emp-asr",
        CANCEL_AT,
    )
    assert demand_snapshot() == demands_before


def test_after_a_cancel_the_next_fetch_builds_a_fresh_bill(employee, billed):
    cancel(employee, "PT-107-001")

    [fresh] = fetch(employee, "PT-107-001", at=CANCEL_AT + dt.timedelta(minutes=1))

    assert fresh.pk != billed.pk
    assert (fresh.bill_number, fresh.status, fresh.total_amount) == ("BILLNO-PT-000002", "ACTIVE", Decimal("500.00"))
    assert list(Bill.objects.order_by("bill_number").values_list("status", flat=True)) == ["CANCELLED", "ACTIVE"]


def test_existing_additional_details_win_over_the_request(employee, billed):
    Bill.objects.filter(pk=billed.pk).update(additional_details={"reason": "OLD", "meta": {"a": 1}, "kept": True})

    cancel(
        employee,
        "PT-107-001",
        details={"reason": "OTHER", "reasonMessage": "typo", "description": "wrong owner", "meta": {"a": 2, "b": 3}},
    )

    assert Bill.objects.get(pk=billed.pk).additional_details == {
        "reason": "OLD",
        "reasonMessage": "typo",
        "description": "wrong owner",
        "meta": {"a": 1, "b": 3},
        "kept": True,
    }


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        ({}, REASON_MISSING),
        ({"reasonMessage": "x"}, REASON_MISSING),
        ({"reason": None, "reasonMessage": "x"}, REASON_MISSING),
        ({"reason": 5, "reasonMessage": "x"}, REASON_MISSING),
        ({"reason": {"code": "DUP"}, "reasonMessage": "x"}, REASON_MISSING),
        ({"reason": "", "reasonMessage": "x"}, REASON_EMPTY),
        ({"reason": "   ", "reasonMessage": "x"}, REASON_EMPTY),
        ({"reason": "DUPLICATE"}, MESSAGE_MISSING),
        ({"reason": "DUPLICATE", "reasonMessage": ["x"]}, MESSAGE_MISSING),
        ({"reason": "DUPLICATE", "reasonMessage": 1}, MESSAGE_MISSING),
        ({"reason": "DUPLICATE", "reasonMessage": ""}, MESSAGE_EMPTY),
        ({"reason": "DUPLICATE", "reasonMessage": " \t"}, MESSAGE_EMPTY),
    ],
)
def test_reason_and_reason_message_are_mandatory_text(employee, billed, details, expected):
    before = bill_snapshot()

    with pytest.raises(DomainError) as info:
        cancel(employee, "PT-107-001", details=details)

    assert (info.value.code, info.value.message) == expected
    assert bill_snapshot() == before


def test_no_additional_details_at_all_is_a_missing_reason(employee, billed):
    with pytest.raises(DomainError) as info:
        bill_cancel(
            caller=employee,
            tenant_id="pb.amritsar",
            consumer_codes=["PT-107-001"],
            business_service="PT",
            additional_details=None,
            at=CANCEL_AT,
        )

    assert (info.value.code, info.value.message) == REASON_MISSING


def test_the_reason_is_checked_before_the_consumer_codes(employee, billed):
    with pytest.raises(DomainError) as info:
        cancel(employee, "PT-107-001", "PT-2", details={"reason": "DUPLICATE"})

    assert (info.value.code, info.value.message) == MESSAGE_MISSING


def test_two_consumer_codes_are_refused(employee, billed):
    before = bill_snapshot()

    with pytest.raises(DomainError) as info:
        cancel(employee, "PT-107-001", "PT-2")

    assert (info.value.code, info.value.message) == (
        "EG_BS_CANCEL_BILL_ERROR",
        "Only one consumer code can be provided in the Cancel request",
    )
    assert bill_snapshot() == before


def test_the_same_consumer_code_twice_is_one_code(employee, billed):
    assert cancel(employee, "PT-107-001", "PT-107-001").count == 1


def test_no_consumer_code_is_refused(employee, billed):
    with pytest.raises(DomainError) as info:
        cancel(employee)

    assert (info.value.code, info.value.message) == (
        "EG_BS_CANCEL_BILL_ERROR",
        "A consumer code must be provided in the Cancel request",
    )


@pytest.mark.parametrize("status", [BillStatus.PAID, BillStatus.PARTIALLY_PAID])
def test_a_paid_latest_bill_cannot_be_cancelled(employee, billed, status):
    Bill.objects.filter(pk=billed.pk).update(status=status)
    before = bill_snapshot()

    outcome = cancel(employee, "PT-107-001")

    assert (outcome.count, outcome.message) == (-1, "You cannot cancel the bill in the workflow")
    assert bill_snapshot() == before
    assert Bill.objects.get(pk=billed.pk).additional_details is None


@pytest.mark.parametrize("status", [BillStatus.EXPIRED, BillStatus.CANCELLED])
def test_a_latest_bill_that_is_not_active_gives_zero(employee, billed, status):
    Bill.objects.filter(pk=billed.pk).update(status=status)
    before = bill_snapshot()

    outcome = cancel(employee, "PT-107-001")

    assert (outcome.count, outcome.message) == (0, "No Active bills found for cancellation for the given criteria")
    assert bill_snapshot() == before


def test_only_the_latest_bill_counts(employee, billed):
    # The latest bill is PAID; the older one is merely EXPIRED: the answer is -1, nothing changes.
    [demand] = billed.account.demands.all()
    set_tax(employee, demand, "PT_TAX", "600", at=AT + dt.timedelta(minutes=10))
    [newer] = fetch(employee, "PT-107-001", at=AT + dt.timedelta(minutes=20))
    Bill.objects.filter(pk=newer.pk).update(status=BillStatus.PAID)

    assert cancel(employee, "PT-107-001").count == -1
    assert list(Bill.objects.order_by("bill_number").values_list("status", flat=True)) == ["EXPIRED", "PAID"]


def test_bills_built_at_the_same_instant_cancel_the_newest(employee):
    [demand] = create(employee, pt_demand())
    fetch(employee, "PT-107-001")
    set_tax(employee, demand, "PT_TAX", "600", at=AT)
    [newest] = fetch(employee, "PT-107-001")  # same created_at as the first bill

    outcome = cancel(employee, "PT-107-001")

    assert (outcome.count, outcome.bill.pk) == (1, newest.pk)
    assert list(Bill.objects.order_by("bill_number").values_list("status", flat=True)) == ["EXPIRED", "CANCELLED"]


def test_a_consumer_without_any_bill_gives_zero(employee):
    create(employee, pt_demand())

    assert cancel(employee, "PT-107-001").count == 0
    assert cancel(employee, "PT-UNKNOWN").count == 0
    assert Bill.objects.count() == 0


def test_only_staff_of_the_city_may_cancel(employee, billed, jalandhar_employee, citizen_factory):
    citizen, _ = citizen_factory("asha", "Asha", "9876543210")
    before = bill_snapshot()

    for caller in (jalandhar_employee, citizen):
        with pytest.raises(DomainError) as info:
            cancel(caller, "PT-107-001")
        assert info.value.code == "PERMISSION_DENIED"

    assert bill_snapshot() == before


# --- bill_cancel_one ---------------------------------------------------------------------------------


def test_cancel_one_by_id(employee, billed):
    bill = bill_cancel_one(
        caller=employee,
        bill_id=billed.pk,
        reason="OTHER",
        reason_message="Wrong owner",
        description="sold in 2023",
        at=CANCEL_AT,
    )

    assert bill.pk == billed.pk
    stored = Bill.objects.get(pk=billed.pk)
    assert (stored.status, stored.additional_details, stored.modified_by, stored.modified_at) == (
        BillStatus.CANCELLED,
        {"reason": "OTHER", "reasonMessage": "Wrong owner", "description": "sold in 2023"},
        "emp-asr",
        CANCEL_AT,
    )


def test_cancel_one_keeps_existing_additional_details(employee, billed):
    Bill.objects.filter(pk=billed.pk).update(additional_details={"reason": "OLD", "source": "counter"})

    bill_cancel_one(caller=employee, bill_id=billed.pk, reason="DUPLICATE", reason_message="twice", at=CANCEL_AT)

    assert Bill.objects.get(pk=billed.pk).additional_details == {
        "reason": "OLD",
        "reasonMessage": "twice",
        "source": "counter",
    }


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (BillStatus.PAID, "EG_BS_BILL_PAID", "You cannot cancel the bill in the workflow"),
        (BillStatus.PARTIALLY_PAID, "EG_BS_BILL_PAID", "You cannot cancel the bill in the workflow"),
        (BillStatus.EXPIRED, "EG_BS_BILL_NOT_ACTIVE", "Bill BILLNO-PT-000001 is EXPIRED"),
        (BillStatus.CANCELLED, "EG_BS_BILL_NOT_ACTIVE", "Bill BILLNO-PT-000001 is CANCELLED"),
    ],
)
def test_cancel_one_refuses_a_bill_that_is_not_active(employee, billed, status, code, message):
    Bill.objects.filter(pk=billed.pk).update(status=status)
    before = bill_snapshot()

    with pytest.raises(DomainError) as info:
        bill_cancel_one(caller=employee, bill_id=billed.pk, reason="DUPLICATE", reason_message="twice", at=CANCEL_AT)

    assert (info.value.code, info.value.message, info.value.http_status) == (code, message, 409)
    assert bill_snapshot() == before


@pytest.mark.parametrize(
    ("reason", "reason_message", "expected"),
    [("", "twice", REASON_EMPTY), ("DUPLICATE", "", MESSAGE_EMPTY), ("  ", "  ", REASON_EMPTY)],
)
def test_cancel_one_needs_reason_and_message(employee, billed, reason, reason_message, expected):
    with pytest.raises(DomainError) as info:
        bill_cancel_one(caller=employee, bill_id=billed.pk, reason=reason, reason_message=reason_message, at=CANCEL_AT)

    assert (info.value.code, info.value.message) == expected
    assert Bill.objects.get(pk=billed.pk).status == BillStatus.ACTIVE


def test_cancel_one_of_an_unknown_bill(employee, seed):
    missing = uuid.UUID(int=42)

    with pytest.raises(DomainError) as info:
        bill_cancel_one(caller=employee, bill_id=missing, reason="DUPLICATE", reason_message="twice", at=CANCEL_AT)

    assert (info.value.code, info.value.message, info.value.http_status) == (
        "NOT_FOUND",
        f"No bill {missing}.",
        404,
    )


def test_cancel_one_needs_a_staff_role_in_the_bills_city(employee, billed, jalandhar_employee):
    with pytest.raises(DomainError) as info:
        bill_cancel_one(
            caller=jalandhar_employee, bill_id=billed.pk, reason="DUPLICATE", reason_message="twice", at=CANCEL_AT
        )

    assert (info.value.code, info.value.http_status) == ("PERMISSION_DENIED", 403)
    assert Bill.objects.get(pk=billed.pk).status == BillStatus.ACTIVE
