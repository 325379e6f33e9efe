"""Done when: a crash between gateway success and our commit is recovered by reconciliation.

The gateway takes the money while we learn nothing of it: every answer to our initiate call is lost after the
gateway did the work (``error_after_rate`` 1: 502s), so our row is UNKNOWN with no gateway id and no checkout
URL; the payer approves at the gateway; the callback cannot reach us. Reconciliation finds the transaction by
our merchant reference and records exactly one Payment. A callback that arrives late changes nothing more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from bills.models import Bill, BillStatus
from masters.access import Caller
from payments.gateway import tasks
from payments.gateway.models import AttemptKind, AttemptOutcome, CallbackOutcome, GatewayCallback, TransactionStatus
from payments.gateway.services import gateway_payment_initiate
from payments.models import Payment
from tests.payments.conftest import lines_of
from tests.sandbox_gateway import CallbackReceiver, RunningSandbox

from .conftest import PAY_AT, D, at, sandbox_ids

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def initiate_with_lost_answers(sandbox: RunningSandbox, payer: Caller, bill: Bill) -> tuple[str, str]:
    """Initiate while every answer is lost; the payer approves at the gateway. (our id, gateway id)"""
    sandbox.faults(error_after_rate=1)
    with at(PAY_AT):
        txn = gateway_payment_initiate(caller=payer, bill_id=bill.pk, amount=D("1100"), at=PAY_AT)
    sandbox.faults(error_after_rate=0)
    assert (txn.status, txn.gateway_transaction_id, txn.checkout_url) == (TransactionStatus.UNKNOWN, None, "")
    assert (
        list(txn.attempts.values_list("kind", "outcome", "http_status"))
        == [(AttemptKind.INITIATE, AttemptOutcome.TRANSIENT, 502)] * 3
    )
    [at_gateway] = sandbox_ids(sandbox)[txn.merchant_reference]  # the retries did not create a second one
    sandbox.approve(at_gateway["id"])
    return str(txn.pk), at_gateway["id"]


def test_reconciliation_records_the_payment_the_gateway_took_while_we_heard_nothing(
    sandbox: RunningSandbox, flow_settings: object, payer: Caller, make_pt_bill: Callable[[], Bill]
) -> None:
    dead = CallbackReceiver()
    flow_settings.PAYMENT_GATEWAY_CALLBACK_BASE_URL = dead.base_url  # type: ignore[attr-defined]
    dead.close()  # our callback endpoint is unreachable
    bill = make_pt_bill()
    txn_id, gateway_id = initiate_with_lost_answers(sandbox, payer, bill)
    with at(PAY_AT + dt.timedelta(minutes=1)):
        assert sandbox.deliver_callbacks() == {"delivered": 0, "failed": 1, "dropped": 0}
    assert Payment.objects.count() == 0

    with at(PAY_AT + dt.timedelta(minutes=20)):
        report = tasks.reconcile.delay().get()
    assert report == {"checked": 1, "settled": 1, "still_open": 0, "errors": 0, "refunds_resent": 0}

    payment = Payment.objects.get()
    txn = payment.gateway_transaction
    assert (str(txn.pk), txn.status, txn.verdict_source, txn.gateway_transaction_id, txn.needs_attention) == (
        txn_id,
        TransactionStatus.SUCCESS,
        "RECONCILE",
        gateway_id,
        False,
    )
    assert (payment.total_amount_paid, payment.payment_mode, payment.transaction_number) == (
        D("1100.00"),
        "ONLINE",
        gateway_id,
    )
    assert payment.details.get().receipt_number == "PT/AMRITSAR/2024-25/000001"
    assert lines_of(bill.consumer_code) == [
        ("PT_FIRE_CESS", D("100.00"), D("100.00")),
        ("PT_TAX", D("1000.00"), D("1000.00")),
    ]
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.PAID

    # Again: nothing left to settle, still one Payment.
    with at(PAY_AT + dt.timedelta(minutes=40)):
        assert tasks.reconcile.delay().get()["checked"] == 0
        assert tasks.poll_due.delay().get() == 0
    assert Payment.objects.count() == 1


def test_a_callback_arriving_after_reconciliation_changes_nothing(
    sandbox: RunningSandbox, payer: Caller, make_pt_bill: Callable[[], Bill]
) -> None:
    bill = make_pt_bill()
    txn_id, gateway_id = initiate_with_lost_answers(sandbox, payer, bill)  # its callback waits in the queue

    with at(PAY_AT + dt.timedelta(minutes=3)):  # an UNKNOWN row is reconciled at once (no grace period)
        assert tasks.reconcile.delay().get()["settled"] == 1
    payment = Payment.objects.get()

    with at(PAY_AT + dt.timedelta(minutes=4)):
        assert sandbox.deliver_callbacks() == {"delivered": 1, "failed": 0, "dropped": 0}
    [callback] = GatewayCallback.objects.all()
    assert (callback.outcome, callback.signature_valid, str(callback.transaction_id)) == (
        CallbackOutcome.DUPLICATE,
        True,
        txn_id,
    )
    assert list(Payment.objects.values_list("pk", "transaction_number")) == [(payment.pk, gateway_id)]


def test_a_token_charge_whose_answers_were_lost_is_recovered_and_a_hard_decline_is_not_retried(
    sandbox: RunningSandbox, payer: Caller, make_pt_bill: Callable[[], Bill]
) -> None:
    """A saved card charged while every answer is lost (the gateway charged it): reconciliation records the
    one Payment. A hard-declining card: FAILURE at once, one call, no Payment, nothing left to reconcile."""
    with sandbox.merchant_client() as client:
        good, bad = (
            client.post("/v1/tokens", json={"card_number": number, "expiry_month": 12, "expiry_year": 2030}).json()[
                "token"
            ]
            for number in ("4242424242424242", "4000000000000002")
        )
    paid_bill, declined_bill = make_pt_bill(), make_pt_bill()
    sandbox.faults(error_after_rate=1)
    with at(PAY_AT):
        lost = gateway_payment_initiate(
            caller=payer, bill_id=paid_bill.pk, amount=D("1100"), payment_method_token=good, at=PAY_AT
        )
    sandbox.faults(error_after_rate=0)
    with at(PAY_AT):
        declined = gateway_payment_initiate(
            caller=payer, bill_id=declined_bill.pk, amount=D("1100"), payment_method_token=bad, at=PAY_AT
        )
    assert (lost.status, lost.gateway_transaction_id) == (TransactionStatus.UNKNOWN, None)
    assert (declined.status, declined.failure_code, declined.decline_type, declined.payment_id) == (
        TransactionStatus.FAILURE,
        "card_declined",
        "HARD",
        None,
    )
    assert list(declined.attempts.values_list("kind", "outcome", "http_status")) == [
        (AttemptKind.CHARGE, AttemptOutcome.OK, 201)
    ]
    [charged] = sandbox_ids(sandbox)[lost.merchant_reference]
    assert charged["status"] == "SUCCESS"

    with at(PAY_AT + dt.timedelta(minutes=5)):
        assert tasks.reconcile.delay().get() == {
            "checked": 1,
            "settled": 1,
            "still_open": 0,
            "errors": 0,
            "refunds_resent": 0,
        }
    payment = Payment.objects.get()
    assert (payment.total_amount_paid, payment.transaction_number) == (D("1100.00"), charged["id"])
    assert payment.details.get().bill_id == paid_bill.pk
    lost.refresh_from_db()
    assert (lost.status, lost.payment_id, lost.verdict_source) == (TransactionStatus.SUCCESS, payment.pk, "RECONCILE")
