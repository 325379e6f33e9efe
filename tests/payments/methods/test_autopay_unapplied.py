"""Review finding 1: a gateway success whose money could not be applied (the bill went stale while the answer was
pending) blocks the consumer's autopay until staff refund it or apply it by hand — never a second charge."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing_project.errors import DomainError
from masters.access import caller_for
from masters.models import Role
from payments.gateway.models import GatewayTransaction
from payments.gateway.services import gateway_refund, gateway_transaction_poll
from payments.methods.models import AutopayCharge
from payments.methods.services import (
    autopay_charge_resolve,
    autopay_charge_run,
    autopay_charges_sync,
    autopay_schedule_due,
)
from payments.models import Payment
from tests.payments.methods.conftest import APPROVE, P2018, RUN_AT, demand_of, fetch_bill, make_demands

D = Decimal
T1 = RUN_AT + dt.timedelta(minutes=5)
T2 = RUN_AT + dt.timedelta(minutes=20)
T3 = T2 + dt.timedelta(minutes=5)


@pytest.fixture
def unapplied(autopay, sandbox, employee, asha_payer):
    """A 1000.00 charge whose answer was lost; a 200.00 demand made the bill stale; the poll then found the
    charge SUCCESS, which the stale bill could not take. Returns (charge, transaction, the new 1200.00 bill)."""
    _, bill, charge, _ = autopay(APPROVE)
    sandbox.faults(error_after_rate=1.0, seed=1)  # the sandbox charges, then answers 502
    autopay_charge_run(charge_id=charge.pk, at=RUN_AT)
    sandbox.faults(error_after_rate=0.0)
    make_demands(employee, demand_of(asha_payer, bill.consumer_code, "200", period=P2018), at=T1)
    txn = gateway_transaction_poll(transaction_id=GatewayTransaction.objects.get().pk, at=T2)
    assert (txn.status, txn.payment_id, txn.attention_reason) == ("SUCCESS", None, "UNAPPLIED")
    assert autopay_charges_sync(at=T2) == 1
    new_bill = fetch_bill(employee, bill.consumer_code, at=T3)
    assert new_bill.total_amount == D("1200.00")
    charge.refresh_from_db()
    return charge, txn, new_bill


def test_a_success_without_a_payment_blocks_the_consumers_autopay(unapplied):
    charge, txn, _ = unapplied

    assert (charge.status, charge.attempt, charge.failure_code, charge.failure_message, charge.finished_at) == (
        "UNAPPLIED",
        1,
        "UNAPPLIED",
        f"The gateway took 1000.00 ({txn.merchant_reference}) but no payment could be recorded: refund it or "
        "apply it by hand from the reconciliation queue",
        None,
    )
    result = autopay_schedule_due(at=T3 + dt.timedelta(minutes=1))
    assert (result.scheduled, result.skipped, result.to_charge) == ([], 1, [])
    assert AutopayCharge.objects.count() == 1  # the 1200.00 bill got no charge
    assert list(GatewayTransaction.objects.values_list("amount", "status")) == [(D("1000.00"), "SUCCESS")]
    assert Payment.objects.count() == 0


def test_a_full_refund_unblocks_it_and_the_current_bill_is_charged(unapplied, user_factory):
    charge, txn, new_bill = unapplied
    admin = caller_for(user_factory("billing-admin", {"pb.amritsar": [Role.BILLING_ADMIN]}))
    gateway_refund(caller=admin, transaction_id=txn.pk, reason="autopay money not applied", at=T3)

    assert autopay_charges_sync(at=T3) == 1
    charge.refresh_from_db()
    assert (charge.status, charge.failure_code, charge.failure_message, charge.finished_at) == (
        "CANCELLED",
        "REFUNDED",
        "The gateway refunded 1000.00 in full",
        T3,
    )
    result = autopay_schedule_due(at=T3 + dt.timedelta(minutes=1))
    [new] = result.scheduled
    done = autopay_charge_run(charge_id=new, at=T3 + dt.timedelta(minutes=2))
    assert (done.bill_id, done.amount, done.attempt, done.status) == (new_bill.pk, D("1200.00"), 1, "SUCCEEDED")
    assert Payment.objects.get().total_amount_paid == D("1200.00")


def test_billing_admins_resolve_a_manual_application(unapplied, user_factory, employee, asha):
    charge, _, _ = unapplied
    admin = caller_for(user_factory("billing-admin", {"pb.amritsar": [Role.BILLING_ADMIN]}))
    at = T3 + dt.timedelta(minutes=1)

    for caller in (employee, asha):
        with pytest.raises(DomainError) as err:
            autopay_charge_resolve(caller=caller, charge_id=charge.pk, at=at)
        assert err.value.code == "PERMISSION_DENIED"
    assert AutopayCharge.objects.get(pk=charge.pk).status == "UNAPPLIED"

    done = autopay_charge_resolve(caller=admin, charge_id=charge.pk, at=at)
    assert (done.status, done.failure_code, done.failure_message, done.finished_at) == (
        "SUCCEEDED",
        "",
        "Resolved by billing-admin: the money was applied by hand",
        at,
    )
    with pytest.raises(DomainError) as err:
        autopay_charge_resolve(caller=admin, charge_id=charge.pk, at=at)
    assert (err.value.code, err.value.http_status) == ("AUTOPAY_CHARGE_NOT_UNAPPLIED", 409)
    # Resolved: the consumer's current bill is charged again by the next run.
    assert len(autopay_schedule_due(at=at).scheduled) == 1
