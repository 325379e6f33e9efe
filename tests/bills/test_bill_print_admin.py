"""The printable bill page and the bills admin (read-only records, cancel action, billing run progress)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages

from billing_project import clock
from bills.models import Bill, BillingRun, BillingRunError, BillStatus
from masters.access import caller_for
from masters.models import Payer, Tenant
from tests.bills._factories_api import (
    AT,
    LATER,
    citizen_payer,
    employee,
    fetch,
    load_seed,
    make_user,
    pt_demand,
    two_period_demands,
)

CHANGELIST = "/admin/bills/bill/"


@pytest.fixture
def seed(db: Any) -> dict[str, Tenant]:
    return load_seed()


@pytest.fixture
def emp(seed: dict[str, Tenant]) -> Any:
    return employee()


@pytest.fixture
def citizen_and_payer(seed: dict[str, Tenant]) -> tuple[Any, Payer]:
    return citizen_payer("asha", "Asha Devi", "9876543210", permanent_address="12 Mall Road, Amritsar")


@pytest.fixture
def bill(emp: Any, citizen_and_payer: tuple[Any, Payer]) -> Bill:
    _, payer = citizen_and_payer
    two_period_demands(caller_for(emp), payer=payer)
    return fetch(caller_for(emp), "PT-107-001")[0]


@pytest.fixture
def jalandhar_bill(seed: dict[str, Tenant]) -> Bill:
    caller = caller_for(employee("emp-jal", "pb.jalandhar"))
    pt_demand(caller, "PT-J", tenant="pb.jalandhar")
    return fetch(caller, "PT-J", tenant="pb.jalandhar")[0]


@pytest.fixture
def root(seed: dict[str, Tenant], django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw")


def page(client: Any, url: str, *, at: Any = AT) -> Any:
    with clock.frozen(at):
        return client.get(url)


# --- printable bill -----------------------------------------------------------------------------


def test_print_page_for_staff_of_the_tenant(client, emp, bill):
    client.force_login(emp)

    response = page(client, f"/bills/{bill.pk}/print/")

    assert response.status_code == 200
    assert response.templates[0].name == "bills/bill_print.html"
    html = response.content.decode()
    for text in [
        "BILLNO-PT-000001",
        "PT-107-001",
        "Asha Devi",
        "9876543210",
        "12 Mall Road, Amritsar",
        "pb.amritsar",
        "PT_TAX",
        "PT_TIME_INTEREST",
        "PT_TIME_REBATE",
        "-50.00",
        "975.00",
        "1475.00",
        "01 May 2024, 15:30",  # bill date in the billing time zone
        "01 May 2024, 23:59",  # valid until
        "01 Apr 2018",
        "@media print",
    ]:
        assert text in html, text
    assert response.context["status"] == "ACTIVE"
    assert [d.amount for d in response.context["details"]] == [500, 975]


def test_print_page_for_the_payers_login_shows_the_effective_status(client, bill, citizen_and_payer):
    citizen, _ = citizen_and_payer
    client.force_login(citizen)

    response = page(client, f"/bills/{bill.pk}/print/", at=LATER)

    assert response.status_code == 200
    assert response.context["status"] == "EXPIRED"
    assert 'class="status status-EXPIRED"' in response.content.decode()


def test_print_page_is_404_for_others_and_asks_anonymous_users_to_log_in(client, bill, seed):
    stranger, _ = citizen_payer("ravi", "Ravi", "9000000001")
    for user in [employee("emp-jal", "pb.jalandhar"), stranger, make_user("nobody")]:
        client.force_login(user)
        assert page(client, f"/bills/{bill.pk}/print/").status_code == 404, user.username
    client.logout()

    anonymous = page(client, f"/bills/{bill.pk}/print/")

    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"/admin/login/?next=/bills/{bill.pk}/print/"


def test_print_page_of_an_unknown_bill_is_404(client, emp, seed):
    client.force_login(emp)

    assert page(client, "/bills/00000000-0000-4000-8000-000000000000/print/").status_code == 404


# --- admin --------------------------------------------------------------------------------------


@pytest.fixture
def run(seed: dict[str, Tenant]) -> BillingRun:
    billing_run = BillingRun.objects.create(
        tenant=seed["amritsar"],
        business_service="PT",
        status="RUNNING",
        total_consumers=8,
        processed=3,
        bills_created=2,
        skipped=0,
        failed=1,
        created_by="emp-asr",
        created_at=AT,
        started_at=AT,
        updated_at=AT,
    )
    BillingRunError.objects.create(
        run=billing_run, consumer_code="PT-BAD", code="EG_BS_TAXHEADCODE_EMPTY", message="No taxhead", created_at=AT
    )
    return billing_run


def test_admin_pages_answer(client, root, bill, run):
    client.force_login(root)
    for url in [
        CHANGELIST,
        f"{CHANGELIST}?status__exact=ACTIVE&business_service=PT&q=PT-107-001",
        f"{CHANGELIST}?q=9876543210",
        f"{CHANGELIST}?bill_date__year=2024&bill_date__month=5",
        f"{CHANGELIST}{bill.pk}/change/",
        "/admin/bills/billingrun/",
        f"/admin/bills/billingrun/{run.pk}/change/",
    ]:
        assert page(client, url).status_code == 200, url
    assert page(client, f"{CHANGELIST}add/").status_code == 403
    assert page(client, f"{CHANGELIST}{bill.pk}/delete/").status_code == 403


def test_bill_change_page_shows_periods_lines_and_the_print_link(client, root, bill):
    client.force_login(root)

    html = page(client, f"{CHANGELIST}{bill.pk}/change/").content.decode()

    assert f'href="/bills/{bill.pk}/print/"' in html
    assert "PT_TIME_INTEREST" in html
    assert "25.00" in html


def test_billing_run_admin_shows_progress_and_errors(client, root, run):
    client.force_login(root)

    listing = page(client, "/admin/bills/billingrun/").content.decode()
    detail = page(client, f"/admin/bills/billingrun/{run.pk}/change/").content.decode()

    assert "3/8" in listing
    assert "37.5 %" in listing
    assert "PT-BAD" in detail
    assert "EG_BS_TAXHEADCODE_EMPTY" in detail


def test_staff_see_only_their_tenants(client, bill, jalandhar_bill, run):
    staff = make_user("staff-jal", {"pb.jalandhar": ["EMPLOYEE"]})
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_bill", "view_billingrun", "view_billingrunerror"])
    )
    client.force_login(staff)

    listing = page(client, CHANGELIST)

    assert [b.bill_number for b in listing.context["cl"].result_list] == [jalandhar_bill.bill_number]
    assert page(client, f"{CHANGELIST}{bill.pk}/change/").status_code == 302  # not found: back to the list
    assert list(page(client, "/admin/bills/billingrun/").context["cl"].result_list) == []


def test_cancel_action_asks_for_the_reason_then_cancels_through_the_service(client, root, bill, jalandhar_bill):
    Bill.objects.filter(pk=jalandhar_bill.pk).update(status=BillStatus.EXPIRED)
    client.force_login(root)
    selected = {"action": "cancel_bills", "_selected_action": [str(bill.pk), str(jalandhar_bill.pk)]}

    with clock.frozen(LATER):
        form = client.post(CHANGELIST, selected)
        incomplete = client.post(CHANGELIST, {**selected, "apply": "yes", "reason": "OTHER"})
        done = client.post(
            CHANGELIST, {**selected, "apply": "yes", "reason": "OTHER", "reason_message": "Wrong demand"}
        )

    assert form.status_code == 200
    assert form.templates[0].name == "admin/bills/cancel_bills.html"
    assert "BILLNO-PT-000001" in form.content.decode()
    assert incomplete.status_code == 200
    assert incomplete.context["form"].errors == {"reason_message": ["This field is required."]}
    assert done.status_code == 302
    assert [str(m) for m in get_messages(done.wsgi_request)] == [
        f"{jalandhar_bill.bill_number}: EG_BS_BILL_NOT_ACTIVE: Bill {jalandhar_bill.bill_number} is EXPIRED",
        "Cancelled 1 bill(s).",
    ]
    bill.refresh_from_db()
    assert (bill.status, bill.modified_by, bill.additional_details) == (
        "CANCELLED",
        "root",
        {"reason": "OTHER", "reasonMessage": "Wrong demand"},
    )
    assert Bill.objects.get(pk=jalandhar_bill.pk).status == "EXPIRED"
