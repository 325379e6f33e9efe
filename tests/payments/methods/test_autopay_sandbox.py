"""Autopay charges through the real sandbox gateway (a local HTTP server started by the test).

Tokens come from the sandbox's ``POST /v1/tokens`` (its stand-in for a hosted tokenisation page):
4242424242424242 approves, 4000000000000002 declines hard (``card_declined``), 4000000000009995 declines soft
(``insufficient_funds``) until ``/_sandbox/tokens/{token}/fund``. The retry schedule is the default
``[3, 3, 3]``: three retries, three days after each failure.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bills.models import Bill, BillStatus
from payments.gateway.models import GatewayTransaction
from payments.methods.models import AutopayCharge, ChargeStatus
from payments.methods.services import autopay_charge_run, autopay_retries_due, autopay_schedule_due
from payments.models import Payment, PaymentDetail
from tests.payments.methods.conftest import (
    APPROVE,
    BILL_AT,
    DAY,
    HARD,
    MANDATE_AT,
    RUN_AT,
    SOFT,
    charge_row,
    demand_of,
    fetch_bill,
    make_demands,
    next_consumer,
    opt_in,
    register,
    tokenise,
)

D = Decimal


def test_an_approved_autopay_creates_exactly_one_payment(autopay):
    method, bill, charge, token = autopay(APPROVE)
    assert token["label"] == "VISA •••• 4242"

    done = autopay_charge_run(charge_id=charge.pk, at=RUN_AT)
    again = autopay_charge_run(charge_id=charge.pk, at=RUN_AT + dt.timedelta(minutes=1))  # a redelivered task

    assert (done.status, done.attempt, done.next_retry_at, done.failure_code, done.finished_at) == (
        ChargeStatus.SUCCEEDED,
        1,
        None,
        "",
        RUN_AT,
    )
    assert again.status == ChargeStatus.SUCCEEDED
    txn = GatewayTransaction.objects.get()
    assert (txn.status, txn.kind, txn.amount, txn.payment_method_id, done.gateway_transaction_id) == (
        "SUCCESS",
        "TOKEN_CHARGE",
        D("1000.00"),
        method.pk,
        txn.pk,
    )
    payment = Payment.objects.get()
    assert (payment.payment_mode, payment.total_amount_paid, payment.status) == ("ONLINE", D("1000.00"), "DEPOSITED")
    assert list(PaymentDetail.objects.values_list("bill_id", "total_amount_paid")) == [(bill.pk, D("1000.00"))]
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.PAID
    assert autopay_schedule_due(at=RUN_AT + DAY).scheduled == []  # the paid bill is not charged again


def test_soft_declines_retry_three_days_apart_then_give_up(autopay):
    method, bill, charge, _ = autopay(SOFT)

    assert charge_row(autopay_charge_run(charge_id=charge.pk, at=RUN_AT)) == (
        "FAILED", 1, RUN_AT + 3 * DAY, "insufficient_funds"
    )  # fmt: skip
    # Nothing is due before the retry date; running it early changes nothing.
    assert autopay_retries_due(at=RUN_AT + 3 * DAY - dt.timedelta(seconds=1)) == []
    assert charge_row(autopay_charge_run(charge_id=charge.pk, at=RUN_AT + DAY))[:2] == ("FAILED", 1)

    expected = [
        (RUN_AT + 3 * DAY, ("FAILED", 2, RUN_AT + 6 * DAY, "insufficient_funds")),
        (RUN_AT + 6 * DAY, ("FAILED", 3, RUN_AT + 9 * DAY, "insufficient_funds")),
        (RUN_AT + 9 * DAY, ("GAVE_UP", 4, None, "insufficient_funds")),
    ]
    for at, row in expected:
        assert autopay_retries_due(at=at) == [charge.pk]
        assert charge_row(autopay_charge_run(charge_id=charge.pk, at=at)) == row

    assert autopay_retries_due(at=RUN_AT + 30 * DAY) == []
    assert GatewayTransaction.objects.filter(status="FAILURE").count() == 4
    assert Payment.objects.count() == 0
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.ACTIVE
    method.refresh_from_db()
    assert (method.status, method.flagged_at) == ("ACTIVE", None)  # soft declines do not flag the method
    assert AutopayCharge.objects.get(pk=charge.pk).mandate.active is True


def test_a_hard_decline_is_never_retried_and_flags_the_method(autopay):
    method, bill, charge, _ = autopay(HARD)

    assert charge_row(autopay_charge_run(charge_id=charge.pk, at=RUN_AT)) == ("GAVE_UP", 1, None, "card_declined")

    assert autopay_retries_due(at=RUN_AT + 30 * DAY) == []
    assert charge_row(autopay_charge_run(charge_id=charge.pk, at=RUN_AT + 3 * DAY))[:2] == ("GAVE_UP", 1)
    assert GatewayTransaction.objects.count() == 1
    method.refresh_from_db()
    assert (method.flagged_at, method.flag_reason) == (RUN_AT, "card_declined")
    assert Payment.objects.count() == 0


def test_a_retry_after_funding_succeeds(autopay, sandbox):
    _, bill, charge, token = autopay(SOFT)
    autopay_charge_run(charge_id=charge.pk, at=RUN_AT)

    sandbox.fund(token["token"])
    retry_at = RUN_AT + 3 * DAY
    assert autopay_retries_due(at=retry_at) == [charge.pk]
    done = autopay_charge_run(charge_id=charge.pk, at=retry_at)

    assert (done.status, done.attempt, done.next_retry_at) == ("SUCCEEDED", 2, None)
    assert list(GatewayTransaction.objects.order_by("created_at").values_list("status", flat=True)) == [
        "FAILURE",
        "SUCCESS",
    ]
    payment = Payment.objects.get()
    assert (payment.total_amount_paid, list(payment.details.values_list("bill_id", flat=True))) == (
        D("1000.00"),
        [bill.pk],
    )


def test_a_bill_paid_at_the_counter_meanwhile_cancels_the_retry(autopay, employee, user_factory):
    from masters.access import caller_for
    from masters.models import Role
    from payments.services import PaymentDetailInput, PaymentInput, payment_create

    _, bill, charge, _ = autopay(SOFT)
    autopay_charge_run(charge_id=charge.pk, at=RUN_AT)
    cashier = caller_for(user_factory("cashier", {"pb.amritsar": [Role.CASHIER]}))
    payment_create(
        caller=cashier,
        payment=PaymentInput(
            tenant_code="pb.amritsar",
            payment_mode="CASH",
            total_due=D("1000"),
            total_amount_paid=D("1000"),
            details=(
                PaymentDetailInput(
                    bill_id=bill.pk, business_service="PT", total_due=D("1000"), total_amount_paid=D("1000")
                ),
            ),  # fmt: skip
            paid_by="Asha",
        ),
        at=RUN_AT + DAY,
    )

    done = autopay_charge_run(charge_id=charge.pk, at=RUN_AT + 3 * DAY)

    assert (done.status, done.attempt, done.failure_code, done.finished_at) == (
        "CANCELLED",
        1,
        "BILL_PAID",
        RUN_AT + 3 * DAY,
    )
    assert GatewayTransaction.objects.count() == 1
    assert Payment.objects.count() == 1


def test_an_expired_bill_is_replaced_by_the_current_one_and_the_attempt_count_continues(
    sandbox, asha, asha_payer, employee
):
    token = tokenise(sandbox, SOFT)
    method = register(asha, token["token"], label=token["label"], last4=token["last4"])
    code = next_consumer()
    make_demands(employee, demand_of(asha_payer, code, "1000", expiry=None))  # bills expire at the end of the day
    opt_in(asha, method, code, at=MANDATE_AT)
    first_bill = fetch_bill(employee, code, at=BILL_AT)
    [charge_id] = autopay_schedule_due(at=RUN_AT).scheduled
    autopay_charge_run(charge_id=charge_id, at=RUN_AT)
    sandbox.fund(token["token"])

    retry_at = RUN_AT + 3 * DAY
    done = autopay_charge_run(charge_id=charge_id, at=retry_at)

    old = AutopayCharge.objects.get(pk=charge_id)
    assert (old.status, old.failure_code, old.superseded_by_id) == ("CANCELLED", "SUPERSEDED", done.pk)
    new_bill = Bill.objects.get(pk=done.bill_id)
    assert new_bill.pk != first_bill.pk
    assert (new_bill.status, Bill.objects.get(pk=first_bill.pk).status) == ("PAID", "EXPIRED")
    assert (done.status, done.attempt, done.amount) == ("SUCCEEDED", 2, D("1000.00"))
    assert list(Payment.objects.values_list("details__bill_id", flat=True)) == [new_bill.pk]
