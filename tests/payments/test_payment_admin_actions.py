"""Payments admin: the cancel / dishonour actions (reason form, one service call per payment) and the daily
collection summary (totals by mode and business service of one billing day)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages

from billing_project import clock
from masters.access import Caller
from payments.models import Payment, PaymentStatus
from payments.services import payment_cancel
from tests.payments.conftest import (
    CANCEL_AT,
    PTAN2018_FROM,
    PTAN2018_TO,
    line,
    make_bill,
    next_consumer,
    pay,
    pt_demand,
    wc_demand,
)

CHANGELIST = "/admin/payments/payment/"
SUMMARY = "/admin/payments/payment/summary/"


@pytest.fixture
def root(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw")


def pt_payment(employee: Caller, cashier: Caller, amount: str, **kwargs: Any) -> Payment:
    bill = make_bill(
        employee,
        pt_demand(next_consumer(), period=(PTAN2018_FROM, PTAN2018_TO), details=(line("PT_TAX", "1000"),)),
    )
    return pay(cashier, bill, amount, **kwargs)


def post_action(client: Any, action: str, payments: list[Payment], **data: Any) -> Any:
    with clock.frozen(CANCEL_AT):
        return client.post(
            CHANGELIST, {"action": action, "_selected_action": [str(p.pk) for p in payments], **data}, follow=True
        )


def texts(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def receipt(payment: Payment) -> str:
    return payment.details.get().receipt_number


def test_cancel_action_asks_for_a_reason_then_cancels_once(client, root, employee, cashier):
    payment = pt_payment(employee, cashier, "400", mode="CHEQUE")
    client.force_login(root)

    form = post_action(client, "cancel_payments", [payment])
    missing_reason = post_action(client, "cancel_payments", [payment], apply="yes", reason="")

    assert form.status_code == 200
    assert form.templates[0].name == "admin/payments/reverse_payments.html"
    assert receipt(payment) in form.content.decode()
    assert missing_reason.templates[0].name == "admin/payments/reverse_payments.html"
    assert "reason" in missing_reason.context["form"].errors
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.NEW

    done = post_action(client, "cancel_payments", [payment], apply="yes", reason="Wrong consumer")

    payment.refresh_from_db()
    assert done.status_code == 200
    assert texts(done) == [("success", "Cancelled 1 payment(s).")]
    assert (payment.status, payment.cancel_reason, payment.cancelled_by) == (
        PaymentStatus.CANCELLED,
        "Wrong consumer",
        "root",
    )
    assert payment.cancelled_at == CANCEL_AT
    before = Payment.objects.filter(pk=payment.pk).values().get()

    again = post_action(client, "cancel_payments", [payment], apply="yes", reason="Twice")

    [(level, message)] = texts(again)
    assert level == "error"
    assert message.startswith(f"{receipt(payment)}: PAYMENT_ALREADY_REVERSED: ")
    assert Payment.objects.filter(pk=payment.pk).values().get() == before


def test_dishonour_action_reports_that_cash_cannot_be_dishonoured(client, root, employee, cashier):
    cash = pt_payment(employee, cashier, "400", mode="CASH")
    cheque = pt_payment(employee, cashier, "300", mode="CHEQUE")
    client.force_login(root)

    form = post_action(client, "dishonour_payments", [cash, cheque])
    done = post_action(client, "dishonour_payments", [cash, cheque], apply="yes", reason="Bounced")

    assert form.status_code == 200
    assert 'value="dishonour_payments"' in form.content.decode()
    messages = texts(done)
    assert ("success", "Dishonoured 1 payment(s).") in messages
    [error] = [message for level, message in messages if level == "error"]
    assert error.startswith(f"{receipt(cash)}: PAYMENT_NOT_DISHONOURABLE: A CASH payment cannot be dishonoured")
    assert Payment.objects.get(pk=cash.pk).status == PaymentStatus.NEW
    assert Payment.objects.get(pk=cheque.pk).status == PaymentStatus.DISHONOURED


def summary(client: Any, **params: Any) -> Any:
    with clock.frozen(CANCEL_AT):
        return client.get(SUMMARY, params)


def test_daily_summary_totals_the_days_live_payments(client, root, employee, cashier, wc_masters):
    pt = pt_payment(employee, cashier, "250", mode="CHEQUE")
    wc_bill = make_bill(employee, wc_demand(next_consumer("WS"), details=(line("WS_CHARGE", "400"),)))
    pay(cashier, wc_bill, "400", mode="CASH")
    cancelled = pt_payment(employee, cashier, "999", mode="CASH")
    payment_cancel(caller=cashier, payment_id=cancelled.pk, reason="Wrong", at=CANCEL_AT)
    client.force_login(root)

    page = summary(client, day="2024-05-01")
    default_day = summary(client)
    by_cashier = summary(client, day="2024-05-01", cashier="cashier-asr")
    other_cashier = summary(client, day="2024-05-01", cashier="nobody")
    other_day = summary(client, day="2024-05-02")

    assert page.status_code == 200
    assert page.templates[0].name == "admin/payments/summary.html"
    assert [(r["payment_mode"], r["count"], r["total"]) for r in page.context["by_mode"]] == [
        ("CASH", 1, Decimal("400")),
        ("CHEQUE", 1, Decimal("250")),
    ]
    assert [(r["business_service"], r["count"], r["total"]) for r in page.context["by_service"]] == [
        ("PT", 1, Decimal("250")),
        ("WC", 1, Decimal("400")),
    ]
    assert (page.context["count"], page.context["grand_total"]) == (2, Decimal("650"))
    assert isinstance(page.context["grand_total"], Decimal)
    assert "650" in page.content.decode()
    assert page.context["cashiers"] == ["cashier-asr"]
    assert pt.status == PaymentStatus.NEW

    assert default_day.context["day"].isoformat() == "2024-05-01"
    assert default_day.context["grand_total"] == Decimal("650")
    assert by_cashier.context["grand_total"] == Decimal("650")
    assert (other_cashier.context["count"], other_cashier.context["grand_total"]) == (0, Decimal("0"))

    assert other_day.status_code == 200
    assert other_day.context["by_mode"] == []
    assert other_day.context["by_service"] == []
    assert (other_day.context["count"], other_day.context["grand_total"]) == (0, Decimal("0"))


def test_changelist_links_the_summary_and_staff_without_access_see_nothing(client, root, seed, user_factory):
    client.force_login(root)
    with clock.frozen(CANCEL_AT):
        listing = client.get(CHANGELIST)
    assert SUMMARY in listing.content.decode()

    clerk = user_factory("clerk-jal", {"pb.jalandhar": []})
    clerk.is_staff = True
    clerk.save(update_fields=["is_staff"])
    client.force_login(clerk)
    assert summary(client).status_code == 403


def test_cancel_button_on_the_payment_page_asks_for_a_reason(client, root, employee, cashier):
    from django.contrib.admin.models import LogEntry

    payment = pt_payment(employee, cashier, "400", mode="CHEQUE")
    client.force_login(root)
    page = client.get(f"{CHANGELIST}{payment.pk}/change/").content.decode()
    assert f'href="{CHANGELIST}{payment.pk}/reverse/cancel/" id="cancel-payment"' in page
    assert f'href="{CHANGELIST}{payment.pk}/reverse/dishonour/" id="dishonour-payment"' in page
    assert f'href="/payments/{payment.pk}/receipt/" id="print-receipt"' in page
    with clock.frozen(CANCEL_AT):
        missing = client.post(f"{CHANGELIST}{payment.pk}/reverse/cancel/", {"reason": ""})
        done = client.post(f"{CHANGELIST}{payment.pk}/reverse/cancel/", {"reason": "Wrong consumer"})
        again = client.post(f"{CHANGELIST}{payment.pk}/reverse/cancel/", {"reason": "twice"})
    assert "reason" in missing.context["form"].errors
    assert done["Location"] == f"{CHANGELIST}{payment.pk}/change/"
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.CANCELLED
    assert "PAYMENT_ALREADY_REVERSED" in again.content.decode()
    assert list(LogEntry.objects.values_list("change_message", flat=True)) == ["Cancelled — reason: Wrong consumer"]


def test_payments_are_found_by_consumer_code_payer_bill_number_and_instrument(client, root, employee, cashier):
    payment = pt_payment(employee, cashier, "400", mode="CHEQUE", instrument_number="774411", payer_name="Kiran Rao")
    other = pt_payment(employee, cashier, "300")
    client.force_login(root)
    bill = payment.details.get().bill
    for query in (bill.consumer_code, bill.bill_number, "Kiran", "774411"):
        listing = client.get(CHANGELIST, {"q": query})
        assert [p.pk for p in listing.context["cl"].result_list] == [payment.pk], query
    by_mode = client.get(CHANGELIST, {"payment_mode__exact": "CASH"})
    assert [p.pk for p in by_mode.context["cl"].result_list] == [other.pk]
    by_service = client.get(CHANGELIST, {"service": "PT"})
    assert {p.pk for p in by_service.context["cl"].result_list} == {payment.pk, other.pk}


def test_the_admin_shows_times_in_the_billing_time_zone(client, root, employee, cashier):
    """A payment taken at 11:00 UTC is listed at 16:30, Asia/Kolkata; the REST face keeps UTC."""
    payment = pt_payment(employee, cashier, "400")
    client.force_login(root)
    listing = client.get(CHANGELIST).content.decode()
    assert "May 1, 2024, 4:30 p.m." in listing
    assert "11:00 a.m." not in listing
    api = client.get(f"/api/v1/payments/{payment.pk}/").json()
    assert api["created_at"] == "2024-05-01T11:00:00Z"
