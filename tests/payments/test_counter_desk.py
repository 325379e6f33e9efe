"""The counter desk in the admin: search, the consumer page, fetch the bill, take a payment once, errors next
to their fields with their code, and tenant scoping (a cashier of another city gets a 404)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from billing_project import clock
from bills.models import Bill, BillStatus
from demands.models import ConsumerAccount
from masters.access import Caller
from masters.models import Role
from payments.models import CounterSubmission, Payment
from tests.payments.conftest import AT, PAY_AT, PTAN2018_FROM, PTAN2018_TO, line, pt_demand

pytestmark = pytest.mark.django_db
DESK = "/admin/counter/"


@pytest.fixture
def desk(seed: Any, user_factory: Callable[..., Any]) -> Client:
    user_factory("desk-cashier", {"pb.amritsar": [Role.CASHIER]})
    client = Client()
    assert client.login(username="desk-cashier", password="pw-desk-cashier")
    return client


@pytest.fixture
def consumer(employee: Caller) -> ConsumerAccount:
    from demands.services import PayerInput, demand_create

    demand = pt_demand("PT-DESK-1", period=(PTAN2018_FROM, PTAN2018_TO), details=(line("PT_TAX", "1000"),))
    from dataclasses import replace

    demand_create(
        caller=employee,
        demands=[replace(demand, payer=PayerInput(name="Asha Verma", mobile_number="9876500001"))],
        at=AT,
    )
    return ConsumerAccount.objects.get(consumer_code="PT-DESK-1")


def form_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(form_key|bill_id|csrfmiddlewaretoken)" value="([^"]+)"', html))


@pytest.mark.parametrize("query", ["PT-DESK", "asha", "9876500001"])
def test_search_finds_the_consumer_by_code_name_or_mobile(desk: Client, consumer: ConsumerAccount, query: str) -> None:
    page = desk.get(DESK, {"q": query})
    assert page.status_code == 200
    assert [hit.account.pk for hit in page.context["hits"]] == [consumer.pk]
    partial = desk.get(DESK, {"q": query, "partial": "1"})
    assert partial.templates[0].name == "admin/desk/_results.html"
    assert f"/admin/counter/consumer/{consumer.pk}/" in partial.content.decode()


def test_search_by_bill_number(desk: Client, consumer: ConsumerAccount, employee: Caller) -> None:
    with clock.frozen(AT):
        desk.post(f"{DESK}consumer/{consumer.pk}/fetch-bill/")
    bill = Bill.objects.get(account=consumer)
    assert [hit.account.pk for hit in desk.get(DESK, {"q": bill.bill_number}).context["hits"]] == [consumer.pk]


def test_a_cashier_of_another_city_cannot_reach_the_consumer(
    consumer: ConsumerAccount, user_factory: Callable[..., Any]
) -> None:
    user_factory("jal-cashier", {"pb.jalandhar": [Role.CASHIER]})
    other = Client()
    assert other.login(username="jal-cashier", password="pw-jal-cashier")
    assert other.get(DESK, {"q": "PT-DESK"}).context["hits"] == []
    for url in ("", "pay/"):
        assert other.get(f"{DESK}consumer/{consumer.pk}/{url}").status_code == 404
    assert other.post(f"{DESK}consumer/{consumer.pk}/fetch-bill/").status_code == 404
    assert Bill.objects.count() == 0


def test_fetch_then_pay_cash_once_then_the_receipt(desk: Client, consumer: ConsumerAccount) -> None:
    with clock.frozen(AT):
        fetched = desk.post(f"{DESK}consumer/{consumer.pk}/fetch-bill/")
    assert fetched["Location"] == f"{DESK}consumer/{consumer.pk}/pay/"
    bill = Bill.objects.get(account=consumer, status=BillStatus.ACTIVE)
    with clock.frozen(PAY_AT):
        form = desk.get(f"{DESK}consumer/{consumer.pk}/pay/")
        page = form.content.decode()
        assert "Part payment is allowed." in page
        hidden = form_fields(page)
        data = {**hidden, "payment_mode": "CASH", "amount": "1000", "paid_by": "Asha"}
        first = desk.post(f"{DESK}consumer/{consumer.pk}/pay/", data)
        again = desk.post(f"{DESK}consumer/{consumer.pk}/pay/", data, follow=True)

    payment = Payment.objects.get()
    assert hidden["bill_id"] == str(bill.pk)
    assert first["Location"] == f"{DESK}payment/{payment.pk}/"
    assert again.redirect_chain == [(f"{DESK}payment/{payment.pk}/", 302)]
    assert "This form was already submitted" in again.content.decode()
    assert (payment.payment_mode, payment.total_amount_paid, payment.paid_by) == ("CASH", Decimal("1000.00"), "Asha")
    assert CounterSubmission.objects.count() == 1
    from django.contrib.admin.models import LogEntry

    history = LogEntry.objects.order_by("pk").values_list("content_type__model", "object_id", "change_message")
    assert list(history) == [
        ("bill", str(bill.pk), "Generated at the counter desk by fetching the bill of PT-DESK-1"),
        ("payment", str(payment.pk), "Taken at the counter desk"),
    ]
    done = again.content.decode()
    assert f'href="/payments/{payment.pk}/receipt/"' in done
    receipt = desk.get(f"/payments/{payment.pk}/receipt/")
    assert receipt.status_code == 200
    assert payment.details.get().receipt_number in receipt.content.decode()


def test_errors_are_shown_next_to_their_field_with_the_code(desk: Client, consumer: ConsumerAccount) -> None:
    with clock.frozen(AT):
        desk.post(f"{DESK}consumer/{consumer.pk}/fetch-bill/")
        hidden = form_fields(desk.get(f"{DESK}consumer/{consumer.pk}/pay/").content.decode())
        cheque = desk.post(f"{DESK}consumer/{consumer.pk}/pay/", {**hidden, "payment_mode": "CHEQUE", "amount": "1000"})
        too_much = desk.post(f"{DESK}consumer/{consumer.pk}/pay/", {**hidden, "payment_mode": "CASH", "amount": "1500"})
        paise = desk.post(f"{DESK}consumer/{consumer.pk}/pay/", {**hidden, "payment_mode": "CASH", "amount": "10.50"})

    html = cheque.content.decode()
    assert re.search(
        r'id="errors-instrument_number"><li>Instrument Number is mandatory for CHEQUE<span class="bo-error-code">'
        r"INVALID_INST_NUMBER</span>",
        html,
    )
    assert re.search(r'id="errors-instrument_date"><li>Instrument Date Input is mandatory for CHEQUE', html)
    assert re.search(
        r'id="errors-amount"><li>The amount to be paid is more than amount due<span class="bo-error-code">'
        r"INVALID_PAYMENTDETAIL</span>",
        too_much.content.decode(),
    )
    assert "The amount paid cannot be fractional" in paise.content.decode()
    assert Payment.objects.count() == 0


def test_modes_the_service_refuses_are_not_offered(desk: Client, consumer: ConsumerAccount) -> None:
    with clock.frozen(AT):
        desk.post(f"{DESK}consumer/{consumer.pk}/fetch-bill/")
        form = desk.get(f"{DESK}consumer/{consumer.pk}/pay/").context["form"]
    assert [code for code, _ in form.fields["payment_mode"].choices] == ["CASH", "CHEQUE", "CARD"]


def test_the_consumer_page_shows_demands_by_tax_head_and_links_back(desk: Client, consumer: ConsumerAccount) -> None:
    page = desk.get(f"{DESK}consumer/{consumer.pk}/")
    html = page.content.decode()
    assert page.context["page"].total_due == Decimal("1000.00")
    assert 'propertytax <span class="bo-muted">PT_TAX</span>' in html
    assert f"/admin/demands/demand/{consumer.demands.get().pk}/change/" in html
    assert "none — fetch the bill" in html


def test_pay_without_a_current_bill_sends_back_to_fetch(desk: Client, consumer: ConsumerAccount) -> None:
    response = desk.get(f"{DESK}consumer/{consumer.pk}/pay/")
    assert response["Location"] == f"{DESK}consumer/{consumer.pk}/"


def test_an_approver_has_no_counter(consumer: ConsumerAccount, user_factory: Callable[..., Any]) -> None:
    user_factory("appr", {"pb.amritsar": [Role.AMENDMENT_APPROVER]})
    client = Client()
    assert client.login(username="appr", password="pw-appr")
    page = client.get(f"{DESK}consumer/{consumer.pk}/")
    assert page.status_code == 200
    assert 'id="payments"' not in page.content.decode()  # payments are for the payment roles, as on the APIs
    assert client.get(f"{DESK}consumer/{consumer.pk}/pay/").status_code == 403
    assert client.post(f"{DESK}consumer/{consumer.pk}/fetch-bill/").status_code == 403
