"""The printable receipt page and the payments admin (read-only records, filters, search, receipt link)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission

from billing_project import clock
from bills.models import Bill
from masters.access import Caller
from masters.models import Role
from payments.models import Payment
from tests.payments.conftest import (
    CANCEL_AT,
    CITY,
    PTAN2018_FROM,
    PTAN2018_TO,
    line,
    make_bill,
    pay,
    pt_demand,
)

CHANGELIST = "/admin/payments/payment/"


@pytest.fixture
def bill(employee: Caller) -> Bill:
    """PT-107-001: 2018-19 PT_TAX 300; 2019-20 PT_TAX 1000 + PT_FIRE_CESS 100. Total 1400."""
    return make_bill(
        employee,
        pt_demand(period=(PTAN2018_FROM, PTAN2018_TO), details=(line("PT_TAX", "300"),)),
        pt_demand(details=(line("PT_TAX", "1000"), line("PT_FIRE_CESS", "100"))),
    )


@pytest.fixture
def payment(cashier: Caller, bill: Bill) -> Payment:
    """A cheque of 800: the oldest period first (300), then the cess (100) and 400 of the tax."""
    return pay(cashier, bill, "800", mode="CHEQUE", instrument_number="CHQ-4711", payer_name="Asha Devi")


@pytest.fixture
def staff(seed: Any, user_factory: Any) -> Any:
    user = user_factory("cashier-web", {CITY: [Role.CASHIER]})
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def page(client: Any, url: str, **params: Any) -> Any:
    with clock.frozen(CANCEL_AT):
        return client.get(url, params)


def test_receipt_page_shows_what_was_paid_per_tax_head(client, staff, payment, bill):
    client.force_login(staff)

    response = page(client, f"/payments/{payment.pk}/receipt/")

    assert response.status_code == 200
    assert response.templates[0].name == "payments/receipt.html"
    [receipt] = response.context["receipts"]
    assert receipt["detail"].receipt_number == "PT/AMRITSAR/2024-25/000001"
    assert [
        (period["from"].year, period["paid"], [(x["tax_head"], x["due"], x["paid"]) for x in period["lines"]])
        for period in receipt["periods"]
    ] == [
        (2018, 300, [("PT_TAX", 300, 300)]),
        (2019, 500, [("PT_TAX", 1000, 400), ("PT_FIRE_CESS", 100, 100)]),
    ]
    html = response.content.decode()
    for text in [
        "PT/AMRITSAR/2024-25/000001",
        bill.bill_number,
        "PT-107-001",
        "Asha Devi",
        "Owner",
        "<dd>Cheque</dd>",  # the mode as staff say it (issue 13), not its code
        "CHQ-4711",
        "400.00",
        "1400.00",
        "800.00",
        "01 Apr 2018",
        "@media print",
    ]:
        assert text in html, text


def test_receipt_page_is_for_staff_of_the_tenant(client, seed, user_factory, payment):
    other = user_factory("cashier-jal", {"pb.jalandhar": [Role.CASHIER]})
    url = f"/payments/{payment.pk}/receipt/"

    anonymous = page(client, url)
    client.force_login(other)
    foreign = page(client, url)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/")
    assert foreign.status_code == 404


def test_admin_lists_searches_filters_and_links_the_receipt(client, staff, payment, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(root)

    listing = page(client, CHANGELIST)
    by_receipt = page(client, CHANGELIST, q="PT/AMRITSAR/2024-25/000001")
    no_match = page(client, CHANGELIST, q="nothing-like-this")
    by_mode = page(client, CHANGELIST, payment_mode="CASH")
    by_cashier = page(client, CHANGELIST, created_by="cashier-asr")
    detail = page(client, f"{CHANGELIST}{payment.pk}/change/")

    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [payment]
    assert f"/payments/{payment.pk}/receipt/" in listing.content.decode()
    assert list(by_receipt.context["cl"].result_list) == [payment]
    assert list(no_match.context["cl"].result_list) == []
    assert list(by_mode.context["cl"].result_list) == []
    assert list(by_cashier.context["cl"].result_list) == [payment]
    assert detail.status_code == 200
    assert "PT/AMRITSAR/2024-25/000001" in detail.content.decode()
    assert page(client, f"{CHANGELIST}add/").status_code == 403


def test_admin_is_scoped_to_the_staff_members_tenants(client, seed, user_factory, payment):
    other = user_factory("clerk-jal", {"pb.jalandhar": [Role.CASHIER]})
    other.is_staff = True
    other.is_superuser = False
    other.save()
    other.user_permissions.add(Permission.objects.get(codename="view_payment"))
    client.force_login(other)

    response = page(client, CHANGELIST)

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
