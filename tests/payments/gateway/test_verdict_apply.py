"""gateway_verdict_apply: the one path that settles a transaction and records its one Payment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import OperationalError

from billing_project.errors import NotFound
from bills.models import Bill, BillStatus
from masters.access import Caller
from payments.gateway.domain.verdicts import GatewayVerdict, VerdictOutcome
from payments.gateway.models import AttentionReason, GatewayTransaction, TransactionStatus
from payments.gateway.services import gateway_verdict_apply
from payments.models import InstrumentStatus, Payment, PaymentDetail, PaymentMode, PaymentStatus
from tests.concurrency import rows_locked_elsewhere, run_together
from tests.payments.conftest import PAY_AT, lines_of, pay, state
from tests.payments.gateway.conftest import make_txn

D = Decimal


def success(txn: GatewayTransaction, amount: str | None = None, **kwargs: Any) -> GatewayVerdict:
    return GatewayVerdict(
        status="SUCCESS",
        amount=D(amount) if amount is not None else txn.amount,
        gateway_transaction_id=txn.gateway_transaction_id or "",
        **kwargs,
    )


def apply(
    txn: GatewayTransaction, verdict: GatewayVerdict, source: str = "CALLBACK", at: dt.datetime = PAY_AT
) -> VerdictOutcome:
    return gateway_verdict_apply(transaction_id=txn.pk, verdict=verdict, source=source, at=at)


@pytest.mark.django_db
def test_success_records_exactly_one_online_payment_with_its_receipt(bill: Bill) -> None:
    txn = make_txn(bill, "1100")
    outcome = apply(txn, success(txn, sequence=2))

    txn.refresh_from_db()
    payment = Payment.objects.get()
    assert outcome == VerdictOutcome("applied", "SUCCESS", "SUCCESS", str(payment.pk), False)
    assert (txn.status, txn.payment_id, txn.verdict_source, txn.settled_at, txn.next_poll_at, txn.last_sequence) == (
        TransactionStatus.SUCCESS,
        payment.pk,
        "CALLBACK",
        PAY_AT,
        None,
        2,
    )
    assert (
        payment.payment_mode,
        payment.status,
        payment.instrument_status,
        payment.total_amount_paid,
        payment.transaction_number,
        payment.created_by,
    ) == (
        PaymentMode.ONLINE,
        PaymentStatus.DEPOSITED,
        InstrumentStatus.REMITTED,
        D("1100.00"),
        txn.gateway_transaction_id,
        "gateway:sandbox",
    )
    detail = PaymentDetail.objects.get()
    assert (detail.bill_id, detail.total_amount_paid, detail.receipt_number) == (
        bill.pk,
        D("1100.00"),
        "PT/AMRITSAR/2024-25/000001",
    )
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.PAID
    assert lines_of(bill.consumer_code) == [
        ("PT_FIRE_CESS", D("100.00"), D("100.00")),
        ("PT_TAX", D("1000.00"), D("1000.00")),
    ]


@pytest.mark.django_db
def test_a_duplicate_success_changes_nothing(bill: Bill) -> None:
    txn = make_txn(bill, "1100")
    apply(txn, success(txn, sequence=2))
    before = state()

    again = apply(txn, success(txn, sequence=2), source="POLL", at=PAY_AT + dt.timedelta(hours=1))

    assert (again.result, again.reason, again.status) == ("duplicate", "already SUCCESS", "SUCCESS")
    assert state() == before
    assert GatewayTransaction.objects.get(pk=txn.pk).verdict_source == "CALLBACK"


@pytest.mark.django_db
def test_part_payment_pays_part(bill: Bill) -> None:
    txn = make_txn(bill, "600")
    apply(txn, success(txn))
    assert Payment.objects.get().total_amount_paid == D("600.00")
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.PARTIALLY_PAID


@pytest.mark.django_db
def test_failure_records_no_payment_and_keeps_the_decline(bill: Bill) -> None:
    txn = make_txn(bill, "1100")
    before = state()
    outcome = apply(
        txn,
        GatewayVerdict(
            status="FAILURE",
            amount=D("1100.00"),
            gateway_transaction_id=txn.gateway_transaction_id or "",
            failure_code="card_declined",
            decline="HARD",
        ),
    )
    txn.refresh_from_db()
    assert (outcome.result, outcome.status, outcome.payment_id) == ("applied", "FAILURE", None)
    assert (txn.status, txn.failure_code, txn.decline_type, txn.payment_id) == (
        "FAILURE",
        "card_declined",
        "HARD",
        None,
    )
    assert state() == before


@pytest.mark.django_db
def test_success_after_failure_is_rejected_and_queued_never_paid(bill: Bill) -> None:
    txn = make_txn(bill, "1100", status=TransactionStatus.FAILURE, failure_code="payer_declined")
    outcome = apply(txn, success(txn))
    txn.refresh_from_db()
    assert (outcome.result, outcome.reason, outcome.needs_attention) == ("rejected", "CONFLICTING_FINAL_VERDICT", True)
    assert (txn.status, txn.attention_reason) == ("FAILURE", AttentionReason.CONFLICTING_FINAL_VERDICT)
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_stale_pending_after_success_and_out_of_order_pending(bill: Bill) -> None:
    txn = make_txn(bill, "1100")
    pending = GatewayVerdict(
        status="PENDING", amount=txn.amount, gateway_transaction_id=txn.gateway_transaction_id or "", sequence=1
    )
    assert apply(txn, success(txn, sequence=2)).result == "applied"
    outcome = apply(txn, pending)
    assert (outcome.result, outcome.status) == ("stale", "SUCCESS")
    assert Payment.objects.count() == 1

    other = make_txn(bill, "100", status=TransactionStatus.UNKNOWN)
    newer = GatewayVerdict(
        status="PENDING", amount=D("100"), gateway_transaction_id=other.gateway_transaction_id or "", sequence=3
    )
    older = GatewayVerdict(
        status="PENDING", amount=D("100"), gateway_transaction_id=other.gateway_transaction_id or "", sequence=2
    )
    assert apply(other, newer).result == "applied"
    assert apply(other, older).result == "stale"
    other.refresh_from_db()
    assert (other.status, other.last_sequence) == ("PENDING", 3)


@pytest.mark.django_db
def test_amount_mismatch_is_rejected_nothing_paid_and_queued(bill: Bill) -> None:
    txn = make_txn(bill, "1100")
    before = state()
    outcome = apply(txn, success(txn, amount="1.00"))
    txn.refresh_from_db()
    assert (outcome.result, outcome.reason) == ("rejected", "AMOUNT_MISMATCH")
    assert (txn.status, txn.needs_attention, txn.attention_reason) == ("PENDING", True, AttentionReason.AMOUNT_MISMATCH)
    assert state() == before


@pytest.mark.django_db
def test_money_taken_for_a_bill_paid_meanwhile_is_success_unapplied(bill: Bill, cashier: Caller) -> None:
    txn = make_txn(bill, "1100")
    pay(cashier, bill, "1100")  # paid at the counter while the payer was at the checkout
    before = state()

    outcome = apply(txn, success(txn))

    txn.refresh_from_db()
    assert (outcome.result, outcome.status, outcome.payment_id, outcome.needs_attention) == (
        "applied",
        "SUCCESS",
        None,
        True,
    )
    assert (txn.status, txn.payment_id, txn.attention_reason) == ("SUCCESS", None, AttentionReason.UNAPPLIED)
    assert txn.attention_note == "BILL_ALREADY_PAID: Bill has already been paid or is in pending state"
    assert state() == before  # no second payment, no write-back


@pytest.mark.django_db
def test_unknown_transaction_is_not_found(bill: Bill) -> None:
    verdict = GatewayVerdict(status="SUCCESS", amount=D("1"), gateway_transaction_id="x")
    with pytest.raises(NotFound, match="GATEWAY_TRANSACTION_NOT_FOUND"):
        gateway_verdict_apply(transaction_id="not-a-uuid", verdict=verdict, source="POLL", at=PAY_AT)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_success_verdicts_record_one_payment(bill: Bill) -> None:
    txn = make_txn(bill, "1100")

    outcomes = run_together(
        [lambda: apply(txn, success(txn), source="CALLBACK"), lambda: apply(txn, success(txn), source="POLL")]
    )
    assert sorted(outcome.result for outcome in outcomes) == ["applied", "duplicate"]
    assert Payment.objects.count() == 1
    assert GatewayTransaction.objects.get(pk=txn.pk).payment_id == Payment.objects.get().pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("held", ["transaction", "bill"])
def test_verdict_apply_takes_its_locks_before_it_writes(bill: Bill, held: str) -> None:
    """While another transaction holds the gateway transaction row (or the bill, which payment_record locks),
    applying a SUCCESS waits on that lock and, with a lock timeout, fails having written nothing."""
    txn = make_txn(bill, "1100")
    rows = {
        "transaction": GatewayTransaction.objects.filter(pk=txn.pk),
        "bill": Bill.objects.filter(pk=bill.pk),
    }[held]
    with rows_locked_elsewhere(rows):
        with pytest.raises(OperationalError, match="lock timeout"):
            apply(txn, success(txn))
        assert GatewayTransaction.objects.get(pk=txn.pk).status == TransactionStatus.PENDING
        assert Payment.objects.count() == 0
    assert apply(txn, success(txn)).result == "applied"
    assert Payment.objects.count() == 1
