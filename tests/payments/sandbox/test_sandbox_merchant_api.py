"""The sandbox's merchant API over real HTTP: transactions, lookup, auth, validation, idempotency, refunds,
tokens and token charges (docs/payment-gateway-sandbox.md)."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from tests.sandbox_gateway import RunningSandbox

from .conftest import new_transaction

CALLBACK = "http://127.0.0.1:9/callback"  # nothing listens; these tests do not deliver callbacks


def test_create_answers_the_transaction_with_its_checkout_url(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client
) -> None:
    txn = new_transaction(merchant, callback_url=CALLBACK)

    assert re.fullmatch(r"txn_[0-9a-f]{20}", txn["id"])
    created = dt.datetime.fromisoformat(txn["created_at"])
    assert created.utcoffset() == dt.timedelta(0)
    assert txn == {
        "id": txn["id"],
        "merchant_reference": "R-1",
        "amount": "1250.00",
        "currency": "INR",
        "status": "CREATED",
        "failure_code": None,
        "checkout_url": f"{sandbox_gateway.url}/checkout/{txn['id']}",
        "created_at": txn["created_at"],
        "updated_at": txn["created_at"],
    }
    status = merchant.get(f"/v1/transactions/{txn['id']}")
    assert (status.status_code, status.json()) == (200, txn)


def test_amounts_are_answered_with_two_places(merchant: httpx.Client) -> None:
    assert new_transaction(merchant, amount="7", callback_url=CALLBACK)["amount"] == "7.00"
    assert new_transaction(merchant, amount="7.5", callback_url=CALLBACK)["amount"] == "7.50"


def test_status_of_an_unknown_transaction_is_404(merchant: httpx.Client) -> None:
    response = merchant.get("/v1/transactions/txn_0000")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "no transaction txn_0000"}}


def test_find_by_merchant_reference(merchant: httpx.Client) -> None:
    first = new_transaction(merchant, "R-A", callback_url=CALLBACK)
    new_transaction(merchant, "R-B", callback_url=CALLBACK)
    second = new_transaction(merchant, "R-A", callback_url=CALLBACK, amount="10.00")

    found = merchant.get("/v1/transactions", params={"merchant_reference": "R-A"})
    assert (found.status_code, found.json()) == (200, {"items": [first, second]})
    none = merchant.get("/v1/transactions", params={"merchant_reference": "R-none"})
    assert none.json() == {"items": []}
    missing = merchant.get("/v1/transactions")
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/transactions"),
        ("GET", "/v1/transactions/txn_00"),
        ("GET", "/v1/transactions?merchant_reference=R"),
        ("POST", "/v1/transactions/txn_00/refunds"),
        ("POST", "/v1/charges"),
        ("POST", "/v1/tokens"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key", "test-sandbox-merchant-key"])
def test_merchant_calls_need_the_merchant_key(
    sandbox_gateway: RunningSandbox, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = sandbox_gateway.http.request(method, path, json={}, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "unauthorized", "message": "missing or wrong merchant key"}}
    assert sandbox_gateway.state()["transactions"] == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amount": 12.5}, "invalid_amount"),
        ({"amount": "12.345"}, "invalid_amount"),
        ({"amount": "-1.00"}, "invalid_amount"),
        ({"amount": "0.00"}, "invalid_amount"),
        ({"amount": "1e3"}, "invalid_amount"),
        ({"amount": None}, "invalid_amount"),
        ({"currency": "USD"}, "unsupported_currency"),
        ({"merchant_reference": ""}, "invalid_request"),
        ({"callback_url": None}, "invalid_request"),
        ({"customer": "Owner"}, "invalid_request"),
    ],
)
def test_bad_transaction_requests_are_refused_and_create_nothing(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client, change: dict[str, object], code: str
) -> None:
    body = {"merchant_reference": "R-1", "amount": "10.00", "currency": "INR", "callback_url": CALLBACK} | change
    response = merchant.post("/v1/transactions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert sandbox_gateway.state()["transactions"] == []


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_400(merchant: httpx.Client, raw: bytes) -> None:
    response = merchant.post("/v1/transactions", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_unknown_paths_and_methods(sandbox_gateway: RunningSandbox) -> None:
    assert sandbox_gateway.http.get("/nowhere").status_code == 404
    assert sandbox_gateway.http.post("/_sandbox/state").status_code == 405


def test_a_repeated_idempotency_key_answers_the_first_transaction(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client
) -> None:
    body = {"merchant_reference": "R-1", "amount": "10.00", "currency": "INR", "callback_url": CALLBACK}
    first = merchant.post("/v1/transactions", json=body, headers={"Idempotency-Key": "gtx-1"})
    again = merchant.post("/v1/transactions", json=body, headers={"Idempotency-Key": "gtx-1"})
    reordered = merchant.post(
        "/v1/transactions", json=dict(reversed(body.items())), headers={"Idempotency-Key": "gtx-1"}
    )

    assert first.status_code == again.status_code == reordered.status_code == 201
    assert first.json() == again.json() == reordered.json()
    assert [txn["id"] for txn in sandbox_gateway.state()["transactions"]] == [first.json()["id"]]

    other = merchant.post("/v1/transactions", json=body | {"amount": "11.00"}, headers={"Idempotency-Key": "gtx-1"})
    assert other.status_code == 422
    assert other.json() == {
        "error": {"code": "idempotency_key_reused", "message": "this Idempotency-Key was used with another body"}
    }
    assert len(sandbox_gateway.state()["transactions"]) == 1

    without_key = merchant.post("/v1/transactions", json=body)
    assert without_key.json()["id"] != first.json()["id"]


def test_refunds(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    txn = new_transaction(merchant, callback_url=CALLBACK)
    not_yet = merchant.post(f"/v1/transactions/{txn['id']}/refunds", json={"amount": "1.00", "reason": "x"})
    assert not_yet.status_code == 409
    assert not_yet.json() == {"error": {"code": "not_refundable", "message": "transaction is CREATED, not SUCCESS"}}
    sandbox_gateway.approve(txn["id"])

    path = f"/v1/transactions/{txn['id']}/refunds"
    first = merchant.post(
        path, json={"amount": "1000.00", "reason": "double payment"}, headers={"Idempotency-Key": "r1"}
    )
    assert first.status_code == 201
    assert re.fullmatch(r"rf_[0-9a-f]{20}", first.json()["id"])
    assert first.json() == {
        "id": first.json()["id"],
        "transaction_id": txn["id"],
        "amount": "1000.00",
        "status": "SUCCESS",
    }
    replay = merchant.post(
        path, json={"amount": "1000.00", "reason": "double payment"}, headers={"Idempotency-Key": "r1"}
    )
    assert replay.json() == first.json()

    too_much = merchant.post(path, json={"amount": "250.01", "reason": "x"})
    assert too_much.status_code == 409
    assert too_much.json() == {"error": {"code": "refund_exceeds_amount", "message": "refunds would exceed 1250.00"}}
    rest = merchant.post(path, json={"amount": "250.00", "reason": "rest"})
    assert rest.status_code == 201
    assert merchant.post(path, json={"amount": "0.01"}).status_code == 409
    assert merchant.post(path, json={"amount": "0"}).status_code == 400
    assert merchant.post("/v1/transactions/txn_00/refunds", json={"amount": "1.00"}).status_code == 404

    refunds = sandbox_gateway.state()["refunds"]
    assert [(r["amount"], r["reason"]) for r in refunds] == [("1000.00", "double payment"), ("250.00", "rest")]
    # a refund does not change the transaction's status
    assert merchant.get(f"/v1/transactions/{txn['id']}").json()["status"] == "SUCCESS"


CARDS = {
    "approve": "4242424242424242",
    "hard": "4000000000000002",
    "soft": "4000000000009995",
    "processing": "4000000000000119",
}


def tokenize(merchant: httpx.Client, number: str) -> dict[str, object]:
    response = merchant.post(
        "/v1/tokens",
        json={
            "card_number": number,
            "expiry_month": 12,
            "expiry_year": 2030,
            "holder_name": "Owner",
            "customer_reference": "PAYER-1",
        },
    )
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


def charge(merchant: httpx.Client, token: object, reference: str, **headers: str) -> httpx.Response:
    body = {"merchant_reference": reference, "amount": "99.00", "currency": "INR", "token": token, "callback_url": ""}
    return merchant.post("/v1/charges", json=body, headers=headers)


def test_tokens_carry_a_masked_label_never_the_number(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    token = tokenize(merchant, CARDS["approve"])
    assert re.fullmatch(r"tok_[0-9a-f]{20}", str(token["token"]))
    assert token == {
        "token": token["token"],
        "label": "VISA •••• 4242",
        "brand": "VISA",
        "last4": "4242",
        "expiry_month": 12,
        "expiry_year": 2030,
    }
    assert "4242424242424242" not in str(sandbox_gateway.state())


@pytest.mark.parametrize(
    "change",
    [{"card_number": "4111111111111111"}, {"card_number": 4242424242424242}, {"expiry_month": 13}, {"expiry_year": 30}],
)
def test_bad_cards_are_refused(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client, change: dict[str, object]
) -> None:
    body = {"card_number": CARDS["approve"], "expiry_month": 1, "expiry_year": 2030} | change
    response = merchant.post("/v1/tokens", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == ("invalid_card" if "card_number" in change else "invalid_request")
    assert sandbox_gateway.state()["tokens"] == []


def test_token_charges_follow_the_test_cards(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    outcomes = {}
    for name, number in CARDS.items():
        response = charge(merchant, tokenize(merchant, number)["token"], f"CH-{name}")
        assert response.status_code == 201
        body = response.json()
        assert body["checkout_url"] is None
        outcomes[name] = (body["status"], body["failure_code"], body["amount"])
    assert outcomes == {
        "approve": ("SUCCESS", None, "99.00"),
        "hard": ("FAILURE", "card_declined", "99.00"),
        "soft": ("FAILURE", "insufficient_funds", "99.00"),
        "processing": ("FAILURE", "processing_error", "99.00"),
    }


def test_a_soft_declining_token_approves_once_funded(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    token = str(tokenize(merchant, CARDS["soft"])["token"])
    assert charge(merchant, token, "CH-1").json()["failure_code"] == "insufficient_funds"
    assert sandbox_gateway.fund(token)["funded"] is True
    assert charge(merchant, token, "CH-2").json()["status"] == "SUCCESS"
    assert sandbox_gateway.http.post("/_sandbox/tokens/tok_00/fund").status_code == 404


def test_charges_are_idempotent_and_refuse_unknown_tokens(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client
) -> None:
    token = tokenize(merchant, CARDS["approve"])["token"]
    first = charge(merchant, token, "CH-1", **{"Idempotency-Key": "c-1"})
    again = charge(merchant, token, "CH-1", **{"Idempotency-Key": "c-1"})
    assert first.json() == again.json()
    assert len(sandbox_gateway.state()["transactions"]) == 1

    unknown = charge(merchant, "tok_00", "CH-2")
    assert unknown.status_code == 400
    assert unknown.json() == {"error": {"code": "invalid_token", "message": "no token tok_00"}}
    assert len(sandbox_gateway.state()["transactions"]) == 1


def test_concurrent_repeats_of_one_idempotency_key_create_one_transaction(
    sandbox_gateway: RunningSandbox,
) -> None:
    """Twelve clients send the same create with the same key at once: one transaction, one answer for all."""
    import threading

    body = {"merchant_reference": "R-1", "amount": "10.00", "currency": "INR", "callback_url": CALLBACK}
    barrier = threading.Barrier(12)
    answers: list[tuple[int, str]] = []

    def send() -> None:
        with sandbox_gateway.merchant_client() as client:
            barrier.wait(timeout=10)
            response = client.post("/v1/transactions", json=body, headers={"Idempotency-Key": "same"})
            answers.append((response.status_code, response.json()["id"]))

    threads = [threading.Thread(target=send) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    [only] = sandbox_gateway.state()["transactions"]
    assert answers == [(201, only["id"])] * 12


def test_a_body_over_the_limit_is_refused(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    response = merchant.post("/v1/transactions", content=b"{" + b" " * 70_000 + b"}")
    assert response.status_code == 413
    assert response.json() == {"error": {"code": "too_large", "message": "bodies are limited to 65536 bytes"}}
    assert sandbox_gateway.state()["transactions"] == []
