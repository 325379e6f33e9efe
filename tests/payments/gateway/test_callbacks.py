"""The callback endpoint POST /api/v1/gateway/callbacks/<gateway>/: signed callbacks settle the transaction
once; unsigned, tampered, expired and malformed ones change nothing and are logged; never a 500."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from billing_project import clock
from bills.models import Bill
from masters.access import Caller
from payments.gateway.models import AttentionReason, GatewayCallback, GatewayTransaction
from payments.gateway.services import gateway_payment_initiate
from payments.gateway.services.callbacks import REJECTED_BODY_KEPT
from payments.models import Payment
from tests.payments.conftest import PAY_AT, state
from tests.payments.gateway.conftest import callback_body, make_txn, signed
from tests.sandbox_gateway import RunningSandbox

D = Decimal
URL = "/api/v1/gateway/callbacks/sandbox/"
pytestmark = pytest.mark.django_db


def post(body: bytes, signature: str | None, *, url: str = URL, at: dt.datetime = PAY_AT) -> Any:
    client = APIClient(enforce_csrf_checks=True)
    headers = {"HTTP_X_SANDBOX_SIGNATURE": signature} if signature is not None else {}
    with clock.frozen(at):
        return client.post(url, data=body, content_type="application/json", **headers)


def logged() -> list[tuple[Any, ...]]:
    return list(
        GatewayCallback.objects.order_by("id").values_list("gateway", "transaction_id", "signature_valid", "outcome")
    )


def test_a_signed_success_settles_once_and_replays_are_duplicates(bill: Bill) -> None:
    txn = make_txn(bill, "1100")
    body = callback_body(txn, "SUCCESS", event_id="evt_1")

    first = post(body, signed(body))
    again = post(body, signed(body, PAY_AT + dt.timedelta(seconds=30)), at=PAY_AT + dt.timedelta(seconds=30))

    assert (first.status_code, first.json()) == (200, {"outcome": "APPLIED", "detail": "applied: SUCCESS"})
    assert (again.status_code, again.json()) == (200, {"outcome": "DUPLICATE", "detail": "duplicate: already SUCCESS"})
    txn.refresh_from_db()
    assert (txn.status, txn.verdict_source, txn.last_sequence) == ("SUCCESS", "CALLBACK", 2)
    assert Payment.objects.get().pk == txn.payment_id
    assert logged() == [("sandbox", txn.pk, True, "APPLIED"), ("sandbox", txn.pk, True, "DUPLICATE")]
    stored = GatewayCallback.objects.order_by("id").first()
    assert stored is not None
    assert (stored.event_id, stored.raw_body, stored.received_at) == ("evt_1", body.decode(), PAY_AT)
    assert (stored.raw_body_length, stored.raw_body_sha256) == (len(body), hashlib.sha256(body).hexdigest())


def test_out_of_order_pending_after_success_is_stale(bill: Bill) -> None:
    txn = make_txn(bill, "1100")
    final = callback_body(txn, "SUCCESS", sequence=3)
    late = callback_body(txn, "PENDING", sequence=2)
    assert post(final, signed(final)).status_code == 200
    answer = post(late, signed(late))
    assert (answer.status_code, answer.json()["outcome"]) == (200, "STALE")
    assert GatewayTransaction.objects.get(pk=txn.pk).status == "SUCCESS"


def test_a_failure_callback_settles_without_payment(bill: Bill) -> None:
    txn = make_txn(bill, "1100")
    body = callback_body(txn, "FAILURE")
    assert post(body, signed(body)).json() == {"outcome": "APPLIED", "detail": "applied: FAILURE"}
    txn.refresh_from_db()
    assert (txn.status, txn.failure_code, txn.decline_type) == ("FAILURE", "payer_declined", "HARD")
    assert Payment.objects.count() == 0


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "SIGNATURE_MISSING"),
        ("nonsense", "SIGNATURE_MALFORMED"),
        ("t=\xb2,v1=aa", "SIGNATURE_MALFORMED"),  # a Unicode digit in the timestamp (was a 500)
        ("t=\u0661\u0667\u0661\u0664,v1=aa", "SIGNATURE_MALFORMED"),  # Arabic-Indic digits
        ("tampered", "SIGNATURE_MISMATCH"),
        ("wrong-secret", "SIGNATURE_MISMATCH"),
        ("old", "SIGNATURE_TIMESTAMP_OUT_OF_TOLERANCE"),
    ],
)
def test_unsigned_or_tampered_callbacks_change_nothing_and_are_logged(
    bill: Bill, signature: str | None, reason: str
) -> None:
    txn = make_txn(bill, "1100")
    honest = callback_body(txn, "SUCCESS", amount="1.00")
    body = honest
    header: str | None = signed(honest)
    if signature is not None and (signature == "nonsense" or signature.startswith("t=")):
        header = signature
    elif signature == "tampered":
        body = honest.replace(b'"1.00"', b'"1100.00"')  # the signature was made over the 1.00 body
    elif signature == "wrong-secret":
        header = signed(callback_body(txn, "SUCCESS"), secret="not-ours")
        body = callback_body(txn, "SUCCESS")
    elif signature == "old":
        body = callback_body(txn, "SUCCESS")
        header = signed(body, PAY_AT - dt.timedelta(seconds=301))
    elif signature is None:
        header = None
        body = callback_body(txn, "SUCCESS")
    before = state()

    answer = post(body, header)

    assert (answer.status_code, answer.json()) == (401, {"outcome": "INVALID_SIGNATURE", "detail": reason})
    assert state() == before
    txn.refresh_from_db()
    assert (txn.status, txn.payment_id, txn.needs_attention) == ("PENDING", None, False)
    assert logged() == [("sandbox", None, False, "INVALID_SIGNATURE")]
    assert GatewayCallback.objects.get().raw_body == body.decode()


def test_a_signed_callback_with_another_amount_is_refused_and_queued(bill: Bill) -> None:
    txn = make_txn(bill, "1100")
    body = callback_body(txn, "SUCCESS", amount="1.00")
    answer = post(body, signed(body))
    assert (answer.status_code, answer.json()) == (400, {"outcome": "REJECTED", "detail": "rejected: AMOUNT_MISMATCH"})
    txn.refresh_from_db()
    assert (txn.status, txn.needs_attention, txn.attention_reason) == ("PENDING", True, AttentionReason.AMOUNT_MISMATCH)
    assert Payment.objects.count() == 0


def test_a_signed_success_in_another_currency_is_refused_recorded_and_queued(bill: Bill) -> None:
    txn = make_txn(bill, "1100")
    body = callback_body(txn, "SUCCESS", currency="USD")
    answer = post(body, signed(body))
    assert (answer.status_code, answer.json()) == (
        400,
        {"outcome": "REJECTED", "detail": "rejected: CURRENCY_MISMATCH"},
    )
    txn.refresh_from_db()
    assert (txn.status, txn.payment_id, txn.needs_attention, txn.attention_reason) == (
        "PENDING",
        None,
        True,
        AttentionReason.CURRENCY_MISMATCH,
    )
    assert txn.attention_note == (
        f"CALLBACK at {PAY_AT.isoformat()}: the gateway said SUCCESS for {txn.gateway_transaction_id} amount "
        f"1100.00 USD; we hold PENDING for {txn.gateway_transaction_id} amount 1100.00 INR"
    )
    assert Payment.objects.count() == 0
    assert logged() == [("sandbox", txn.pk, True, "REJECTED")]
    stored = GatewayCallback.objects.get()
    assert (stored.detail, stored.raw_body) == ("rejected: CURRENCY_MISMATCH", body.decode())
    # The same callback in the transaction's currency (any case) is applied.
    good = callback_body(txn, "SUCCESS", currency="inr", event_id="evt_good")
    assert post(good, signed(good)).json() == {"outcome": "APPLIED", "detail": "applied: SUCCESS"}
    txn.refresh_from_db()
    assert txn.status == "SUCCESS"


@pytest.mark.parametrize(
    ("body", "outcome", "status"),
    [
        (b"not json", "MALFORMED", 400),
        (b"[1, 2]", "MALFORMED", 400),
        (b'{"status": "SUCCESS"}', "MALFORMED", 400),
        (
            b'{"transaction_id": "t", "merchant_reference": "GTX-x", "amount": "1.00", "status": "WHAT"}',
            "MALFORMED",
            400,
        ),
        (
            b'{"transaction_id": "t", "merchant_reference": "GTX-x", "amount": "1.00", "status": "SUCCESS"}',
            "UNKNOWN_TRANSACTION",
            400,
        ),
        (b"\xff\xfe", "MALFORMED", 400),
    ],
)
def test_bad_bodies_with_a_valid_signature_are_400_never_500(
    bill: Bill, body: bytes, outcome: str, status: int
) -> None:
    answer = post(body, signed(body))
    assert (answer.status_code, answer.json()["outcome"]) == (status, outcome)
    assert [row[2:] for row in logged()] == [(True, outcome)]


def test_an_unknown_gateway_is_404(bill: Bill) -> None:
    body = b"{}"
    answer = post(body, signed(body), url="/api/v1/gateway/callbacks/nosuch/")
    assert (answer.status_code, answer.json()["outcome"]) == (404, "UNKNOWN_GATEWAY")
    assert logged() == [("nosuch", None, False, "UNKNOWN_GATEWAY")]


def test_get_is_not_allowed(bill: Bill) -> None:
    assert APIClient().get(URL).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_delivers_a_signed_callback_to_our_live_endpoint(
    payer: Caller, bill: Bill, sandbox: RunningSandbox, live_server: Any, settings: Any
) -> None:
    """End to end over real HTTP: initiate → the payer approves at the checkout → the sandbox posts its signed
    callbacks to our server → SUCCESS with one Payment. The sandbox signs with the wall clock, our clock is
    frozen in 2024: the tolerance is widened for this test only."""
    settings.PAYMENT_GATEWAY_CALLBACK_BASE_URL = live_server.url
    settings.PAYMENT_GATEWAY_CALLBACK_TOLERANCE_SECONDS = 10**10
    with clock.frozen(PAY_AT):
        txn = gateway_payment_initiate(caller=payer, bill_id=bill.pk, amount=D("1100"), at=PAY_AT)
        sandbox.approve(txn.gateway_transaction_id or "")
        delivered = sandbox.deliver_callbacks()
    assert delivered  # the sandbox reports what it delivered
    txn.refresh_from_db()
    assert (txn.status, txn.verdict_source) == ("SUCCESS", "CALLBACK")
    assert Payment.objects.get().pk == txn.payment_id
    assert list(GatewayCallback.objects.values_list("signature_valid", "outcome")) == [(True, "APPLIED")]


def padded(txn: GatewayTransaction, size: int, status: str = "SUCCESS") -> bytes:
    """A callback body of exactly ``size`` bytes (JSON padded with trailing spaces)."""
    body = callback_body(txn, status)
    assert len(body) <= size
    return body + b" " * (size - len(body))


def test_a_body_over_the_limit_is_413_and_nothing_is_stored(bill: Bill, settings: Any) -> None:
    """Even validly signed: refused by its Content-Length before it is read; no row, no payment."""
    assert settings.PAYMENT_GATEWAY_CALLBACK_MAX_BYTES == 65_536
    txn = make_txn(bill, "1100")
    body = padded(txn, 65_537)
    before = state()

    answer = post(body, signed(body))

    assert (answer.status_code, answer.json()) == (
        413,
        {"outcome": "TOO_LARGE", "detail": "callback bodies are limited to 65536 bytes"},
    )
    assert state() == before
    assert GatewayCallback.objects.count() == 0
    txn.refresh_from_db()
    assert (txn.status, txn.payment_id, txn.updated_at) == ("PENDING", None, txn.created_at)


def test_a_signed_body_at_the_limit_is_applied_and_kept_whole(bill: Bill) -> None:
    txn = make_txn(bill, "1100")
    body = padded(txn, 65_536)

    answer = post(body, signed(body))

    assert (answer.status_code, answer.json()) == (200, {"outcome": "APPLIED", "detail": "applied: SUCCESS"})
    stored = GatewayCallback.objects.get()
    assert (stored.signature_valid, stored.raw_body, stored.raw_body_length, stored.raw_body_sha256) == (
        True,
        body.decode(),
        65_536,
        hashlib.sha256(body).hexdigest(),
    )


@pytest.mark.parametrize("signature", ["wrong-secret", None])
def test_an_unverified_body_is_stored_truncated_with_its_length_and_digest(bill: Bill, signature: str | None) -> None:
    txn = make_txn(bill, "1100")
    body = padded(txn, 60_000)
    header = signed(body, secret="not-ours") if signature else None

    answer = post(body, header)

    assert answer.status_code == 401
    stored = GatewayCallback.objects.get()
    assert REJECTED_BODY_KEPT == 2048
    assert (
        stored.signature_valid,
        stored.outcome,
        stored.raw_body,
        stored.raw_body_length,
        stored.raw_body_sha256,
    ) == (
        False,
        "INVALID_SIGNATURE",
        body[:2048].decode(),
        60_000,
        hashlib.sha256(body).hexdigest(),
    )


def test_an_unknown_gateway_keeps_only_the_truncated_body(bill: Bill) -> None:
    body = b"x" * 5000
    answer = post(body, signed(body), url="/api/v1/gateway/callbacks/nosuch/")
    assert answer.status_code == 404
    stored = GatewayCallback.objects.get()
    assert (stored.raw_body, stored.raw_body_length) == ("x" * 2048, 5000)


def test_a_signed_malformed_body_is_kept_whole(bill: Bill) -> None:
    body = b"[" + b"1," * 3000 + b"1]"
    answer = post(body, signed(body))
    assert (answer.status_code, answer.json()["outcome"]) == (400, "MALFORMED")
    stored = GatewayCallback.objects.get()
    assert (stored.signature_valid, stored.raw_body, stored.raw_body_length) == (True, body.decode(), len(body))


def test_with_the_sandbox_not_allowed_its_signed_callback_is_an_unknown_gateway(bill: Bill, settings: Any) -> None:
    """Production's default: the sandbox is not registered, so its (public) secret authenticates nothing."""
    settings.PAYMENT_GATEWAY_ALLOW_SANDBOX = False
    settings.PAYMENT_GATEWAY_ADAPTERS = {}
    txn = make_txn(bill, "1100")
    body = callback_body(txn, "SUCCESS")
    before = state()

    answer = post(body, signed(body))

    assert (answer.status_code, answer.json()) == (
        404,
        {"outcome": "UNKNOWN_GATEWAY", "detail": "No payment gateway 'sandbox' is configured"},
    )
    assert state() == before
    txn.refresh_from_db()
    assert (txn.status, txn.payment_id, txn.updated_at) == ("PENDING", None, txn.created_at)
    assert logged() == [("sandbox", None, False, "UNKNOWN_GATEWAY")]
