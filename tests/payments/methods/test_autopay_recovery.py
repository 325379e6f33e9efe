"""Autopay charges when things go wrong: the gateway's answer is lost, our worker dies mid-attempt, the
mandate or method changes before the attempt, staff retry by hand; and the Celery tasks and beat schedules."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django_celery_beat.models import PeriodicTask

from billing_project import clock
from billing_project.errors import DomainError
from masters.access import caller_for
from masters.models import Role
from payments.gateway.models import GatewayTransaction
from payments.gateway.services import gateway_transaction_poll
from payments.methods import tasks
from payments.methods.models import AutopayCharge, PaymentMethod
from payments.methods.services import (
    autopay_charge_retry_now,
    autopay_charge_run,
    autopay_charges_sync,
    autopay_mandate_revoke,
    autopay_retries_due,
)
from payments.models import Payment
from tests.concurrency import run_together
from tests.payments.methods.conftest import (
    APPROVE,
    BILL_AT,
    DAY,
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


def test_a_lost_gateway_answer_leaves_the_charge_in_progress_until_the_transaction_settles(autopay, sandbox):
    _, bill, charge, _ = autopay(APPROVE)
    sandbox.faults(error_after_rate=1.0, seed=1)  # the sandbox charges, then answers 502

    running = autopay_charge_run(charge_id=charge.pk, at=RUN_AT)

    txn = GatewayTransaction.objects.get()
    assert (running.status, running.attempt, running.gateway_transaction_id, txn.status) == (
        "IN_PROGRESS",
        1,
        txn.pk,
        "UNKNOWN",
    )
    assert txn.pk == running.attempt_reference  # the id the marker chose: how recovery finds the attempt
    assert autopay_retries_due(at=RUN_AT + dt.timedelta(minutes=1)) == []  # nothing to retry: still open
    assert charge_row(charge)[:2] == ("IN_PROGRESS", 1)

    sandbox.faults(error_after_rate=0.0)
    later = RUN_AT + dt.timedelta(minutes=20)
    assert gateway_transaction_poll(transaction_id=txn.pk, at=later).status == "SUCCESS"
    assert autopay_charges_sync(at=later) == 1

    charge.refresh_from_db()
    assert (charge.status, charge.attempt, charge.finished_at) == ("SUCCEEDED", 1, later)
    assert Payment.objects.get().total_amount_paid == D("1000.00")
    assert GatewayTransaction.objects.count() == 1  # never charged twice


def test_an_attempt_that_died_before_the_gateway_service_stored_anything_is_retried_without_counting(autopay):
    _, _, charge, _ = autopay(APPROVE)
    # A worker committed the IN_PROGRESS marker and died before calling the gateway service.
    AutopayCharge.objects.filter(pk=charge.pk).update(status="IN_PROGRESS", attempt=1, last_attempt_at=RUN_AT)

    assert autopay_charges_sync(at=RUN_AT + dt.timedelta(minutes=14)) == 0  # within AUTOPAY_LOST_ATTEMPT_SECONDS
    lost_at = RUN_AT + dt.timedelta(minutes=15)
    assert autopay_retries_due(at=lost_at) == [charge.pk]
    assert charge_row(charge) == ("FAILED", 0, lost_at, "ATTEMPT_LOST")

    done = autopay_charge_run(charge_id=charge.pk, at=lost_at)
    assert (done.status, done.attempt) == ("SUCCEEDED", 1)
    assert Payment.objects.count() == 1


def test_an_attempt_that_died_after_the_gateway_service_stored_its_transaction_adopts_it(autopay):
    from payments.gateway.services import gateway_payment_initiate
    from payments.methods.services.charge import autopay_caller

    method, bill, charge, token = autopay(APPROVE)
    reference = uuid.uuid4()
    AutopayCharge.objects.filter(pk=charge.pk).update(
        status="IN_PROGRESS", attempt=1, last_attempt_at=RUN_AT, attempt_reference=reference
    )
    # The gateway call went through (with the id the marker chose); our worker died before recording it.
    txn = gateway_payment_initiate(
        caller=autopay_caller("pb.amritsar"),
        bill_id=bill.pk,
        amount=D("1000"),
        payment_method_token=token["token"],
        payment_method_id=method.pk,
        transaction_id=reference,
        at=RUN_AT,
    )
    assert txn.pk == reference

    assert autopay_charges_sync(at=RUN_AT + dt.timedelta(minutes=15)) == 1

    charge.refresh_from_db()
    assert (charge.status, charge.attempt, charge.gateway_transaction_id) == ("SUCCEEDED", 1, txn.pk)
    assert autopay_retries_due(at=RUN_AT + DAY) == []
    assert (GatewayTransaction.objects.count(), Payment.objects.count()) == (1, 1)


def test_a_mandate_switched_off_or_a_method_flagged_before_the_attempt_stops_it(autopay, asha):
    _, _, first, _ = autopay(APPROVE)
    _, _, second, _ = autopay(SOFT)
    autopay_charge_run(charge_id=second.pk, at=RUN_AT)  # FAILED, retry in 3 days

    autopay_mandate_revoke(caller=asha, mandate_id=second.mandate_id, at=RUN_AT + DAY)
    PaymentMethod.objects.filter(pk=first.mandate.payment_method_id).update(flagged_at=RUN_AT, flag_reason="x")

    assert charge_row(second) == ("CANCELLED", 1, None, "MANDATE_REVOKED")
    done = autopay_charge_run(charge_id=first.pk, at=RUN_AT)
    assert (done.status, done.attempt, done.failure_code) == ("GAVE_UP", 0, "PAYMENT_METHOD_NOT_USABLE")
    assert GatewayTransaction.objects.count() == 1  # only the soft decline's
    assert Payment.objects.count() == 0


def test_staff_retry_a_failed_charge_now(autopay, sandbox, user_factory, asha):
    _, _, charge, token = autopay(SOFT)
    autopay_charge_run(charge_id=charge.pk, at=RUN_AT)
    sandbox.fund(token["token"])
    employee = caller_for(user_factory("emp-2", {"pb.amritsar": [Role.EMPLOYEE]}))
    now = RUN_AT + dt.timedelta(hours=2)

    with pytest.raises(DomainError) as err:
        autopay_charge_retry_now(caller=asha, charge_id=charge.pk, at=now)
    assert err.value.code == "PERMISSION_DENIED"
    done = autopay_charge_retry_now(caller=employee, charge_id=charge.pk, at=now)

    assert (done.status, done.attempt, done.finished_at) == ("SUCCEEDED", 2, now)
    with pytest.raises(DomainError) as err:
        autopay_charge_retry_now(caller=employee, charge_id=charge.pk, at=now)
    assert (err.value.code, err.value.http_status) == ("AUTOPAY_CHARGE_NOT_RETRYABLE", 409)
    assert Payment.objects.count() == 1


def test_tasks_schedule_charge_and_retry_in_process(autopay, sandbox, asha, asha_payer, employee):
    token = tokenise(sandbox, SOFT)
    method = register(asha, token["token"], label=token["label"])
    code = next_consumer()
    make_demands(employee, demand_of(asha_payer, code, "700"))
    opt_in(asha, method, code, at=MANDATE_AT)
    fetch_bill(employee, code, at=BILL_AT)

    with clock.frozen(RUN_AT):
        assert tasks.schedule_autopay.delay().get() == 1  # eager: the queued charge ran too
    charge = AutopayCharge.objects.get()
    assert charge_row(charge) == ("FAILED", 1, RUN_AT + 3 * DAY, "insufficient_funds")
    sandbox.fund(token["token"])
    with clock.frozen(RUN_AT + 3 * DAY):
        assert tasks.retry_due.delay().get() == 1
        assert tasks.charge.delay(charge_id=str(charge.pk)).get() == "SUCCEEDED"  # a duplicate delivery: no-op
    assert charge_row(charge)[:2] == ("SUCCEEDED", 2)
    assert Payment.objects.count() == 1


def test_beat_schedules_exist_and_name_the_tasks(db):
    assert sorted(
        PeriodicTask.objects.filter(task__startswith="payments.methods.").values_list(
            "name", "task", "interval__every", "interval__period", "enabled"
        )
    ) == [
        ("Autopay: retry failed charges", "payments.methods.retry_due", 1, "hours", True),
        ("Autopay: schedule new bills", "payments.methods.schedule_autopay", 15, "minutes", True),
    ]
    assert {tasks.schedule_autopay.name, tasks.charge.name, tasks.retry_due.name} == {
        "payments.methods.schedule_autopay",
        "payments.methods.charge",
        "payments.methods.retry_due",
    }
    assert all(task.acks_late for task in (tasks.schedule_autopay, tasks.charge, tasks.retry_due))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_running_one_charge_at_once_charge_it_once(autopay):
    _, _, charge, _ = autopay(APPROVE)

    outcomes = run_together([lambda: str(autopay_charge_run(charge_id=charge.pk, at=RUN_AT).status)] * 2)

    # The loser saw the winner's marker (IN_PROGRESS) or, if it came late, its outcome; never a second attempt.
    assert "SUCCEEDED" in outcomes, outcomes
    assert set(outcomes) <= {"IN_PROGRESS", "SUCCEEDED"}, outcomes
    assert charge_row(charge)[:2] == ("SUCCEEDED", 1)
    assert (GatewayTransaction.objects.count(), Payment.objects.count()) == (1, 1)
