"""The payer's whole journey over HTTP only: our REST API starts the payment, the sandbox's checkout page takes
the payer's approval and sends them back to our return page, which shows the receipt; the late callback then
changes nothing; staff read the transaction with its call history through the REST API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from rest_framework.authtoken.models import Token

from bills.models import Bill
from masters.models import Role
from payments.gateway.models import CallbackOutcome, GatewayCallback, GatewayTransaction
from payments.models import Payment
from tests.sandbox_gateway import RunningSandbox

from .conftest import CITY, PAY_AT, D, at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def token_for(user_factory: Callable[..., Any], username: str, role: str) -> dict[str, str]:
    token, _ = Token.objects.get_or_create(user=user_factory(username, {CITY: [role]}))
    return {"Authorization": f"Token {token.key}"}


def test_pay_online_through_the_rest_api_the_checkout_page_and_the_return_page(
    sandbox: RunningSandbox,
    live_server: Any,
    seed: Any,
    user_factory: Callable[..., Any],
    make_pt_bill: Callable[[], Bill],
) -> None:
    bill = make_pt_bill()
    citizen = token_for(user_factory, "citizen-asr", Role.CITIZEN)
    return_url = f"{live_server.url}/pay/return/"

    with at(PAY_AT):
        started = httpx.post(
            f"{live_server.url}/api/v1/online-payments/",
            json={"bill_id": str(bill.pk), "amount": "1100.00", "return_url": return_url},
            headers=citizen,
        )
    assert started.status_code == 201, started.text
    body = started.json()
    reference, gateway_id = body["merchant_reference"], body["gateway_transaction_id"]
    assert (body["status"], body["amount"], body["payment"]) == ("PENDING", "1100.00", None)
    assert body["redirect_url"] == f"{sandbox.url}/checkout/{gateway_id}"

    # The payer's browser: the checkout page, then Pay, then back to our return page.
    with at(PAY_AT + dt.timedelta(minutes=1)):
        page = httpx.get(body["redirect_url"])
        assert "Amount: <strong>INR 1100.00</strong>" in page.text
        paid = httpx.post(f"{sandbox.url}/checkout/{gateway_id}/approve")
        assert paid.status_code == 303
        assert paid.headers["location"] == f"{return_url}?merchant_reference={reference}&status=SUCCESS"
        back = httpx.get(paid.headers["location"])
    # The callback is still queued: the return page asked the gateway itself, and the payment is recorded.
    assert back.status_code == 200
    assert 'data-status="SUCCESS"' in back.text
    assert "Your payment was received. Thank you." in back.text
    assert "PT/AMRITSAR/2024-25/000001" in back.text
    payment = Payment.objects.get()
    assert (payment.total_amount_paid, payment.transaction_number) == (D("1100.00"), gateway_id)

    with at(PAY_AT + dt.timedelta(minutes=2)):
        assert sandbox.deliver_callbacks() == {"delivered": 1, "failed": 0, "dropped": 0}
    assert list(GatewayCallback.objects.values_list("outcome", flat=True)) == [CallbackOutcome.DUPLICATE]
    assert Payment.objects.count() == 1

    # Staff read it, with its history; the payer (a citizen) may not.
    txn = GatewayTransaction.objects.get()
    cashier = token_for(user_factory, "cashier-asr", Role.CASHIER)
    read = httpx.get(f"{live_server.url}/api/v1/gateway-transactions/{txn.pk}/", headers=cashier)
    assert read.status_code == 200
    detail = read.json()
    assert (detail["status"], detail["payment"], detail["verdict_source"]) == ("SUCCESS", str(payment.pk), "POLL")
    assert [(a["kind"], a["outcome"], a["http_status"]) for a in detail["attempts"]] == [
        ("INITIATE", "OK", 201),
        ("STATUS", "OK", 200),
    ]
    assert httpx.get(f"{live_server.url}/api/v1/gateway-transactions/{txn.pk}/", headers=citizen).status_code == 404
