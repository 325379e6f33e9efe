"""Signed server-to-server callbacks of the sandbox, received by a real local HTTP server of the test:
signature, sequence, immediate and manual delivery, retries, duplicates, reordering, drops."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import httpx

from billing_project import clock
from tests.sandbox_gateway import CallbackReceiver, RunningSandbox

from .conftest import new_transaction


def signature_valid(secret: str, request: dict[str, Any]) -> bool:
    """Verify ``X-Sandbox-Signature: t=...,v1=...`` independently of the sandbox's own code."""
    parts = dict(item.split("=", 1) for item in request["headers"]["X-Sandbox-Signature"].split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    return parts["t"].isdigit() and hmac.compare_digest(parts["v1"], expected)


def without_event_id(event: dict[str, Any]) -> dict[str, Any]:
    assert event["event_id"].startswith("evt_")
    return {key: value for key, value in event.items() if key != "event_id"}


def test_an_approval_is_called_back_at_once_signed(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client, callback_receiver: CallbackReceiver
) -> None:
    txn = new_transaction(merchant, callback_url=callback_receiver.url)
    sandbox_gateway.approve(txn["id"])

    [request] = callback_receiver.wait_for(1)
    updated = merchant.get(f"/v1/transactions/{txn['id']}").json()["updated_at"]
    assert request["path"] == "/callback"
    assert request["headers"]["Content-Type"] == "application/json"
    assert signature_valid(sandbox_gateway.secret, request)
    assert not signature_valid("another-secret", request)
    assert without_event_id(json.loads(request["body"])) == {
        "transaction_id": txn["id"],
        "merchant_reference": "R-1",
        "amount": "1250.00",
        "currency": "INR",
        "status": "SUCCESS",
        "failure_code": None,
        "sequence": 1,
        "occurred_at": updated,
    }
    # a delivery run holds the sender: this call returns once the background run has recorded its outcome
    assert sandbox_gateway.deliver_callbacks() == {"delivered": 0, "failed": 0, "dropped": 0}
    delivery = sandbox_gateway.state()["deliveries"]
    assert [(d["outcome"], d["attempts"], d["http_status"]) for d in delivery] == [("delivered", 1, 200)]


def test_manual_mode_queues_until_delivered_and_sequences_increase(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client, callback_receiver: CallbackReceiver
) -> None:
    sandbox_gateway.faults(callback_mode="manual")
    txn = new_transaction(merchant, callback_url=callback_receiver.url)
    sandbox_gateway.pending(txn["id"])
    sandbox_gateway.decline(txn["id"])

    queued = sandbox_gateway.state()["queued_callbacks"]
    assert [(e["status"], e["sequence"], e["failure_code"]) for e in queued] == [
        ("PENDING", 1, None),
        ("FAILURE", 2, "payer_declined"),
    ]
    assert callback_receiver.requests == []

    assert sandbox_gateway.deliver_callbacks() == {"delivered": 2, "failed": 0, "dropped": 0}

    assert callback_receiver.events() == queued
    assert all(signature_valid(sandbox_gateway.secret, request) for request in callback_receiver.requests)
    assert sandbox_gateway.state()["queued_callbacks"] == []
    assert sandbox_gateway.deliver_callbacks() == {"delivered": 0, "failed": 0, "dropped": 0}


def test_switching_back_to_immediate_sends_the_queue(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client, callback_receiver: CallbackReceiver
) -> None:
    sandbox_gateway.faults(callback_mode="manual")
    sandbox_gateway.approve(new_transaction(merchant, callback_url=callback_receiver.url)["id"])
    sandbox_gateway.faults(callback_mode="immediate")
    callback_receiver.wait_for(1)
    assert [event["status"] for event in callback_receiver.events()] == ["SUCCESS"]
    assert sandbox_gateway.state()["queued_callbacks"] == []


def test_a_failed_callback_is_retried_up_to_three_attempts(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client
) -> None:
    sandbox_gateway.faults(callback_mode="manual")
    flaky, down = CallbackReceiver(answers=[500, 503]), CallbackReceiver(answers=[500, 500, 500, 500])
    try:
        sandbox_gateway.approve(new_transaction(merchant, "R-flaky", callback_url=flaky.url)["id"])
        sandbox_gateway.approve(new_transaction(merchant, "R-down", callback_url=down.url)["id"])

        assert sandbox_gateway.deliver_callbacks() == {"delivered": 1, "failed": 1, "dropped": 0}

        assert len(flaky.requests) == 3
        assert len(down.requests) == 3
        assert len({request["body"] for request in flaky.requests}) == 1  # the same event each time
        deliveries = sandbox_gateway.state()["deliveries"]
        assert [(d["merchant_reference"], d["outcome"], d["attempts"], d["http_status"]) for d in deliveries] == [
            ("R-flaky", "delivered", 3, 200),
            ("R-down", "failed", 3, 500),
        ]
    finally:
        flaky.close()
        down.close()


def test_an_unreachable_receiver_is_a_failed_delivery(sandbox_gateway: RunningSandbox, merchant: httpx.Client) -> None:
    sandbox_gateway.faults(callback_mode="manual")
    receiver = CallbackReceiver()
    url = receiver.url
    receiver.close()  # nothing listens there any more
    sandbox_gateway.approve(new_transaction(merchant, callback_url=url)["id"])

    assert sandbox_gateway.deliver_callbacks() == {"delivered": 0, "failed": 1, "dropped": 0}
    [delivery] = sandbox_gateway.state()["deliveries"]
    assert (delivery["outcome"], delivery["attempts"], delivery["http_status"]) == ("failed", 3, None)
    assert delivery["error"].startswith("ConnectError")


def test_duplicate_callbacks_send_every_event_twice(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client, callback_receiver: CallbackReceiver
) -> None:
    sandbox_gateway.faults(callback_mode="manual", duplicate_callbacks=True)
    txn = new_transaction(merchant, callback_url=callback_receiver.url)
    sandbox_gateway.pending(txn["id"])
    sandbox_gateway.approve(txn["id"])

    assert sandbox_gateway.deliver_callbacks() == {"delivered": 4, "failed": 0, "dropped": 0}
    events = callback_receiver.events()
    assert [(e["status"], e["sequence"]) for e in events] == [
        ("PENDING", 1),
        ("PENDING", 1),
        ("SUCCESS", 2),
        ("SUCCESS", 2),
    ]
    assert events[0] == events[1]
    assert events[2] == events[3]


def test_reordered_callbacks_come_newest_first_then_a_stale_pending(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client, callback_receiver: CallbackReceiver
) -> None:
    sandbox_gateway.faults(callback_mode="manual", reorder_callbacks=True)
    via_pending = new_transaction(merchant, "R-A", callback_url=callback_receiver.url)
    direct = new_transaction(merchant, "R-B", callback_url=callback_receiver.url)
    sandbox_gateway.pending(via_pending["id"])
    sandbox_gateway.approve(via_pending["id"])
    sandbox_gateway.decline(direct["id"])

    assert sandbox_gateway.deliver_callbacks() == {"delivered": 4, "failed": 0, "dropped": 0}
    events = callback_receiver.events()
    assert [(e["merchant_reference"], e["status"], e["sequence"]) for e in events] == [
        ("R-A", "SUCCESS", 2),
        ("R-A", "PENDING", 1),
        ("R-B", "FAILURE", 1),
        ("R-B", "PENDING", 0),  # stale: sent after the final one, with a lower sequence
    ]
    assert events[3]["occurred_at"] == direct["created_at"]
    assert all(signature_valid(sandbox_gateway.secret, request) for request in callback_receiver.requests)


def test_dropped_callbacks_are_never_sent(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client, callback_receiver: CallbackReceiver
) -> None:
    sandbox_gateway.faults(callback_mode="manual", drop_callback_rate=1)
    sandbox_gateway.approve(new_transaction(merchant, callback_url=callback_receiver.url)["id"])

    assert sandbox_gateway.deliver_callbacks() == {"delivered": 0, "failed": 0, "dropped": 1}
    assert callback_receiver.requests == []
    [delivery] = sandbox_gateway.state()["deliveries"]
    assert (delivery["outcome"], delivery["attempts"], delivery["status"]) == ("dropped", 0, "SUCCESS")


def test_a_token_charge_is_called_back_with_its_final_status(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client, callback_receiver: CallbackReceiver
) -> None:
    token = merchant.post(
        "/v1/tokens", json={"card_number": "4000000000000002", "expiry_month": 1, "expiry_year": 2030}
    )
    body = {
        "merchant_reference": "CH-1",
        "amount": "10.00",
        "currency": "INR",
        "token": token.json()["token"],
        "callback_url": callback_receiver.url,
    }
    txn = merchant.post("/v1/charges", json=body).json()

    [request] = callback_receiver.wait_for(1)
    event = json.loads(request["body"])
    assert (event["transaction_id"], event["status"], event["failure_code"], event["sequence"]) == (
        txn["id"],
        "FAILURE",
        "card_declined",
        1,
    )
    assert signature_valid(sandbox_gateway.secret, request)


def test_the_sandbox_reads_our_clock_so_frozen_tests_get_matching_signature_times(
    sandbox_gateway: RunningSandbox, merchant: httpx.Client, callback_receiver: CallbackReceiver
) -> None:
    """The fixture gives the sandbox ``billing_project.clock.now``: under ``clock.frozen`` its transaction
    times and signature timestamps are the frozen time (what our endpoint compares them with)."""
    sandbox_gateway.faults(callback_mode="manual")
    moment = dt.datetime(2024, 5, 1, 11, 0, tzinfo=dt.UTC)
    with clock.frozen(moment):
        txn = new_transaction(merchant, callback_url=callback_receiver.url)
        sandbox_gateway.approve(txn["id"])
        sandbox_gateway.deliver_callbacks()
    [request] = callback_receiver.requests
    assert txn["created_at"] == "2024-05-01T11:00:00+00:00"
    assert json.loads(request["body"])["occurred_at"] == "2024-05-01T11:00:00+00:00"
    assert request["headers"]["X-Sandbox-Signature"].startswith(f"t={int(moment.timestamp())},v1=")
    assert signature_valid(sandbox_gateway.secret, request)
