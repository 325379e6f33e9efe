"""gateway_refund against the sandbox: only unapplied money (no Payment, or its Payment cancelled), within
what is left, once (the refund's own reference is the idempotency key; a lost answer is re-sent by the
reconciler)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from billing_project.errors import DomainError, PermissionDeniedError
from bills.models import Bill
from masters.access import Caller, caller_for
from masters.models import Role
from payments.gateway.models import AttentionReason, GatewayRefund, GatewayTransaction, RefundStatus
from payments.gateway.services import (
    ReconcileReport,
    gateway_payment_initiate,
    gateway_reconcile,
    gateway_refund,
    gateway_transaction_poll,
)
from payments.models import Payment
from payments.services import payment_cancel
from tests.payments.conftest import PAY_AT, pay
from tests.sandbox_gateway import RunningSandbox

D = Decimal
pytestmark = pytest.mark.django_db
LATER = PAY_AT + dt.timedelta(minutes=10)


@pytest.fixture
def admin(seed: Any, user_factory: Any) -> Caller:
    return caller_for(user_factory("billing-admin", {"pb.amritsar": [Role.BILLING_ADMIN]}))


def approved(payer: Caller, bill: Bill, sandbox: RunningSandbox, amount: str = "1100") -> GatewayTransaction:
    txn = gateway_payment_initiate(caller=payer, bill_id=bill.pk, amount=D(amount), at=PAY_AT)
    sandbox.approve(txn.gateway_transaction_id or "")
    return txn


def unapplied(payer: Caller, cashier: Caller, bill: Bill, sandbox: RunningSandbox) -> GatewayTransaction:
    txn = approved(payer, bill, sandbox)
    pay(cashier, bill, "1100")  # the counter was faster
    return gateway_transaction_poll(transaction_id=txn.pk, at=PAY_AT + dt.timedelta(minutes=5))


def test_unapplied_money_is_refunded_once_and_leaves_the_queue(
    payer: Caller, cashier: Caller, admin: Caller, bill: Bill, sandbox: RunningSandbox
) -> None:
    txn = unapplied(payer, cashier, bill, sandbox)
    assert (txn.status, txn.payment_id, txn.attention_reason) == ("SUCCESS", None, AttentionReason.UNAPPLIED)

    refund = gateway_refund(caller=admin, transaction_id=txn.pk, reason="paid twice", at=LATER)

    held = sandbox.state()["refunds"]
    assert len(held) == 1
    assert (refund.status, refund.amount, refund.gateway_refund_id, refund.requested_by, refund.reference) == (
        RefundStatus.SUCCESS,
        D("1100.00"),
        held[0]["id"],
        "billing-admin",
        f"RFD-{refund.pk.hex}",
    )
    txn.refresh_from_db()
    assert (txn.refunded_amount, txn.needs_attention, txn.attention_reason) == (D("1100.00"), False, "")
    with pytest.raises(DomainError) as caught:
        gateway_refund(caller=admin, transaction_id=txn.pk, reason="again", at=LATER)
    assert (caught.value.code, caught.value.message) == (
        "GATEWAY_REFUND_NOT_ALLOWED",
        f"{txn.merchant_reference} is already refunded in full",
    )
    assert GatewayRefund.objects.count() == 1


def test_applied_money_needs_its_payment_cancelled_first(
    payer: Caller, admin: Caller, bill: Bill, sandbox: RunningSandbox
) -> None:
    txn = gateway_transaction_poll(
        transaction_id=approved(payer, bill, sandbox).pk, at=PAY_AT + dt.timedelta(minutes=5)
    )
    assert txn.payment_id is not None
    with pytest.raises(DomainError) as caught:
        gateway_refund(caller=admin, transaction_id=txn.pk, reason="customer asked", at=LATER)
    assert (caught.value.code, caught.value.http_status) == ("GATEWAY_REFUND_PAYMENT_ACTIVE", 409)
    assert GatewayRefund.objects.count() == 0

    payment_cancel(caller=admin, payment_id=txn.payment_id, reason="refund asked", at=LATER)
    part = gateway_refund(caller=admin, transaction_id=txn.pk, reason="customer asked", at=LATER, amount=D("100"))
    assert (part.status, part.amount) == ("SUCCESS", D("100.00"))
    with pytest.raises(DomainError) as caught:
        gateway_refund(caller=admin, transaction_id=txn.pk, reason="too much", at=LATER, amount=D("1000.01"))
    assert caught.value.code == "GATEWAY_REFUND_AMOUNT_INVALID"
    rest = gateway_refund(caller=admin, transaction_id=txn.pk, reason="the rest", at=LATER)
    assert (rest.status, rest.amount) == ("SUCCESS", D("1000.00"))
    assert GatewayTransaction.objects.get(pk=txn.pk).refunded_amount == D("1100.00")
    assert Payment.objects.get().status == "CANCELLED"


def test_only_success_refunds_and_only_billing_admins(
    payer: Caller, cashier: Caller, admin: Caller, bill: Bill, sandbox: RunningSandbox
) -> None:
    txn = gateway_payment_initiate(caller=payer, bill_id=bill.pk, amount=D("1100"), at=PAY_AT)
    with pytest.raises(DomainError) as caught:
        gateway_refund(caller=admin, transaction_id=txn.pk, reason="x", at=LATER)
    assert (caught.value.code, caught.value.http_status) == ("GATEWAY_REFUND_NOT_ALLOWED", 409)
    with pytest.raises(PermissionDeniedError):
        gateway_refund(caller=cashier, transaction_id=txn.pk, reason="x", at=LATER)
    with pytest.raises(DomainError) as caught:
        gateway_refund(caller=admin, transaction_id=txn.pk, reason="  ", at=LATER)
    assert caught.value.code == "GATEWAY_REFUND_REASON_REQUIRED"
    assert GatewayRefund.objects.count() == 0


def test_a_lost_refund_answer_is_resent_by_the_reconciler_and_refunds_once(
    payer: Caller, cashier: Caller, admin: Caller, bill: Bill, sandbox: RunningSandbox, settings: Any
) -> None:
    txn = unapplied(payer, cashier, bill, sandbox)
    settings.PAYMENT_GATEWAY_CALL_ATTEMPTS = 1
    sandbox.faults(error_after_rate=1.0)  # the gateway refunds, the answer is lost

    refund = gateway_refund(caller=admin, transaction_id=txn.pk, reason="paid twice", at=LATER)
    assert (refund.status, refund.error) == (RefundStatus.REQUESTED, "gateway answered 502: bad_gateway")

    sandbox.faults(error_after_rate=0.0)
    report = gateway_reconcile(at=LATER + dt.timedelta(minutes=30))
    refund.refresh_from_db()
    assert report == ReconcileReport(checked=0, settled=0, still_open=0, errors=0, refunds_resent=1)
    assert refund.status == RefundStatus.SUCCESS
    assert len(sandbox.state()["refunds"]) == 1  # the same key: the gateway refunded once
    assert GatewayTransaction.objects.get(pk=txn.pk).refunded_amount == D("1100.00")
