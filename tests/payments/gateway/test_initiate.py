"""gateway_payment_initiate against the sandbox gateway (a real local HTTP server): checkout, token charges,
transient failures, refusals, and the counter rules (nothing written on a refusal)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from billing_project.errors import DomainError, PermissionDeniedError
from bills.models import Bill
from masters.access import Caller
from payments.gateway.models import (
    AttentionReason,
    GatewayAttempt,
    GatewayTransaction,
    TransactionKind,
    TransactionStatus,
)
from payments.gateway.services import gateway_payment_initiate
from payments.models import Payment
from tests.payments.conftest import AFTER_EXPIRY, PAY_AT, state
from tests.sandbox_gateway import RunningSandbox

D = Decimal
pytestmark = pytest.mark.django_db


def initiate(
    caller: Caller, bill: Bill, amount: str = "1100", at: dt.datetime = PAY_AT, **kwargs: Any
) -> GatewayTransaction:
    kwargs.setdefault("return_url", "https://citizen.example/pay/return/")
    return gateway_payment_initiate(caller=caller, bill_id=bill.pk, amount=D(amount), at=at, **kwargs)


def attempts(txn: GatewayTransaction) -> list[tuple[str, int | None, str, str]]:
    return list(
        GatewayAttempt.objects.filter(transaction=txn)
        .order_by("id")
        .values_list("kind", "http_status", "outcome", "gateway_status")
    )


def token_for(sandbox: RunningSandbox, card: str) -> str:
    with sandbox.merchant_client() as client:
        answer = client.post(
            "/v1/tokens",
            json={
                "card_number": card,
                "expiry_month": 12,
                "expiry_year": 2030,
                "holder_name": "Asha Devi",
                "customer_reference": "C1",
            },
        )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def test_checkout_is_pending_with_the_gateway_id_and_redirect(
    payer: Caller, bill: Bill, sandbox: RunningSandbox
) -> None:
    txn = initiate(payer, bill)

    held = sandbox.state()["transactions"]
    assert len(held) == 1
    at_gateway = held[0]
    assert (at_gateway["merchant_reference"], at_gateway["amount"], at_gateway["status"]) == (
        txn.merchant_reference,
        "1100.00",
        "CREATED",
    )
    assert txn.merchant_reference == f"GTX-{txn.pk.hex}"
    assert (
        txn.status,
        txn.kind,
        txn.gateway,
        txn.gateway_transaction_id,
        txn.checkout_url,
        txn.amount,
        txn.currency,
        txn.idempotency_key,
        txn.created_by,
        txn.next_poll_at,
        txn.attempt_count,
        txn.payment_id,
    ) == (
        TransactionStatus.PENDING,
        TransactionKind.CHECKOUT,
        "sandbox",
        at_gateway["id"],
        at_gateway["checkout_url"],
        D("1100.00"),
        "INR",
        f"{txn.merchant_reference}:initiate",
        "citizen-asr",
        PAY_AT + dt.timedelta(minutes=5),
        1,
        None,
    )
    assert attempts(txn) == [("INITIATE", 201, "OK", "CREATED")]
    assert Payment.objects.count() == 0


def test_a_refused_payment_writes_nothing_and_calls_nothing(payer: Caller, bill: Bill, sandbox: RunningSandbox) -> None:
    before = state()
    cases = [
        ({"amount": "1200"}, "INVALID_PAYMENTDETAIL"),  # more than due, PT allows no advance
        ({"amount": "100.50"}, "INVALID_PAYMENTDETAIL"),  # PT takes whole amounts
        ({"amount": "0"}, "GATEWAY_AMOUNT_INVALID"),
        ({"amount": "10.001"}, "GATEWAY_AMOUNT_INVALID"),
        ({"return_url": "javascript:alert(1)"}, "GATEWAY_RETURN_URL_INVALID"),
        ({"at": AFTER_EXPIRY}, "BILL_EXPIRED"),
    ]
    for kwargs, code in cases:
        with pytest.raises(DomainError) as caught:
            initiate(payer, bill, **kwargs)
        assert caught.value.code == code, kwargs
    with pytest.raises(DomainError) as caught:
        gateway_payment_initiate(caller=payer, bill_id="nope", amount=D("1"), at=PAY_AT)
    assert caught.value.code == "INVALID_BILL_ID"
    assert GatewayTransaction.objects.count() == 0
    assert state() == before
    assert sandbox.state()["transactions"] == []


def test_a_caller_without_a_role_in_the_tenant_is_refused(
    bill: Bill, user_factory: Any, sandbox: RunningSandbox
) -> None:
    from masters.access import caller_for

    stranger = caller_for(user_factory("stranger", {"pb.jalandhar": ["CITIZEN"]}))
    with pytest.raises(PermissionDeniedError):
        initiate(stranger, bill)
    assert GatewayTransaction.objects.count() == 0


def test_token_charge_approved_is_success_with_its_payment(payer: Caller, bill: Bill, sandbox: RunningSandbox) -> None:
    token = token_for(sandbox, "4242424242424242")
    txn = initiate(payer, bill, payment_method_token=token, payment_method_id=7)

    payment = Payment.objects.get()
    assert (txn.status, txn.kind, txn.payment_id, txn.payment_method_id, txn.verdict_source, txn.idempotency_key) == (
        TransactionStatus.SUCCESS,
        TransactionKind.TOKEN_CHARGE,
        payment.pk,
        7,
        "CHARGE",
        f"{txn.merchant_reference}:charge",
    )
    assert (payment.total_amount_paid, payment.transaction_number) == (D("1100.00"), txn.gateway_transaction_id)
    assert attempts(txn) == [("CHARGE", 201, "OK", "SUCCESS")]
    assert GatewayAttempt.objects.get().request_summary["token"] == "***"


@pytest.mark.parametrize(
    ("card", "failure_code", "decline"),
    [("4000000000000002", "card_declined", "HARD"), ("4000000000009995", "insufficient_funds", "SOFT")],
)
def test_token_charge_declined_is_failure_with_its_decline_type(
    payer: Caller, bill: Bill, sandbox: RunningSandbox, card: str, failure_code: str, decline: str
) -> None:
    txn = initiate(payer, bill, payment_method_token=token_for(sandbox, card))
    assert (txn.status, txn.failure_code, txn.decline_type, txn.payment_id) == ("FAILURE", failure_code, decline, None)
    assert len(attempts(txn)) == 1  # a decline is an answer, never retried
    assert Payment.objects.count() == 0


def test_lost_answers_are_retried_in_place_with_the_same_key_then_unknown(
    payer: Caller, bill: Bill, sandbox: RunningSandbox, settings: Any
) -> None:
    # Every answer is a 502 sent after the work was done: three calls with one key, one transaction there.
    settings.PAYMENT_GATEWAY_CALL_ATTEMPTS = 3
    sandbox.faults(error_after_rate=1.0)

    txn = initiate(payer, bill)

    assert len(sandbox.state()["transactions"]) == 1
    assert attempts(txn) == [("INITIATE", 502, "TRANSIENT", "")] * 3
    assert (txn.status, txn.gateway_transaction_id, txn.checkout_url, txn.transient_failures, txn.next_poll_at) == (
        TransactionStatus.UNKNOWN,
        None,
        "",
        1,
        PAY_AT + dt.timedelta(seconds=60),
    )
    assert txn.needs_attention is False


def test_gateway_down_leaves_unknown_and_nothing_at_the_gateway(
    payer: Caller, bill: Bill, sandbox: RunningSandbox, settings: Any
) -> None:
    settings.PAYMENT_GATEWAY_CALL_ATTEMPTS = 2
    sandbox.faults(error_rate=1.0)
    txn = initiate(payer, bill)
    assert sandbox.state()["transactions"] == []
    assert attempts(txn) == [("INITIATE", 503, "TRANSIENT", "")] * 2
    assert (txn.status, txn.next_poll_at) == (TransactionStatus.UNKNOWN, PAY_AT + dt.timedelta(seconds=60))


def test_a_timeout_is_transient(payer: Caller, bill: Bill, sandbox: RunningSandbox, settings: Any) -> None:
    settings.PAYMENT_GATEWAY_CALL_ATTEMPTS = 1
    settings.PAYMENT_GATEWAY_READ_TIMEOUT = 0.2
    sandbox.faults(timeout_rate=1.0, slow_seconds=1.0)
    txn = initiate(payer, bill)
    assert txn.status == TransactionStatus.UNKNOWN
    attempt = GatewayAttempt.objects.get(transaction=txn)
    assert (attempt.http_status, attempt.outcome, attempt.error) == (None, "TRANSIENT", "timeout: ReadTimeout")


def test_gateway_unreachable_is_transient(payer: Caller, bill: Bill, settings: Any) -> None:
    settings.PAYMENT_GATEWAY_CALL_ATTEMPTS = 1  # PAYMENT_GATEWAY_URL points at a closed port
    txn = initiate(payer, bill)
    attempt = GatewayAttempt.objects.get(transaction=txn)
    assert (txn.status, attempt.outcome, attempt.http_status) == (TransactionStatus.UNKNOWN, "TRANSIENT", None)
    assert attempt.error.startswith("connection error: ConnectError")


def test_a_refused_initiate_is_failure_in_the_queue(
    payer: Caller, bill: Bill, sandbox: RunningSandbox, settings: Any
) -> None:
    settings.PAYMENT_GATEWAY_SANDBOX_KEY = "wrong-key"
    txn = initiate(payer, bill)
    assert (txn.status, txn.failure_code, txn.needs_attention, txn.attention_reason, txn.next_poll_at) == (
        TransactionStatus.FAILURE,
        "unauthorized",
        True,
        AttentionReason.INITIATE_REJECTED,
        None,
    )
    assert attempts(txn) == [("INITIATE", 401, "PERMANENT", "")]  # a refusal is never retried
