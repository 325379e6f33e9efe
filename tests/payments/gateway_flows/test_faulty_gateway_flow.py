"""Done when: with 30% injected 5xx answers (before and after the work), duplicate and out-of-order callbacks and
lost callbacks, every approved transaction ends SUCCESS with exactly one Payment and every declined one FAILURE
with none, after the polling/reconciliation jobs run.

The sandbox and our app are real local HTTP servers; the callbacks reach our real callback endpoint. The jobs
are the Celery tasks (run in-process here: no broker is configured in tests; ``test_celery_worker_flow.py``
runs them on a real worker).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from bills.models import Bill, BillStatus
from demands.models import Demand
from masters.access import Caller
from payments.gateway import tasks
from payments.gateway.models import (
    AttemptOutcome,
    CallbackOutcome,
    GatewayAttempt,
    GatewayCallback,
    GatewayTransaction,
    TransactionStatus,
)
from payments.gateway.services import gateway_payment_initiate
from payments.models import Payment
from tests.payments.conftest import lines_of
from tests.sandbox_gateway import RunningSandbox

from .conftest import PAY_AT, D, at, sandbox_ids

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 24
FAULTS = {
    "error_rate": 0.3,
    "error_after_rate": 0.3,
    "duplicate_callbacks": True,
    "reorder_callbacks": True,
    "drop_callback_rate": 0.3,
    "callback_mode": "manual",
    "seed": 2024,
}
OPEN = (TransactionStatus.INITIATED, TransactionStatus.PENDING, TransactionStatus.UNKNOWN)


def plan(i: int) -> tuple[str, str, bool]:
    """(amount, payer's decision, through PENDING first?) of the i-th payment: a fixed, mixed plan."""
    amount = "600" if i % 4 == 0 else "1100"
    decision = "decline" if i % 3 == 2 else "approve"
    return amount, decision, i % 5 == 0


def run_jobs_until_settled(start: dt.datetime, *, rounds: int = 12) -> int:
    """Run the beat jobs (poll due, then reconcile) every 30 minutes from ``start`` until nothing is open."""
    for n in range(rounds):
        with at(start + dt.timedelta(minutes=30 * n)):
            tasks.poll_due.delay(limit=500).get()
            tasks.reconcile.delay(limit=500).get()
        if not GatewayTransaction.objects.filter(status__in=OPEN).exists():
            return n + 1
    still = GatewayTransaction.objects.filter(status__in=OPEN).values_list("merchant_reference", "status")
    raise AssertionError(f"still open after {rounds} rounds: {list(still)}")


def test_faults_everywhere_and_every_approved_payment_is_recorded_once(
    sandbox: RunningSandbox, payer: Caller, make_pt_bill: Callable[[], Bill]
) -> None:
    bills = [make_pt_bill() for _ in range(N)]
    sandbox.faults(**FAULTS)

    # 1. The payers start their online payments (our initiate calls meet 503s and lost 502 answers).
    with at(PAY_AT):
        txns = [
            gateway_payment_initiate(
                caller=payer,
                bill_id=bill.pk,
                amount=D(plan(i)[0]),
                return_url="https://citizen.example/paid",
                at=PAY_AT,
            )
            for i, bill in enumerate(bills)
        ]
    assert {txn.status for txn in txns} <= {TransactionStatus.PENDING, TransactionStatus.UNKNOWN}

    # 2. At the gateway, each payer approves or declines (some go through the bank's PENDING first).
    at_gateway = sandbox_ids(sandbox)
    expected: dict[str, tuple[str, str]] = {}  # merchant reference -> (our final status, gateway id or "")
    with at(PAY_AT + dt.timedelta(minutes=2)):
        for i, txn in enumerate(txns):
            amount, decision, via_pending = plan(i)
            found = at_gateway.get(txn.merchant_reference, [])
            assert len(found) <= 1  # a lost answer is retried with the same Idempotency-Key: never two
            if not found:  # every initiate attempt met a 503: it never reached the gateway
                expected[txn.merchant_reference] = ("FAILURE", "")
                continue
            assert found[0]["amount"] == f"{D(amount):.2f}"
            if via_pending:
                sandbox.pending(found[0]["id"])
            (sandbox.approve if decision == "approve" else sandbox.decline)(found[0]["id"])
            expected[txn.merchant_reference] = ("SUCCESS" if decision == "approve" else "FAILURE", found[0]["id"])

    # 3. The callbacks: duplicated, newest first with stale PENDINGs after the finals, a share dropped.
    with at(PAY_AT + dt.timedelta(minutes=5)):
        delivered = sandbox.deliver_callbacks()
    assert delivered["failed"] == 0  # our endpoint answered every callback that was sent with a 2xx
    assert delivered["dropped"] > 0

    # 4. The jobs run until every transaction is settled.
    run_jobs_until_settled(PAY_AT + dt.timedelta(minutes=30))

    # Every approved transaction: SUCCESS and exactly one Payment of its amount; declined: FAILURE, none.
    approved = [ref for ref, (status, _) in expected.items() if status == "SUCCESS"]
    assert 0 < len(approved) < N
    payments = []
    for i, txn in enumerate(txns):
        txn.refresh_from_db()
        amount, decision, _ = plan(i)
        status, gateway_id = expected[txn.merchant_reference]
        assert (txn.merchant_reference, txn.status, txn.needs_attention) == (txn.merchant_reference, status, False)
        if status == "SUCCESS":
            payment = Payment.objects.get(pk=txn.payment_id)
            payments.append(payment)
            assert (payment.total_amount_paid, payment.payment_mode, payment.transaction_number) == (
                D(amount),
                "ONLINE",
                gateway_id,
            )
            [detail] = payment.details.all()
            assert (detail.bill_id, detail.total_amount_paid, detail.total_due) == (
                bills[i].pk,
                D(amount),
                D("1100.00"),
            )
            if amount == "1100":
                assert lines_of(bills[i].consumer_code) == [
                    ("PT_FIRE_CESS", D("100.00"), D("100.00")),
                    ("PT_TAX", D("1000.00"), D("1000.00")),
                ]
                assert Bill.objects.get(pk=bills[i].pk).status == BillStatus.PAID
            else:
                assert lines_of(bills[i].consumer_code) == [
                    ("PT_FIRE_CESS", D("100.00"), D("100.00")),
                    ("PT_TAX", D("1000.00"), D("500.00")),
                ]
        else:
            assert txn.payment_id is None
            assert txn.failure_code == ("payer_declined" if gateway_id else "never_reached_gateway")
            assert lines_of(bills[i].consumer_code) == [
                ("PT_FIRE_CESS", D("100.00"), D("0.00")),
                ("PT_TAX", D("1000.00"), D("0.00")),
            ]
            assert Bill.objects.get(pk=bills[i].pk).status == BillStatus.ACTIVE
    # No other Payments; one receipt each, numbered without gaps.
    assert Payment.objects.count() == len(approved) == len(payments)
    assert sorted(p.details.get().receipt_number for p in payments) == [
        f"PT/AMRITSAR/2024-25/{n:06d}" for n in range(1, len(approved) + 1)
    ]
    assert sorted(Demand.objects.filter(is_payment_completed=True).values_list("consumer_code", flat=True)) == sorted(
        bills[i].consumer_code
        for i, txn in enumerate(txns)
        if txn.merchant_reference in approved and plan(i)[0] == "1100"
    )

    # The faults did strike: transient answers to our calls, duplicate and stale callbacks at our endpoint.
    assert GatewayAttempt.objects.filter(outcome=AttemptOutcome.TRANSIENT).exists()
    outcomes = Counter(GatewayCallback.objects.values_list("outcome", flat=True))
    assert set(outcomes) == {CallbackOutcome.APPLIED, CallbackOutcome.DUPLICATE, CallbackOutcome.STALE}
    sent = [d for d in sandbox.state()["deliveries"] if d["outcome"] == "delivered"]
    assert sum(outcomes.values()) == sum(d["attempts"] for d in sent)

    # Running the jobs again changes nothing.
    before = sorted(GatewayTransaction.objects.values_list("merchant_reference", "status", "payment_id"))
    with at(PAY_AT + dt.timedelta(hours=7)):
        tasks.poll_due.delay(limit=500).get()
        assert tasks.reconcile.delay(limit=500).get()["checked"] == 0
    assert sorted(GatewayTransaction.objects.values_list("merchant_reference", "status", "payment_id")) == before
    assert Payment.objects.count() == len(approved)


def test_the_same_seed_gives_the_same_faults(
    sandbox: RunningSandbox, payer: Caller, make_pt_bill: Callable[[], Any]
) -> None:
    """Determinism of the flow's faults: what our calls met is a function of the seed and our references."""
    bills = [make_pt_bill() for _ in range(6)]
    sandbox.faults(**FAULTS)
    with at(PAY_AT):
        txns = [gateway_payment_initiate(caller=payer, bill_id=b.pk, amount=D("1100"), at=PAY_AT) for b in bills]
    seen = [
        list(
            GatewayAttempt.objects.filter(transaction_id=txn.pk)
            .order_by("at", "pk")
            .values_list("http_status", flat=True)
        )
        for txn in txns
    ]
    # The same references met the same answers: replay them against a fresh sandbox with the same seed.
    sandbox.reset()
    sandbox.faults(**FAULTS)
    replay = []
    with sandbox.merchant_client() as client:
        for txn in txns:
            statuses = []
            for _ in range(len(seen[txns.index(txn)])):
                response = client.post(
                    "/v1/transactions",
                    json={
                        "merchant_reference": txn.merchant_reference,
                        "amount": "1100.00",
                        "currency": "INR",
                        "callback_url": "http://127.0.0.1:9/",
                    },
                    headers={"Idempotency-Key": txn.idempotency_key},
                )
                statuses.append(response.status_code)
            replay.append(statuses)
    assert replay == seen


def test_slow_answers_and_timeouts_settle_the_same_way(
    sandbox: RunningSandbox, flow_settings: Any, payer: Caller, make_pt_bill: Callable[[], Bill]
) -> None:
    """Our calls time out (the sandbox holds them longer than our read timeout; the work is done all the
    same), then, while polling, connections are closed without an answer and answers come slowly but in time."""
    bills = [make_pt_bill() for _ in range(8)]
    flow_settings.PAYMENT_GATEWAY_READ_TIMEOUT = 0.1
    sandbox.faults(timeout_rate=0.4, slow_seconds=0.3, drop_callback_rate=0.5, callback_mode="manual", seed=5)
    with at(PAY_AT):
        txns = [gateway_payment_initiate(caller=payer, bill_id=b.pk, amount=D("1100"), at=PAY_AT) for b in bills]
    at_gateway = sandbox_ids(sandbox)
    approved: dict[str, str] = {}
    for i, txn in enumerate(txns):
        [found] = at_gateway[txn.merchant_reference]  # a timed-out call did the work: every one reached it
        if i % 2:
            sandbox.decline(found["id"])
        else:
            sandbox.approve(found["id"])
            approved[txn.merchant_reference] = found["id"]
    with at(PAY_AT + dt.timedelta(minutes=1)):
        sandbox.deliver_callbacks()
    # Polling meets connections closed without an answer (held 0.05 s, within our timeout) and slow answers.
    sandbox.faults(timeout_rate=0.3, slow_rate=0.3, slow_seconds=0.05)
    flow_settings.PAYMENT_GATEWAY_READ_TIMEOUT = 1.0
    run_jobs_until_settled(PAY_AT + dt.timedelta(minutes=30))

    for txn in txns:
        txn.refresh_from_db()
        if txn.merchant_reference in approved:
            assert (txn.status, txn.gateway_transaction_id) == ("SUCCESS", approved[txn.merchant_reference])
            assert Payment.objects.get(pk=txn.payment_id).total_amount_paid == D("1100.00")
        else:
            assert (txn.status, txn.payment_id, txn.failure_code) == ("FAILURE", None, "payer_declined")
    assert Payment.objects.count() == len(approved) == 4
    errors = list(GatewayAttempt.objects.filter(outcome=AttemptOutcome.TRANSIENT).values_list("kind", "error"))
    assert any(kind == "INITIATE" and error.startswith("timeout: ReadTimeout") for kind, error in errors)
    assert any(error.startswith("connection error: RemoteProtocolError") for _, error in errors)
