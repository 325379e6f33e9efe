"""Done when: a tampered callback (body changed, the original's signature) changes nothing and is recorded as
rejected; an unsigned one too.

The sandbox's real, signed callback is intercepted by a local receiver (our callback URL points there), then
the test POSTs it — changed, unsigned, re-signed with another secret, replayed too late, and finally as sent —
to our real callback endpoint on the live server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bills.models import Bill
from masters.access import Caller
from payments.gateway.models import CallbackOutcome, GatewayCallback, GatewayTransaction, TransactionStatus
from payments.gateway.services import gateway_payment_initiate
from payments.models import Payment
from tests.payments.conftest import state
from tests.sandbox_gateway import CallbackReceiver, RunningSandbox

from .conftest import PAY_AT, D, at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CALLBACK_PATH = "/api/v1/gateway/callbacks/sandbox/"
SENT_AT = PAY_AT + dt.timedelta(minutes=1)
CHECKED_AT = PAY_AT + dt.timedelta(minutes=2)
UNICODE_STAMP = "t=\xb2,v1=aa".encode("latin-1")  # "²" passes str.isdigit() but is no timestamp


@pytest.fixture
def interceptor(sandbox: RunningSandbox, flow_settings: Any) -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    flow_settings.PAYMENT_GATEWAY_CALLBACK_BASE_URL = receiver.base_url
    try:
        yield receiver
    finally:
        receiver.close()


def row(txn: GatewayTransaction) -> tuple[Any, ...]:
    fresh = GatewayTransaction.objects.get(pk=txn.pk)
    return (
        fresh.status,
        fresh.payment_id,
        fresh.gateway_transaction_id,
        fresh.failure_code,
        fresh.last_sequence,
        fresh.verdict_source,
        fresh.settled_at,
        fresh.needs_attention,
        fresh.updated_at,
    )


def forged_signature(body: bytes, moment: dt.datetime) -> str:
    stamp = int(moment.timestamp())
    digest = hmac.new(b"an-attackers-secret", f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


@pytest.mark.parametrize(
    ("decision", "tamper"),
    [
        ("decline", {"status": "SUCCESS", "failure_code": None}),  # a declined payment made to look paid
        ("approve", {"amount": "1.00"}),  # another amount
        ("approve", {"merchant_reference": "GTX-someone-else"}),  # redirected to another transaction
    ],
)
def test_tampered_and_unsigned_callbacks_change_nothing_and_are_recorded(
    sandbox: RunningSandbox,
    interceptor: CallbackReceiver,
    live_server: Any,
    payer: Caller,
    make_pt_bill: Callable[[], Bill],
    decision: str,
    tamper: dict[str, Any],
) -> None:
    bill = make_pt_bill()
    with at(PAY_AT):
        txn = gateway_payment_initiate(caller=payer, bill_id=bill.pk, amount=D("1100"), at=PAY_AT)
    assert txn.status == TransactionStatus.PENDING
    (sandbox.approve if decision == "approve" else sandbox.decline)(txn.gateway_transaction_id)
    with at(SENT_AT):
        assert sandbox.deliver_callbacks() == {"delivered": 1, "failed": 0, "dropped": 0}
    [sent] = interceptor.requests
    assert sent["path"] == CALLBACK_PATH
    original, signature = sent["body"], sent["headers"]["X-Sandbox-Signature"]
    tampered = json.dumps(json.loads(original) | tamper, separators=(",", ":")).encode()
    assert tampered != original

    endpoint = f"{live_server.url}{CALLBACK_PATH}"
    json_type = {"Content-Type": "application/json"}
    before, txn_before = state(), row(txn)
    with at(CHECKED_AT):
        answers = [
            httpx.post(endpoint, content=tampered, headers=json_type | {"X-Sandbox-Signature": signature}),
            httpx.post(endpoint, content=tampered, headers=json_type),
            httpx.post(endpoint, content=original, headers=json_type),
            httpx.post(
                endpoint,
                content=tampered,
                headers=json_type | {"X-Sandbox-Signature": forged_signature(tampered, SENT_AT)},
            ),
            # A Unicode digit as the timestamp (latin-1 on the wire): refused as malformed, never a 500.
            httpx.post(endpoint, content=tampered, headers=json_type | {"X-Sandbox-Signature": UNICODE_STAMP}),
            # The genuine callback padded past the 64 KB limit: 413 before it is read, and not recorded.
            httpx.post(
                endpoint, content=original + b" " * 65_536, headers=json_type | {"X-Sandbox-Signature": signature}
            ),
        ]
    with at(SENT_AT + dt.timedelta(minutes=6)):  # the genuine callback, replayed after the 300 s tolerance
        answers.append(httpx.post(endpoint, content=original, headers=json_type | {"X-Sandbox-Signature": signature}))

    assert [(a.status_code, a.json()) for a in answers] == [
        (401, {"outcome": "INVALID_SIGNATURE", "detail": "SIGNATURE_MISMATCH"}),
        (401, {"outcome": "INVALID_SIGNATURE", "detail": "SIGNATURE_MISSING"}),
        (401, {"outcome": "INVALID_SIGNATURE", "detail": "SIGNATURE_MISSING"}),
        (401, {"outcome": "INVALID_SIGNATURE", "detail": "SIGNATURE_MISMATCH"}),
        (401, {"outcome": "INVALID_SIGNATURE", "detail": "SIGNATURE_MALFORMED"}),
        (413, {"outcome": "TOO_LARGE", "detail": "callback bodies are limited to 65536 bytes"}),
        (401, {"outcome": "INVALID_SIGNATURE", "detail": "SIGNATURE_TIMESTAMP_OUT_OF_TOLERANCE"}),
    ]
    # Nothing changed: no payment, no demand/bill write, the transaction as it was.
    assert state() == before
    assert row(txn) == txn_before
    assert Payment.objects.count() == 0
    # Each one is recorded as rejected, with what was received.
    recorded = list(
        GatewayCallback.objects.order_by("received_at", "pk").values_list(
            "outcome", "signature_valid", "transaction_id", "raw_body", "signature_header"
        )
    )
    assert recorded == [
        (CallbackOutcome.INVALID_SIGNATURE, False, None, tampered.decode(), signature),
        (CallbackOutcome.INVALID_SIGNATURE, False, None, tampered.decode(), ""),
        (CallbackOutcome.INVALID_SIGNATURE, False, None, original.decode(), ""),
        (CallbackOutcome.INVALID_SIGNATURE, False, None, tampered.decode(), forged_signature(tampered, SENT_AT)),
        (CallbackOutcome.INVALID_SIGNATURE, False, None, tampered.decode(), UNICODE_STAMP.decode("latin-1")),
        (CallbackOutcome.INVALID_SIGNATURE, False, None, original.decode(), signature),
    ]

    # The genuine callback, in time, is applied: the rejections were about the tampering, nothing else.
    with at(CHECKED_AT):
        genuine = httpx.post(endpoint, content=original, headers=json_type | {"X-Sandbox-Signature": signature})
    assert (genuine.status_code, genuine.json()["outcome"]) == (200, "APPLIED")
    txn.refresh_from_db()
    if decision == "approve":
        assert txn.status == TransactionStatus.SUCCESS
        assert Payment.objects.get().total_amount_paid == D("1100.00")
    else:
        assert (txn.status, txn.failure_code, txn.payment_id) == (TransactionStatus.FAILURE, "payer_declined", None)
        assert Payment.objects.count() == 0
