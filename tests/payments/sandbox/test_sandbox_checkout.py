"""The payer's side of the sandbox: the checkout page and the approve / decline / pending form posts."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox_gateway import RunningSandbox

from .conftest import new_transaction

CALLBACK = "http://127.0.0.1:9/callback"


def test_the_checkout_page_shows_merchant_amount_and_both_buttons(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client
) -> None:
    txn = new_transaction(merchant, "R-<b>1</b>", callback_url=CALLBACK)
    page = sandbox_gateway.http.get(f"/checkout/{txn['id']}")

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "Merchant reference: <strong>R-&lt;b&gt;1&lt;/b&gt;</strong>" in page.text  # escaped
    assert "Amount: <strong>INR 1250.00</strong>" in page.text
    assert f'<form method="post" action="/checkout/{txn["id"]}/approve"><button type="submit">Pay</button>' in page.text
    assert (
        f'<form method="post" action="/checkout/{txn["id"]}/decline"><button type="submit">Decline</button>'
        in page.text
    )
    assert sandbox_gateway.http.get("/checkout/txn_00").status_code == 404


def test_approve_redirects_to_the_return_url_with_reference_and_status(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client
) -> None:
    txn = new_transaction(merchant, callback_url=CALLBACK, return_url="https://billing.example/return?lang=en")
    response = sandbox_gateway.approve(txn["id"])

    assert response.status_code == 303
    assert (
        response.headers["location"] == "https://billing.example/return?lang=en&merchant_reference=R-1&status=SUCCESS"
    )
    after = merchant.get(f"/v1/transactions/{txn['id']}").json()
    assert (after["status"], after["failure_code"]) == ("SUCCESS", None)
    assert after["updated_at"] >= after["created_at"]
    page = sandbox_gateway.http.get(f"/checkout/{txn['id']}")
    assert "This payment is SUCCESS." in page.text
    assert "<form" not in page.text


def test_decline_marks_the_transaction_payer_declined(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    txn = new_transaction(merchant, callback_url=CALLBACK)
    response = sandbox_gateway.decline(txn["id"])

    assert response.headers["location"] == "https://billing.example/pay/return?merchant_reference=R-1&status=FAILURE"
    after = merchant.get(f"/v1/transactions/{txn['id']}").json()
    assert (after["status"], after["failure_code"]) == ("FAILURE", "payer_declined")


def test_pending_then_a_later_decision_settles_it(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    txn = new_transaction(merchant, callback_url=CALLBACK)
    assert sandbox_gateway.pending(txn["id"]).headers["location"].endswith("status=PENDING")
    assert merchant.get(f"/v1/transactions/{txn['id']}").json()["status"] == "PENDING"
    again = sandbox_gateway.http.post(f"/checkout/{txn['id']}/pending")
    assert again.status_code == 409
    sandbox_gateway.approve(txn["id"])
    assert merchant.get(f"/v1/transactions/{txn['id']}").json()["status"] == "SUCCESS"


@pytest.mark.parametrize("action", ["approve", "decline", "pending"])
def test_deciding_a_final_transaction_again_changes_nothing(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client, action: str
) -> None:
    sandbox_gateway.faults(callback_mode="manual")
    txn = new_transaction(merchant, callback_url=CALLBACK)
    sandbox_gateway.decline(txn["id"])
    before = merchant.get(f"/v1/transactions/{txn['id']}").json()

    response = sandbox_gateway.http.post(f"/checkout/{txn['id']}/{action}")

    assert response.status_code == 409
    assert response.json() == {"error": {"code": "already_decided", "message": "transaction is already FAILURE"}}
    assert merchant.get(f"/v1/transactions/{txn['id']}").json() == before
    assert [event["status"] for event in sandbox_gateway.state()["queued_callbacks"]] == ["FAILURE"]  # no new one


def test_without_a_return_url_the_decision_answers_the_transaction(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client
) -> None:
    txn = new_transaction(merchant, callback_url=CALLBACK, return_url="")
    response = sandbox_gateway.approve(txn["id"])
    assert response.status_code == 200
    assert response.json()["transaction"]["status"] == "SUCCESS"


def test_a_token_charge_has_no_checkout(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    token = merchant.post(
        "/v1/tokens", json={"card_number": "4242424242424242", "expiry_month": 1, "expiry_year": 2030}
    )
    body = {"merchant_reference": "CH", "amount": "1.00", "currency": "INR", "token": token.json()["token"]}
    txn = merchant.post("/v1/charges", json=body).json()
    response = sandbox_gateway.http.post(f"/checkout/{txn['id']}/approve")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_a_checkout"
    assert sandbox_gateway.http.post("/checkout/txn_00/approve").status_code == 404
