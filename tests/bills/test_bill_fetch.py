"""``bill_fetch`` on the database (reference §7.4, DESIGN §4, fixes [6], [7], [16], [17], [18])."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from billing_project.errors import DomainError
from bills.models import Bill, BillAccountDetail, BillStatus
from bills.selectors import bills_with_details, effective_status
from demands.models import Demand, DemandDetail
from demands.services import PayerInput, demand_cancel
from masters.access import Caller
from masters.models import Role, TaxHeadMaster
from tests.bills.conftest import (
    AT,
    END_OF_AT_DAY,
    END_OF_LATER_DAY,
    LATER,
    P2018,
    P2019,
    bill_snapshot,
    create,
    fetch,
    line,
    ms,
    pt_demand,
    set_tax,
)
from tests.demands.conftest import PTAN2017_FROM, PTAN2017_TO

pytestmark = pytest.mark.django_db

MANDATORY_MESSAGE = (
    "Valid search criteria fields missing, please give some valid criteria like mobileNumber/email "
    "OR 'businessService & consumerCode' OR demandId"
)
STATE_LEVEL_MESSAGE = "Employees cannot search based on state level tenantid"


def lines_of(bill: Bill) -> list[list[tuple[str, int, Decimal, uuid.UUID, Decimal]]]:
    """Per bill detail: (tax head, order, amount, demand detail id, adjusted amount) of each account line."""
    return [
        [(a.tax_head_code, a.order, a.amount, a.demand_detail_id, a.adjusted_amount) for a in d.account_details.all()]
        for d in bill.details.all()
    ]


def status_of(bill: Bill) -> str:
    return Bill.objects.values_list("status", flat=True).get(pk=bill.pk)


# --- one consumer -------------------------------------------------------------------------------


def test_first_fetch_builds_the_bill_with_exact_values(employee):
    [demand] = create(employee, pt_demand(period=P2019, additional_details={"ward": "W1"}))
    [tax_line] = demand.details.all()

    [bill] = fetch(employee, "PT-107-001")

    assert (
        bill.bill_number,
        bill.status,
        bill.total_amount,
        bill.revision,
        bill.consumer_code,
        bill.business_service,
        bill.tenant.code,
        bill.bill_date,
        bill.expiry_date,
        bill.created_by,
        bill.created_at,
        bill.modified_at,
        bill.additional_details,
        bill.run_id,
    ) == (
        "BILLNO-PT-000001",
        BillStatus.ACTIVE,
        Decimal("500.00"),
        1,
        "PT-107-001",
        "PT",
        "pb.amritsar",
        AT,
        END_OF_AT_DAY,
        "emp-asr",
        AT,
        AT,
        None,
        None,
    )
    [detail] = bill.details.all()
    assert (
        detail.demand_id,
        detail.from_period,
        detail.to_period,
        detail.expiry_date,
        detail.amount,
        detail.amount_paid,
        detail.additional_details,
    ) == (demand.pk, ms(P2019[0]), ms(P2019[1]), END_OF_AT_DAY, Decimal("500.00"), None, {"ward": "W1"})
    assert lines_of(bill) == [[("PT_TAX", 0, Decimal("500.00"), tax_line.pk, Decimal("0.00"))]]


def test_fetching_twice_returns_the_same_bill_and_writes_nothing(employee):
    create(employee, pt_demand())
    [first] = fetch(employee, "PT-107-001")
    before = bill_snapshot()

    [second] = fetch(employee, "PT-107-001", at=AT + dt.timedelta(hours=3))

    assert (second.pk, second.bill_number) == (first.pk, first.bill_number)
    assert bill_snapshot() == before
    assert before.bills == (("PT-107-001", "BILLNO-PT-000001", "ACTIVE", Decimal("500.00")),)


def test_two_demands_make_one_bill_as_worked_example_14_1(employee):
    a, b = create(
        employee,
        pt_demand(period=P2018, details=(line("PT_TAX", "500"),)),
        pt_demand(
            period=P2019,
            details=(line("PT_TAX", "1000"), line("PT_TIME_REBATE", "-50"), line("PT_TIME_INTEREST", "20")),
        ),
    )
    # The second interest line is added later, so "the first line of the head" is the 20 one.
    b = set_tax(employee, b, "PT_TAX", "1000", at=AT + dt.timedelta(minutes=5), add=(line("PT_TIME_INTEREST", "5"),))
    lines_b = {(d.tax_head_code, d.tax_amount): d.pk for d in b.details.all()}
    [a_tax] = a.details.all()

    [bill] = fetch(employee, "PT-107-001", at=AT + dt.timedelta(minutes=10))

    assert bill.total_amount == Decimal("1475.00")
    assert [(d.demand_id, d.amount) for d in bill.details.all()] == [
        (a.pk, Decimal("500.00")),
        (b.pk, Decimal("975.00")),
    ]
    assert lines_of(bill) == [
        [("PT_TAX", 0, Decimal("500.00"), a_tax.pk, Decimal("0.00"))],
        [
            ("PT_TAX", 0, Decimal("1000.00"), lines_b[("PT_TAX", Decimal("1000.00"))], Decimal("0.00")),
            ("PT_TIME_INTEREST", 1, Decimal("25.00"), lines_b[("PT_TIME_INTEREST", Decimal("20.00"))], Decimal("0.00")),
            ("PT_TIME_REBATE", 2, Decimal("-50.00"), lines_b[("PT_TIME_REBATE", Decimal("-50.00"))], Decimal("0.00")),
        ],
    ]
    assert bill.revision == 2


def test_a_demand_update_makes_the_next_fetch_build_a_new_bill_and_expire_the_old(employee):
    [demand] = create(employee, pt_demand())
    [old] = fetch(employee, "PT-107-001")
    set_tax(employee, demand, "PT_TAX", "650", at=AT + dt.timedelta(hours=1))

    # The update itself writes no bill; the old bill is stale (behind the account's revision) and reads EXPIRED.
    assert status_of(old) == BillStatus.ACTIVE
    assert effective_status(bills_with_details().get(pk=old.pk), AT + dt.timedelta(hours=1)) == BillStatus.EXPIRED

    [new] = fetch(employee, "PT-107-001", at=AT + dt.timedelta(hours=2))

    assert new.pk != old.pk
    assert (new.bill_number, new.status, new.total_amount, new.revision) == (
        "BILLNO-PT-000002",
        BillStatus.ACTIVE,
        Decimal("650.00"),
        2,
    )
    old.refresh_from_db()
    assert (old.status, old.modified_by, old.modified_at) == (BillStatus.EXPIRED, "emp-asr", AT + dt.timedelta(hours=2))
    assert list(Bill.objects.order_by("bill_number").values_list("bill_number", "status", "revision")) == [
        ("BILLNO-PT-000001", "EXPIRED", 1),
        ("BILLNO-PT-000002", "ACTIVE", 2),
    ]


def test_a_fetch_after_expiry_builds_a_new_bill_and_expires_the_old(employee):
    create(employee, pt_demand())
    [old] = fetch(employee, "PT-107-001")

    # Expired means expiry < now: at the expiry instant itself the bill is still current.
    [same] = fetch(employee, "PT-107-001", at=END_OF_AT_DAY)
    assert same.pk == old.pk
    [new] = fetch(employee, "PT-107-001", at=LATER)

    assert new.pk != old.pk
    assert (new.bill_number, new.expiry_date, new.bill_date, new.revision, new.total_amount) == (
        "BILLNO-PT-000002",
        END_OF_LATER_DAY,
        LATER,
        1,
        Decimal("500.00"),
    )
    assert status_of(old) == BillStatus.EXPIRED
    assert Bill.objects.filter(status=BillStatus.ACTIVE).count() == 1


def test_a_demand_with_bill_expiry_time_and_fixed_expiry_date(employee):
    create(
        employee,
        pt_demand(period=P2018, bill_expiry_time=dt.timedelta(days=10)),
        pt_demand(period=P2019, bill_expiry_time=dt.timedelta(days=10)),
    )
    [bill] = fetch(employee, "PT-107-001")
    ten_days = dt.datetime(2024, 5, 11, 18, 29, 59, 999000, tzinfo=dt.UTC)  # 2024-05-11 23:59:59.999 IST
    assert [d.expiry_date for d in bill.details.all()] == [ten_days, ten_days]
    assert bill.expiry_date == ten_days
    # A fetch nine days later still answers the same bill.
    [same] = fetch(employee, "PT-107-001", at=AT + dt.timedelta(days=9))
    assert same.pk == bill.pk


def test_a_future_fixed_expiry_date_wins(employee):
    fixed = dt.datetime(2024, 5, 3, 20, 0, tzinfo=dt.UTC)  # 2024-05-04 01:30 IST
    create(employee, pt_demand(bill_expiry_time=dt.timedelta(days=10), fixed_bill_expiry_date=fixed))

    [bill] = fetch(employee, "PT-107-001")

    assert bill.expiry_date == dt.datetime(2024, 5, 4, 18, 29, 59, 999000, tzinfo=dt.UTC)  # 2024-05-04 23:59:59.999 IST


def test_a_negative_total_consumer_gets_no_bill_and_nothing_is_written(employee):
    create(employee, pt_demand(details=(line("PT_TAX", "100"), line("PT_OWNER_EXEMPTION", "-300"))))
    before = bill_snapshot()

    assert fetch(employee, "PT-107-001") == []

    assert bill_snapshot() == before
    assert before.bills == ()
    assert before.sequences == ()  # no bill number was drawn (fix [17])


def test_a_consumer_turning_negative_loses_its_bill_and_gets_none(employee):
    [demand] = create(employee, pt_demand(details=(line("PT_TAX", "100"), line("PT_OWNER_EXEMPTION", "-50"))))
    [old] = fetch(employee, "PT-107-001")
    set_tax(employee, demand, "PT_OWNER_EXEMPTION", "-300", at=AT + dt.timedelta(hours=1))

    assert fetch(employee, "PT-107-001", at=AT + dt.timedelta(hours=2)) == []

    assert list(Bill.objects.values_list("pk", "status")) == [(old.pk, BillStatus.EXPIRED)]


def test_a_zero_total_consumer_gets_a_zero_bill(employee):
    create(employee, pt_demand(details=(line("PT_TAX", "100"), line("PT_OWNER_EXEMPTION", "-100"))))

    [bill] = fetch(employee, "PT-107-001")

    assert str(bill.total_amount) == "0.00"
    assert [[(a.tax_head_code, a.amount) for a in d.account_details.all()] for d in bill.details.all()] == [
        [("PT_TAX", Decimal("100.00")), ("PT_OWNER_EXEMPTION", Decimal("-100.00"))]
    ]


def test_cancelled_and_paid_demands_are_not_billed(employee):
    cancelled, paid, open_ = create(
        employee,
        pt_demand(period=(PTAN2017_FROM, PTAN2017_TO), details=(line("PT_TAX", "300"),)),
        pt_demand(period=P2018, details=(line("PT_TAX", "400"),)),
        pt_demand(period=P2019, details=(line("PT_TAX", "500"),)),
    )
    demand_cancel(caller=employee, demand_id=cancelled.pk, at=AT)
    Demand.objects.filter(pk=paid.pk).update(is_payment_completed=True)  # as a settled payment leaves it

    [bill] = fetch(employee, "PT-107-001", at=AT + dt.timedelta(minutes=1))

    assert [(d.demand_id, d.amount) for d in bill.details.all()] == [(open_.pk, Decimal("500.00"))]
    assert bill.total_amount == Decimal("500.00")


def test_a_consumer_with_no_open_demand_gets_no_bill(employee):
    [demand] = create(employee, pt_demand())
    demand_cancel(caller=employee, demand_id=demand.pk, at=AT)
    before = bill_snapshot()

    assert fetch(employee, "PT-107-001", at=AT + dt.timedelta(minutes=1)) == []
    assert fetch(employee, "PT-NOT-KNOWN") == []

    assert bill_snapshot() == before


def test_the_bill_records_the_account_revision(employee):
    [demand] = create(employee, pt_demand())
    set_tax(employee, demand, "PT_TAX", "510", at=AT + dt.timedelta(minutes=1))
    set_tax(employee, demand, "PT_TAX", "520", at=AT + dt.timedelta(minutes=2))

    [bill] = fetch(employee, "PT-107-001", at=AT + dt.timedelta(minutes=3))

    assert (bill.revision, bill.account.revision, bill.total_amount) == (3, 3, Decimal("520.00"))


def test_an_unknown_tax_head_fails_the_fetch_and_writes_nothing(employee):
    [demand] = create(employee, pt_demand())
    [old] = fetch(employee, "PT-107-001")
    set_tax(employee, demand, "PT_TAX", "600", at=AT + dt.timedelta(hours=1))
    TaxHeadMaster.objects.filter(code="PT_TAX").delete()
    before = bill_snapshot()

    with pytest.raises(DomainError) as info:
        fetch(employee, "PT-107-001", at=AT + dt.timedelta(hours=2))

    assert (info.value.code, info.value.message) == (
        "EG_BS_TAXHEADCODE_EMPTY",
        "No taxhead masters found for the given codes ['PT_TAX']",
    )
    assert bill_snapshot() == before  # the stale bill is not expired either: all or nothing
    assert status_of(old) == BillStatus.ACTIVE


# --- several consumers ----------------------------------------------------------------------------


def test_a_fetch_of_two_consumers_keeps_the_current_bill_and_replaces_the_stale_one(employee):
    [one] = create(employee, pt_demand("PT-1"))
    create(employee, pt_demand("PT-2", details=(line("PT_TAX", "700"),)))
    first_1, first_2 = fetch(employee, "PT-1", "PT-2")
    set_tax(employee, one, "PT_TAX", "550", at=AT + dt.timedelta(hours=1))

    bill_1, bill_2 = fetch(employee, "PT-2", "PT-1", at=AT + dt.timedelta(hours=2))

    assert (bill_1.consumer_code, bill_1.bill_number, bill_1.total_amount) == (
        "PT-1",
        "BILLNO-PT-000003",
        Decimal("550.00"),
    )
    assert (bill_2.pk, bill_2.bill_number) == (first_2.pk, "BILLNO-PT-000002")
    assert first_1.bill_number == "BILLNO-PT-000001"
    assert status_of(first_1) == BillStatus.EXPIRED


def test_fetch_by_mobile_number_finds_unbilled_demands_with_each_consumers_own_payer(employee, payer_factory):
    asha = payer_factory("Asha", "9876543210", email="asha@example.org", permanent_address="1 Mall Road")
    ravi = payer_factory("Ravi", "9876543210", email="ravi@example.org", permanent_address="2 GT Road")
    other = payer_factory("Other", "9123456789")
    create(
        employee,
        pt_demand("PT-1", payer=PayerInput(uuid=asha.uuid)),
        pt_demand("PT-2", payer=PayerInput(uuid=ravi.uuid), details=(line("PT_TAX", "800"),)),
        pt_demand("PT-3", payer=PayerInput(uuid=other.uuid)),
    )
    assert Bill.objects.count() == 0

    bills = fetch(employee, mobile_number="9876543210")

    assert [
        (b.consumer_code, b.total_amount, b.payer_id, b.payer_name, b.mobile_number, b.payer_email, b.payer_address)
        for b in bills
    ] == [
        ("PT-1", Decimal("500.00"), asha.uuid, "Asha", "9876543210", "asha@example.org", "1 Mall Road"),
        ("PT-2", Decimal("800.00"), ravi.uuid, "Ravi", "9876543210", "ravi@example.org", "2 GT Road"),
    ]
    assert sorted(Bill.objects.values_list("consumer_code", flat=True)) == ["PT-1", "PT-2"]


def test_fetch_by_email_finds_unbilled_demands(employee, payer_factory):
    asha = payer_factory("Asha", "9876543210", email="asha@example.org")
    create(employee, pt_demand("PT-1", payer=PayerInput(uuid=asha.uuid)), pt_demand("PT-2"))

    [bill] = fetch(employee, email="ASHA@example.org")

    assert (bill.consumer_code, bill.payer_email) == ("PT-1", "asha@example.org")


def test_the_bill_payer_is_the_payer_of_the_latest_period(employee, payer_factory):
    old_owner = payer_factory("Old Owner", "9000000001")
    new_owner = payer_factory("New Owner", "9000000002", email="new@example.org")
    create(
        employee,
        pt_demand(period=P2018, payer=PayerInput(uuid=old_owner.uuid)),
        pt_demand(period=P2019, payer=PayerInput(uuid=new_owner.uuid)),
    )

    [bill] = fetch(employee, "PT-107-001")

    assert (bill.payer_id, bill.payer_name, bill.mobile_number, bill.payer_email) == (
        new_owner.uuid,
        "New Owner",
        "9000000002",
        "new@example.org",
    )


def test_a_bill_without_payer_has_empty_payer_fields(employee):
    create(employee, pt_demand())

    [bill] = fetch(employee, "PT-107-001")

    assert (bill.payer_id, bill.payer_name, bill.mobile_number, bill.payer_email, bill.payer_address) == (
        None,
        "",
        "",
        "",
        "",
    )


def test_fetch_by_demand_id_looks_only_at_that_demands_consumer(employee):
    [mine] = create(employee, pt_demand("PT-1"))
    create(employee, pt_demand("PT-2"))

    [bill] = fetch(employee, demand_id=str(mine.pk))

    assert bill.consumer_code == "PT-1"
    assert list(Bill.objects.values_list("consumer_code", flat=True)) == ["PT-1"]


@pytest.mark.parametrize("demand_id", ["not-a-uuid", str(uuid.UUID(int=7))])
def test_fetch_by_an_unknown_demand_id_finds_nothing(employee, demand_id):
    create(employee, pt_demand("PT-1"))

    assert fetch(employee, demand_id=demand_id) == []
    assert Bill.objects.count() == 0


# --- criteria and access ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criteria", "code", "message"),
    [
        ({}, "BILL_GEN_MANDATORY_FIELDS_MISSING", MANDATORY_MESSAGE),
        ({"tenant": None, "codes": ("PT-1",)}, "INVALID_TENANTID", "tenantId is mandatory"),
        ({"tenant": "", "codes": ("PT-1",)}, "INVALID_TENANTID", "tenantId is mandatory"),
        ({"service": None, "codes": ("PT-1",)}, "INVALID_BUSINESSSERVICE", "businessService is mandatory"),
        ({"mobile_number": "98765"}, "INVALID_MOBILENUMBER", "mobileNumber must be 10 digits"),
        ({"mobile_number": "98765432101"}, "INVALID_MOBILENUMBER", "mobileNumber must be 10 digits"),
        ({"email": "not-an-email"}, "INVALID_EMAIL", "email is not an e-mail address"),
        ({"demand_id": "x" * 65}, "INVALID_DEMANDID", "demandId is longer than 64 characters"),
        ({"tenant": "pb", "codes": ("PT-1",)}, "EG_BS_INVALID_TENANTID", STATE_LEVEL_MESSAGE),
    ],
)  # fmt: skip
def test_invalid_criteria_are_refused_and_nothing_is_written(employee, criteria, code, message):
    create(employee, pt_demand("PT-1"))
    before = bill_snapshot()
    codes = criteria.pop("codes", ())

    with pytest.raises(DomainError) as info:
        fetch(employee, *codes, **criteria)

    assert (info.value.code, info.value.message) == (code, message)
    assert bill_snapshot() == before


def test_an_employee_of_another_city_gets_nothing(employee, jalandhar_employee):
    [demand] = create(employee, pt_demand("PT-1"))
    before = bill_snapshot()

    assert fetch(jalandhar_employee, "PT-1") == []
    assert fetch(jalandhar_employee, demand_id=str(demand.pk)) == []
    assert fetch(jalandhar_employee, "PT-1", tenant="pb.jalandhar") == []

    assert bill_snapshot() == before


def test_a_citizen_gets_only_the_bills_they_owe(employee, citizen_factory, payer_factory):
    citizen, asha = citizen_factory("asha", "Asha", "9876543210")
    ravi = payer_factory("Ravi", "9876543210")
    create(
        employee,
        pt_demand("PT-1", payer=PayerInput(uuid=asha.uuid)),
        pt_demand("PT-2", payer=PayerInput(uuid=ravi.uuid)),
    )

    [own] = fetch(citizen, "PT-1", "PT-2")
    assert fetch(citizen, "PT-2") == []
    [by_mobile] = fetch(citizen, mobile_number="9876543210")
    [state_level] = fetch(citizen, "PT-1", tenant="pb")  # citizens may use the state-level tenant

    assert (own.consumer_code, own.payer_id, own.created_by) == ("PT-1", asha.uuid, "asha")
    assert by_mobile.pk == own.pk == state_level.pk
    assert list(Bill.objects.values_list("consumer_code", flat=True)) == ["PT-1"]


def test_bill_account_details_reference_the_demand_details(employee):
    [demand] = create(employee, pt_demand(details=(line("PT_TAX", "500"), line("PT_TIME_REBATE", "-25"))))
    [bill] = fetch(employee, "PT-107-001")

    lines = BillAccountDetail.objects.filter(bill_detail__bill=bill).order_by("order")

    assert [(a.demand_detail.demand_id, a.demand_detail.tax_head_code) for a in lines] == [
        (demand.pk, "PT_TAX"),
        (demand.pk, "PT_TIME_REBATE"),
    ]
    assert DemandDetail.objects.filter(demand=demand).count() == 2


def test_a_caller_without_a_login_owes_nothing(employee, seed):
    # A payer-less demand must not count as "owed by" a caller whose user id is None.
    create(employee, pt_demand("PT-1"))
    ghost = Caller(user_id=None, username="ghost", is_superuser=False, roles=(("pb", Role.CITIZEN),))

    assert fetch(ghost, "PT-1") == []
    assert Bill.objects.count() == 0
