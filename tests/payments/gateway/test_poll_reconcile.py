"""Polling with backoff and the reconciliation, against the sandbox gateway: lost callbacks, the crash window
(our row INITIATED/UNKNOWN while the gateway holds the transaction), transactions that never reached the
gateway, the polling schedule and its exhaustion, transient failures of the lookups."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest

from billing_project.errors import DomainError
from bills.models import Bill, BillStatus
from masters.access import Caller, caller_for
from masters.models import Role
from payments.gateway.models import (
    AttentionReason,
    GatewayAttempt,
    GatewayTransaction,
    TransactionKind,
    TransactionStatus,
)
from payments.gateway.services import (
    GatewayVerdict,
    ReconcileReport,
    gateway_payment_initiate,
    gateway_reconcile,
    gateway_transaction_poll,
    gateway_transaction_reconcile,
    gateway_transactions_poll_due,
    gateway_verdict_apply,
)
from payments.models import Payment
from tests.payments.conftest import CITY, PAY_AT
from tests.payments.gateway.conftest import make_txn
from tests.sandbox_gateway import RunningSandbox

D = Decimal
pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)


def initiate(caller: Caller, bill: Bill, amount: str = "1100") -> GatewayTransaction:
    return gateway_payment_initiate(caller=caller, bill_id=bill.pk, amount=D(amount), at=PAY_AT)


def reload(txn: GatewayTransaction) -> GatewayTransaction:
    return GatewayTransaction.objects.get(pk=txn.pk)


def create_at_gateway(sandbox: RunningSandbox, txn: GatewayTransaction) -> dict[str, Any]:
    """The gateway creates the transaction but we never store its answer (the crash window)."""
    with sandbox.merchant_client() as client:
        answer: httpx.Response = client.post(
            "/v1/transactions",
            headers={"Idempotency-Key": txn.idempotency_key},
            json={
                "merchant_reference": txn.merchant_reference,
                "amount": f"{txn.amount:.2f}",
                "currency": "INR",
                "callback_url": "http://127.0.0.1:9/cb",
                "return_url": "",
                "description": "crash window",
                "customer": {"name": "", "mobile": "", "email": ""},
            },
        )
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_a_lost_callback_is_settled_by_the_due_poll(payer: Caller, bill: Bill, sandbox: RunningSandbox) -> None:
    txn = initiate(payer, bill)
    sandbox.approve(txn.gateway_transaction_id or "")  # its callback stays queued: never delivered

    assert gateway_transactions_poll_due(at=PAY_AT + 4 * MIN, limit=10) == 0  # not due yet
    assert gateway_transactions_poll_due(at=PAY_AT + 5 * MIN, limit=10) == 1

    txn = reload(txn)
    payment = Payment.objects.get()
    assert (txn.status, txn.payment_id, txn.verdict_source, txn.next_poll_at) == ("SUCCESS", payment.pk, "POLL", None)
    assert payment.total_amount_paid == D("1100.00")
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.PAID
    assert list(
        GatewayAttempt.objects.filter(transaction=txn).order_by("id").values_list("kind", "gateway_status")
    ) == [
        ("INITIATE", "CREATED"),
        ("STATUS", "SUCCESS"),
    ]
    assert gateway_transactions_poll_due(at=PAY_AT + dt.timedelta(days=1), limit=10) == 0  # final: never again


def test_a_declined_checkout_is_failure_without_payment(payer: Caller, bill: Bill, sandbox: RunningSandbox) -> None:
    txn = initiate(payer, bill)
    sandbox.decline(txn.gateway_transaction_id or "")
    txn = gateway_transaction_poll(transaction_id=txn.pk, at=PAY_AT + 5 * MIN)
    assert (txn.status, txn.failure_code, txn.decline_type, txn.payment_id) == (
        "FAILURE",
        "payer_declined",
        "HARD",
        None,
    )
    assert Payment.objects.count() == 0


def test_still_pending_follows_the_schedule_until_the_queue(
    payer: Caller, bill: Bill, sandbox: RunningSandbox, settings: Any
) -> None:
    settings.PAYMENT_GATEWAY_POLL_DELAYS = [300, 900, 3600]
    settings.PAYMENT_GATEWAY_MAX_POLLS = 3
    txn = initiate(payer, bill)
    sandbox.pending(txn.gateway_transaction_id or "")

    seen = []
    at = txn.next_poll_at
    while at is not None:
        assert gateway_transactions_poll_due(at=at, limit=10) == 1
        txn = reload(txn)
        seen.append((txn.poll_count, txn.next_poll_at, txn.needs_attention))
        at = txn.next_poll_at
    assert seen == [
        (1, PAY_AT + 5 * MIN + 15 * MIN, False),
        (2, PAY_AT + 20 * MIN + 60 * MIN, False),
        (3, None, True),
    ]
    assert (txn.status, txn.attention_reason) == ("PENDING", AttentionReason.POLLS_EXHAUSTED)

    # The payer's bank decides at last; the reconciler (which also asks about queued ones) settles it.
    sandbox.approve(txn.gateway_transaction_id or "")
    report = gateway_reconcile(at=PAY_AT + dt.timedelta(hours=2))
    txn = reload(txn)
    assert report == ReconcileReport(checked=1, settled=1, still_open=0, errors=0, refunds_resent=0)
    assert (txn.status, txn.verdict_source, txn.needs_attention, txn.attention_reason) == (
        "SUCCESS",
        "RECONCILE",
        False,
        "",
    )
    assert Payment.objects.count() == 1


def test_crash_window_initiated_row_is_found_by_reference(bill: Bill, sandbox: RunningSandbox) -> None:
    """The initiate call reached the gateway but we crashed before storing its answer."""
    txn = make_txn(bill, "1100", status=TransactionStatus.INITIATED, gateway_transaction_id=None, next_poll_at=None)
    held = create_at_gateway(sandbox, txn)
    sandbox.approve(held["id"])

    early = gateway_reconcile(at=txn.created_at + 14 * MIN)  # within the grace: the call may still be running
    assert early == ReconcileReport(checked=0, settled=0, still_open=0, errors=0, refunds_resent=0)

    report = gateway_reconcile(at=txn.created_at + 15 * MIN)
    txn = reload(txn)
    assert report == ReconcileReport(checked=1, settled=1, still_open=0, errors=0, refunds_resent=0)
    assert (txn.status, txn.gateway_transaction_id, txn.verdict_source) == ("SUCCESS", held["id"], "RECONCILE")
    assert Payment.objects.get().pk == txn.payment_id
    assert list(GatewayAttempt.objects.filter(transaction=txn).values_list("kind", "outcome")) == [("FIND", "OK")]


def test_crash_window_unknown_row_pending_at_gateway_becomes_pending(bill: Bill, sandbox: RunningSandbox) -> None:
    txn = make_txn(bill, "1100", status=TransactionStatus.UNKNOWN, gateway_transaction_id=None)
    held = create_at_gateway(sandbox, txn)
    txn = gateway_transaction_poll(transaction_id=txn.pk, at=txn.created_at + 5 * MIN)
    assert (txn.status, txn.gateway_transaction_id, txn.checkout_url, txn.poll_count) == (
        "PENDING",
        held["id"],
        held["checkout_url"],
        1,
    )


def test_never_reached_the_gateway_is_failure_after_the_grace(bill: Bill, sandbox: RunningSandbox) -> None:
    txn = make_txn(bill, "1100", status=TransactionStatus.UNKNOWN, gateway_transaction_id=None)

    within = gateway_transaction_poll(transaction_id=txn.pk, at=txn.created_at + 5 * MIN)
    assert (within.status, within.poll_count) == ("UNKNOWN", 1)

    report = gateway_reconcile(at=txn.created_at + 15 * MIN)
    txn = reload(txn)
    assert report == ReconcileReport(checked=1, settled=1, still_open=0, errors=0, refunds_resent=0)
    assert (txn.status, txn.failure_code, txn.verdict_source, txn.payment_id) == (
        "FAILURE",
        "never_reached_gateway",
        "RECONCILE",
        None,
    )


def test_initiated_within_its_grace_is_not_polled(bill: Bill, sandbox: RunningSandbox) -> None:
    txn = make_txn(bill, "1100", status=TransactionStatus.INITIATED, gateway_transaction_id=None)
    polled = gateway_transaction_poll(transaction_id=txn.pk, at=txn.created_at + 5 * MIN)
    assert (polled.status, polled.poll_count, polled.attempt_count) == ("INITIATED", 0, 0)


def test_transient_lookup_failures_back_off_then_queue(bill: Bill, sandbox: RunningSandbox, settings: Any) -> None:
    settings.PAYMENT_GATEWAY_CALL_ATTEMPTS = 1
    settings.PAYMENT_GATEWAY_TRANSIENT_LIMIT = 3
    txn = make_txn(bill, "1100")  # PENDING with a gateway id the sandbox does not know; every call fails anyway
    sandbox.faults(error_rate=1.0)
    schedule = []
    at = txn.next_poll_at
    for _ in range(3):
        assert at is not None
        gateway_transactions_poll_due(at=at, limit=10)
        txn = reload(txn)
        schedule.append(
            (txn.transient_failures, txn.next_poll_at - at if txn.next_poll_at else None, txn.needs_attention)
        )
        at = txn.next_poll_at
    assert schedule == [
        (1, dt.timedelta(seconds=60), False),
        (2, dt.timedelta(seconds=120), False),
        (3, dt.timedelta(seconds=240), True),
    ]
    assert (txn.status, txn.attention_reason, txn.poll_count) == ("PENDING", AttentionReason.GATEWAY_UNREACHABLE, 0)


def test_a_gateway_id_the_gateway_forgot_goes_to_the_queue(bill: Bill, sandbox: RunningSandbox) -> None:
    txn = make_txn(bill, "1100")  # the sandbox holds no txn_... of this id, nor our reference
    gateway_reconcile(at=txn.created_at + 15 * MIN)
    txn = reload(txn)
    assert (txn.status, txn.needs_attention, txn.attention_reason, txn.next_poll_at) == (
        "PENDING",
        True,
        AttentionReason.GATEWAY_LOST,
        None,
    )
    assert list(GatewayAttempt.objects.filter(transaction=txn).order_by("id").values_list("kind", "outcome")) == [
        ("STATUS", "NOT_FOUND"),
        ("FIND", "NOT_FOUND"),
    ]


def test_no_gateway_call_inside_a_database_transaction(bill: Bill, sandbox: RunningSandbox) -> None:
    from django.db import transaction

    from payments.gateway.services.calls import CallInsideTransaction

    txn = make_txn(bill, "1100")
    with pytest.raises(CallInsideTransaction), transaction.atomic():
        gateway_transaction_poll(transaction_id=txn.pk, at=PAY_AT + 5 * MIN)
    assert (reload(txn).attempt_count, GatewayAttempt.objects.count()) == (0, 0)


def stamps(*txns: GatewayTransaction) -> list[dt.datetime | None]:
    return [reload(txn).last_reconciled_at for txn in txns]


def test_the_reconciler_asks_the_never_asked_then_the_longest_unasked_first(
    bill: Bill, sandbox: RunningSandbox
) -> None:
    """Open rows that never settle (here: ids the gateway forgot) must not starve newer ones past the limit."""
    oldest, older, newest = (make_txn(bill, "100", created_at=PAY_AT + n * MIN) for n in range(3))
    first, second, third = (PAY_AT + dt.timedelta(hours=h) for h in (1, 2, 3))

    assert gateway_reconcile(at=first, limit=2) == ReconcileReport(
        checked=2, settled=0, still_open=2, errors=0, refunds_resent=0
    )
    assert stamps(oldest, older, newest) == [first, first, None]

    gateway_reconcile(at=second, limit=2)  # the never-asked one first, then the longest-unasked (oldest on a tie)
    assert stamps(oldest, older, newest) == [second, first, second]

    gateway_reconcile(at=third, limit=2)  # older (asked at `first`), then oldest before newest (both at `second`)
    assert stamps(oldest, older, newest) == [third, third, second]
    assert [GatewayAttempt.objects.filter(transaction=t, kind="STATUS").count() for t in (oldest, older, newest)] == [
        3,
        2,
        1,
    ]


def test_a_checkout_still_open_past_the_horizon_is_closed_as_abandoned(
    payer: Caller, bill: Bill, sandbox: RunningSandbox, settings: Any
) -> None:
    assert settings.PAYMENT_GATEWAY_CHECKOUT_ABANDONED_AFTER_SECONDS == 7 * 86_400
    txn = initiate(payer, bill)  # the payer never finishes the checkout: the sandbox holds it open forever
    horizon = txn.created_at + dt.timedelta(days=7)

    before = gateway_reconcile(at=horizon - dt.timedelta(seconds=1))
    assert before == ReconcileReport(checked=1, settled=0, still_open=1, errors=0, refunds_resent=0)
    assert reload(txn).status == "PENDING"

    report = gateway_reconcile(at=horizon)
    txn = reload(txn)
    assert report == ReconcileReport(checked=1, settled=1, still_open=0, errors=0, refunds_resent=0)
    assert (
        txn.status,
        txn.failure_code,
        txn.decline_type,
        txn.verdict_source,
        txn.settled_at,
        txn.next_poll_at,
        txn.payment_id,
        txn.needs_attention,
    ) == ("FAILURE", "abandoned", "", "RECONCILE", horizon, None, None, False)
    assert Payment.objects.count() == 0
    assert gateway_reconcile(at=horizon + MIN) == ReconcileReport(
        checked=0, settled=0, still_open=0, errors=0, refunds_resent=0
    )

    # The payer pays the stale checkout after all: the gateway's SUCCESS contradicts our FAILURE -> the queue.
    sandbox.approve(txn.gateway_transaction_id or "")
    late = gateway_verdict_apply(
        transaction_id=txn.pk,
        verdict=GatewayVerdict(
            status="SUCCESS", amount=D("1100.00"), gateway_transaction_id=txn.gateway_transaction_id or ""
        ),
        source="CALLBACK",
        at=horizon + dt.timedelta(hours=1),
    )
    txn = reload(txn)
    assert (late.result, late.reason) == ("rejected", "CONFLICTING_FINAL_VERDICT")
    assert (txn.status, txn.payment_id, txn.needs_attention, txn.attention_reason) == (
        "FAILURE",
        None,
        True,
        AttentionReason.CONFLICTING_FINAL_VERDICT,
    )
    assert Payment.objects.count() == 0


def test_a_saved_card_charge_open_past_the_horizon_is_not_closed(bill: Bill, sandbox: RunningSandbox) -> None:
    """Only hosted checkouts are abandoned by payers; an open charge stays open (and queued) for a person."""
    txn = make_txn(
        bill, "1100", kind=TransactionKind.TOKEN_CHARGE, gateway_transaction_id=None, status=TransactionStatus.UNKNOWN
    )
    held = create_at_gateway(sandbox, txn)
    report = gateway_reconcile(at=txn.created_at + dt.timedelta(days=8))
    txn = reload(txn)
    assert report == ReconcileReport(checked=1, settled=0, still_open=1, errors=0, refunds_resent=0)
    assert (txn.status, txn.gateway_transaction_id, txn.failure_code, txn.settled_at) == (
        "PENDING",
        held["id"],
        "",
        None,
    )


def test_reconciling_one_transaction_skips_final_and_in_grace_rows(
    bill: Bill, sandbox: RunningSandbox, user_factory: Any
) -> None:
    admin = caller_for(user_factory("city-admin", {CITY: [Role.BILLING_ADMIN]}))
    fresh = make_txn(bill, "100", status=TransactionStatus.INITIATED, gateway_transaction_id=None)
    done = make_txn(bill, "100", status=TransactionStatus.FAILURE)
    at = fresh.created_at + 5 * MIN  # within the INITIATED grace: its initiate call may still be running
    for txn in (fresh, done):
        back = gateway_transaction_reconcile(caller=admin, transaction_id=txn.pk, at=at)
        assert (back.status, back.attempt_count, back.last_reconciled_at) == (txn.status, 0, None)
    assert GatewayAttempt.objects.count() == 0
    with pytest.raises(DomainError) as missing:
        gateway_transaction_reconcile(caller=admin, transaction_id="not-a-uuid", at=at)
    assert missing.value.code == "GATEWAY_TRANSACTION_NOT_FOUND"
