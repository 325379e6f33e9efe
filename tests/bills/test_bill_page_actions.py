"""The bill's page: Cancel bill (the reason first, ``bill_cancel_one``, history), print, the consumer page;
bills found by payer name and filtered by period."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from billing_project import clock
from bills.models import Bill, BillStatus
from demands.services import PayerInput
from masters.access import Caller
from tests.bills.conftest import AT, P2018, P2019, create, fetch, line, pt_demand

pytestmark = pytest.mark.django_db
BILLS = "/admin/bills/bill/"


@pytest.fixture
def root(django_user_model: Any) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))
    return client


def test_cancel_bill_on_its_page(employee: Caller, root: Client) -> None:
    create(employee, pt_demand("PT-C-1", period=P2019, details=(line("PT_TAX", "100"),)))
    [bill] = fetch(employee, "PT-C-1")
    page = root.get(f"{BILLS}{bill.pk}/change/").content.decode()
    assert f'href="{BILLS}{bill.pk}/cancel/" id="cancel-bill"' in page
    assert f'href="/admin/counter/consumer/{bill.account_id}/" id="consumer-page"' in page
    with clock.frozen(AT):
        done = root.post(f"{BILLS}{bill.pk}/cancel/", {"reason": "OTHER", "reason_message": "Wrong owner"})
    assert done["Location"] == f"{BILLS}{bill.pk}/change/"
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.CANCELLED
    assert list(LogEntry.objects.values_list("change_message", flat=True)) == ["Cancelled — reason: OTHER: Wrong owner"]
    assert 'id="cancel-bill"' not in root.get(f"{BILLS}{bill.pk}/change/").content.decode()


def test_bills_by_payer_name_and_period(employee: Caller, root: Client, user_factory: Callable[..., Any]) -> None:
    create(
        employee,
        pt_demand(
            "PT-N-1",
            period=P2018,
            details=(line("PT_TAX", "100"),),
            payer=PayerInput(name="Gurpreet Kaur", mobile_number="9800000001"),
        ),
    )
    create(employee, pt_demand("PT-N-2", period=P2019, details=(line("PT_TAX", "100"),)))
    [first] = fetch(employee, "PT-N-1")
    [second] = fetch(employee, "PT-N-2")
    assert [b.pk for b in root.get(BILLS, {"q": "gurpreet"}).context["cl"].result_list] == [first.pk]
    assert [b.pk for b in root.get(BILLS, {"period": "2019"}).context["cl"].result_list] == [second.pk]
