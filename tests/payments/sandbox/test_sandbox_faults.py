"""Fault injection of the sandbox over real HTTP: 5xx before and after the work, slow answers, timeouts,
determinism under a seed, the configuration endpoint and reset. No test sleeps: slowness is a small
``slow_seconds`` against a client timeout smaller still."""

from __future__ import annotations

import httpx
import pytest

from payments.sandbox.faults import decide
from tests.sandbox_gateway import CallbackReceiver, RunningSandbox

from .conftest import new_transaction

CALLBACK = "http://127.0.0.1:9/callback"
BODY = {"merchant_reference": "R-1", "amount": "10.00", "currency": "INR", "callback_url": CALLBACK}


def test_error_rate_answers_503_without_doing_the_work(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    sandbox_gateway.faults(error_rate=1)
    response = merchant.post("/v1/transactions", json=BODY, headers={"Idempotency-Key": "k-1"})

    assert response.status_code == 503
    assert response.json() == {"error": {"code": "unavailable", "message": "injected: service unavailable"}}
    assert sandbox_gateway.state()["transactions"] == []
    assert merchant.get("/v1/transactions", params={"merchant_reference": "R-1"}).status_code == 503

    sandbox_gateway.faults(error_rate=0)
    retried = merchant.post("/v1/transactions", json=BODY, headers={"Idempotency-Key": "k-1"})
    assert retried.status_code == 201
    assert len(sandbox_gateway.state()["transactions"]) == 1


def test_error_after_rate_answers_502_but_keeps_the_work(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client
) -> None:
    sandbox_gateway.faults(error_after_rate=1)
    response = merchant.post("/v1/transactions", json=BODY, headers={"Idempotency-Key": "k-1"})

    assert response.status_code == 502
    assert response.json() == {"error": {"code": "bad_gateway", "message": "injected: answer lost after the work"}}
    [kept] = sandbox_gateway.state()["transactions"]

    sandbox_gateway.faults(error_after_rate=0)
    assert merchant.get("/v1/transactions", params={"merchant_reference": "R-1"}).json() == {"items": [kept]}
    retried = merchant.post("/v1/transactions", json=BODY, headers={"Idempotency-Key": "k-1"})
    assert (retried.status_code, retried.json()) == (201, kept)  # the same transaction, found again
    assert len(sandbox_gateway.state()["transactions"]) == 1


def test_faults_strike_only_the_merchant_api(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    txn = new_transaction(merchant, callback_url=CALLBACK)
    sandbox_gateway.faults(error_rate=1, callback_mode="manual")
    assert sandbox_gateway.http.get(f"/checkout/{txn['id']}").status_code == 200
    assert sandbox_gateway.approve(txn["id"]).status_code == 303
    assert sandbox_gateway.state()["transactions"][0]["status"] == "SUCCESS"
    assert merchant.get(f"/v1/transactions/{txn['id']}").status_code == 503


def test_a_slow_answer_times_out_a_client_with_a_shorter_timeout(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client
) -> None:
    sandbox_gateway.faults(slow_rate=1, slow_seconds=0.3)
    with sandbox_gateway.merchant_client(timeout=0.05) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.post("/v1/transactions", json=BODY, headers={"Idempotency-Key": "k-1"})
    # the work was done: a retry with the same key (no more slowness) answers the same transaction
    sandbox_gateway.faults(slow_rate=0)
    [kept] = sandbox_gateway.state()["transactions"]
    assert merchant.post("/v1/transactions", json=BODY, headers={"Idempotency-Key": "k-1"}).json() == kept


def test_a_slow_answer_within_the_client_timeout_arrives(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client
) -> None:
    sandbox_gateway.faults(slow_rate=1, slow_seconds=0.05)
    response = merchant.post("/v1/transactions", json=BODY)
    assert response.status_code == 201


def test_a_timeout_never_answers(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    sandbox_gateway.faults(timeout_rate=1, slow_seconds=0.3)
    with sandbox_gateway.merchant_client(timeout=0.05) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get("/v1/transactions", params={"merchant_reference": "R-1"})


def test_a_timeout_closes_the_connection_without_an_answer(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client
) -> None:
    sandbox_gateway.faults(timeout_rate=1, slow_seconds=0.02)
    with pytest.raises(httpx.RemoteProtocolError):
        merchant.post("/v1/transactions", json=BODY)
    assert len(sandbox_gateway.state()["transactions"]) == 1  # the work is done, the answer never comes


def _pattern(merchant: httpx.Client, count: int, prefix: str = "R") -> list[int]:
    return [
        merchant.post(
            "/v1/transactions",
            json=BODY | {"merchant_reference": f"{prefix}-{i}"},
            headers={"Idempotency-Key": f"{prefix}-k-{i}"},
        ).status_code
        for i in range(count)
    ]


def test_the_same_seed_gives_the_same_faults_every_run(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    sandbox_gateway.faults(error_rate=0.3, error_after_rate=0.3, seed=7)
    first = _pattern(merchant, 30)
    sandbox_gateway.reset()
    sandbox_gateway.faults(error_rate=0.3, error_after_rate=0.3, seed=7)
    second = _pattern(merchant, 30, prefix="other-references")  # the faults do not depend on ids or references
    sandbox_gateway.reset()
    sandbox_gateway.faults(error_rate=0.3, error_after_rate=0.3, seed=8)
    other_seed = _pattern(merchant, 30)

    expected = []
    for n in range(1, 31):  # the n-th create call since the seed was set
        if decide(rate=0.3, seed=7, fault="error", subject="POST create", occurrence=n):
            expected.append(503)
        elif decide(rate=0.3, seed=7, fault="error_after", subject="POST create", occurrence=n):
            expected.append(502)
        else:
            expected.append(201)
    assert first == second == expected
    assert other_seed != first
    assert 0 < first.count(503) < 30
    assert 0 < first.count(502) < 30
    # a 503 did no work, a 502 kept it
    assert len(sandbox_gateway.state()["transactions"]) == 30 - other_seed.count(503)


def test_a_retry_of_the_same_call_gets_a_fresh_draw(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    sandbox_gateway.faults(error_rate=0.5, seed=3)
    statuses = [
        merchant.post("/v1/transactions", json=BODY, headers={"Idempotency-Key": "k"}).status_code for _ in range(20)
    ]
    expected = [
        503 if decide(rate=0.5, seed=3, fault="error", subject="POST create", occurrence=n) else 201
        for n in range(1, 21)
    ]
    assert statuses == expected
    assert set(statuses) == {201, 503}


def test_dropped_callbacks_follow_the_seed(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    receiver = CallbackReceiver()
    try:
        sandbox_gateway.faults(callback_mode="manual", drop_callback_rate=0.4, seed=11)
        for i in range(20):
            sandbox_gateway.approve(new_transaction(merchant, f"R-{i}", callback_url=receiver.url)["id"])
        counts = sandbox_gateway.deliver_callbacks()

        dropped = [
            f"R-{i}" for i in range(20) if decide(rate=0.4, seed=11, fault="drop", subject="callback", occurrence=i + 1)
        ]
        assert counts == {"delivered": 20 - len(dropped), "failed": 0, "dropped": len(dropped)}
        assert 0 < len(dropped) < 20
        assert sorted(e["merchant_reference"] for e in receiver.events()) == sorted(
            f"R-{i}" for i in range(20) if f"R-{i}" not in dropped
        )
    finally:
        receiver.close()


def test_the_fault_configuration_endpoint(sandbox_gateway: RunningSandbox) -> None:
    defaults = {
        "error_rate": 0.0,
        "error_after_rate": 0.0,
        "slow_rate": 0.0,
        "slow_seconds": 0.0,
        "timeout_rate": 0.0,
        "duplicate_callbacks": False,
        "reorder_callbacks": False,
        "drop_callback_rate": 0.0,
        "callback_mode": "immediate",
        "seed": 0,
    }
    assert sandbox_gateway.http.get("/_sandbox/faults").json() == defaults
    assert sandbox_gateway.faults(error_rate=0.3, seed=5) == defaults | {"error_rate": 0.3, "seed": 5}
    # omitted keys keep their value
    assert sandbox_gateway.faults(duplicate_callbacks=True) == defaults | {
        "error_rate": 0.3,
        "seed": 5,
        "duplicate_callbacks": True,
    }
    sandbox_gateway.reset()
    assert sandbox_gateway.state()["faults"] == defaults


@pytest.mark.parametrize(
    "config",
    [
        {"error_rate": 1.5},
        {"error_rate": -0.1},
        {"error_rate": "0.3"},
        {"error_rate": True},
        {"slow_seconds": 601},
        {"duplicate_callbacks": "yes"},
        {"callback_mode": "later"},
        {"seed": 1.5},
        {"colour": "red"},
    ],
)
def test_a_bad_fault_configuration_is_refused_and_changes_nothing(
    sandbox_gateway: RunningSandbox, config: dict[str, object]
) -> None:
    before = sandbox_gateway.state()["faults"]
    response = sandbox_gateway.http.post("/_sandbox/faults", json={"seed": 9} | config)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_faults"
    assert sandbox_gateway.state()["faults"] == before


def test_reset_forgets_everything(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    sandbox_gateway.faults(callback_mode="manual", duplicate_callbacks=True)
    txn = new_transaction(merchant, callback_url=CALLBACK)
    sandbox_gateway.approve(txn["id"])
    merchant.post("/v1/tokens", json={"card_number": "4242424242424242", "expiry_month": 1, "expiry_year": 2030})

    sandbox_gateway.reset()

    state = sandbox_gateway.state()
    assert (state["transactions"], state["tokens"], state["refunds"], state["queued_callbacks"]) == ([], [], [], [])
    assert state["deliveries"] == []
    assert state["faults"]["callback_mode"] == "immediate"
    assert state["faults"]["duplicate_callbacks"] is False
    assert merchant.get(f"/v1/transactions/{txn['id']}").status_code == 404
