"""Jobs never lost (issue 11 point 3): a billing run's task goes through the outbox with the run row; with the
broker down the run is accepted and runs once the broker is back; runs whose task was lost are submitted again."""

from __future__ import annotations

import ast
import datetime as dt
import time
from typing import Any

import pytest

from billing_project import clock
from billing_project.outbox import OutboxMessage, OutboxStatus
from billing_project.outbox.tasks import outbox_sweep
from bills.models import Bill, BillingRun, BillStatus, RunStatus
from bills.services import billing_run_create, billing_runs_resubmit_stale, run_subject
from bills.tasks import execute_billing_run, resubmit_stale_runs
from masters.models import Role
from tests.bills.conftest import AT
from tests.bills.test_bulk_runs import SYSTEM, consumers
from tests.concurrency import rows_locked_elsewhere
from tests.outage import celery_broker, closed_port

RUNS = "/api/v1/billing-runs/"


def _run_queued_task(queued: dict[str, Any]) -> Any:
    """Do what a worker does with a task taken from the broker (here, in this process)."""
    assert queued["task"] == "bills.execute_billing_run"
    return execute_billing_run.apply(kwargs=ast.literal_eval(queued["kwargsrepr"]), task_id=queued["id"]).get()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_rest_create_with_the_broker_down_answers_accepted_and_the_run_runs_when_it_is_back(
    employee, api_client_for, redis_broker
):
    with clock.frozen(AT):
        consumers(employee, 3)
    client = api_client_for("admin-asr", {"pb.amritsar": [Role.BILLING_ADMIN]})
    with clock.frozen(AT), celery_broker(f"redis://127.0.0.1:{closed_port()}/0"):
        started = time.monotonic()
        response = client.post(RUNS, {"tenant": "pb.amritsar", "business_service": "PT"}, format="json")
        elapsed = time.monotonic() - started

    assert response.status_code == 201, response.content
    assert elapsed < 5  # the refused broker costs the request a fraction of a second, and no 500
    run = BillingRun.objects.get()
    assert (response.json()["id"], response.json()["status"]) == (run.pk, "PENDING")  # accepted, will run
    message = OutboxMessage.objects.get(subject=run_subject(run.pk))
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert redis_broker() == []

    with clock.frozen(message.next_attempt_at):  # the broker is back: the minute's sweep hands the job over
        assert outbox_sweep()["delivered"] == 1
    [queued] = redis_broker()
    assert queued["id"] == str(message.pk)
    with clock.frozen(AT + dt.timedelta(minutes=5)):
        assert _run_queued_task(queued) == RunStatus.COMPLETED
    run.refresh_from_db()
    assert (run.status, run.bills_created) == (RunStatus.COMPLETED, 3)
    assert Bill.objects.filter(run=run, status=BillStatus.ACTIVE).count() == 3


@pytest.mark.django_db
def test_runs_whose_task_was_lost_are_submitted_again_once_per_period(employee, settings):
    settings.JOB_RESUBMIT_AFTER_SECONDS = 300
    with clock.frozen(AT):
        consumers(employee, 2)
        lost = billing_run_create(caller=SYSTEM, tenant_code="pb.amritsar", business_service="PT", at=AT)
        running = billing_run_create(caller=SYSTEM, tenant_code="pb.amritsar", business_service="PT", at=AT)
        done = billing_run_create(caller=SYSTEM, tenant_code="pb.amritsar", business_service="PT", at=AT)
    BillingRun.objects.filter(pk=running.pk).update(status=RunStatus.RUNNING, updated_at=AT + dt.timedelta(minutes=4))
    BillingRun.objects.filter(pk=done.pk).update(status=RunStatus.COMPLETED)

    early = AT + dt.timedelta(seconds=299)
    assert billing_runs_resubmit_stale(at=early) == 0  # nothing is stale yet

    at = AT + dt.timedelta(seconds=301)
    assert billing_runs_resubmit_stale(at=at) == 1
    period = int(at.timestamp() // 300)
    [message] = OutboxMessage.objects.filter(subject=run_subject(lost.pk))
    assert (message.destination, message.payload, message.dedupe_key, message.tenant_code) == (
        "bills.execute_billing_run",
        {"run_id": lost.pk},
        f"bills.billingrun:{lost.pk}:resubmit:{period}",
        "pb.amritsar",
    )
    assert billing_runs_resubmit_stale(at=at) == 0  # the same sweep again: nothing new

    # Next period: the message is still undelivered (the outbox is retrying it): no pile-up behind it.
    later = at + dt.timedelta(seconds=300)
    assert billing_runs_resubmit_stale(at=later) == 1  # only the RUNNING run that stopped moving meanwhile
    assert OutboxMessage.objects.filter(subject=run_subject(lost.pk)).count() == 1
    assert OutboxMessage.objects.filter(subject=run_subject(running.pk)).count() == 1
    # Handed over but lost with the broker or a worker: submitted again in the next period.
    OutboxMessage.objects.update(status=OutboxStatus.DELIVERED, delivered_at=later)
    with clock.frozen(later + dt.timedelta(seconds=300)):
        assert resubmit_stale_runs.run() == 2
    assert OutboxMessage.objects.filter(subject=run_subject(lost.pk)).count() == 2
    assert not OutboxMessage.objects.filter(subject=run_subject(done.pk)).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_row_is_locked_by_a_running_chunk_is_not_submitted_again(employee, settings):
    settings.JOB_RESUBMIT_AFTER_SECONDS = 300
    with clock.frozen(AT):
        consumers(employee, 1)
        run = billing_run_create(caller=SYSTEM, tenant_code="pb.amritsar", business_service="PT", at=AT)
    with rows_locked_elsewhere(BillingRun.objects.filter(pk=run.pk)):
        assert billing_runs_resubmit_stale(at=AT + dt.timedelta(minutes=6)) == 0
    assert billing_runs_resubmit_stale(at=AT + dt.timedelta(minutes=6)) == 1
