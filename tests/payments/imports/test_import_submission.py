"""Jobs never lost (issue 11 point 3): an import run's task goes through the outbox with the run row; with the
broker down the upload is accepted (QUEUED) and runs once the broker is back; lost tasks are submitted again."""

from __future__ import annotations

import ast
import datetime as dt
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billing_project import clock
from billing_project.outbox import OutboxMessage, OutboxStatus
from billing_project.outbox.tasks import outbox_sweep
from masters.models import Role
from payments.imports import tasks
from payments.imports.models import ImportRun, ImportStatus
from payments.imports.services import import_runs_resubmit_stale, run_subject
from payments.models import Payment
from tests.outage import celery_broker, closed_port
from tests.payments.conftest import CITY, PAY_AT, line, make_bill, pt_demand
from tests.payments.imports.conftest import counts, create_run, offline_csv

URL = "/api/v1/payment-imports/"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_an_upload_with_the_broker_down_is_accepted_and_runs_when_the_broker_is_back(
    employee, api_client_for, redis_broker
):
    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))
    client = api_client_for("cashier-api", {CITY: [Role.CASHIER]})
    upload = SimpleUploadedFile("april.csv", offline_csv("PT-1,PT,1000,CASH,R-1,2024-05-01"), content_type="text/csv")
    with celery_broker(f"redis://127.0.0.1:{closed_port()}/0"):
        started = time.monotonic()
        response = client.post(URL, {"kind": "OFFLINE_COLLECTIONS", "tenant": CITY, "file": upload}, format="multipart")
        elapsed = time.monotonic() - started

    assert response.status_code == 201, response.content
    assert elapsed < 5
    run = ImportRun.objects.get()
    assert response.json()["status"] == "QUEUED"  # accepted, will run
    message = OutboxMessage.objects.get(subject=run_subject(run.pk))
    assert (message.status, message.attempts, message.payload) == (OutboxStatus.PENDING, 1, {"run_id": str(run.pk)})

    with clock.frozen(message.next_attempt_at):  # the broker is back
        assert outbox_sweep()["delivered"] == 1
    [queued] = redis_broker()
    assert (queued["task"], queued["id"]) == ("payments.imports.execute_run", str(message.pk))
    kwargs = ast.literal_eval(queued["kwargsrepr"])
    assert tasks.execute_run.apply(kwargs=kwargs, task_id=queued["id"]).get() == ImportStatus.DONE
    assert counts(run) == (ImportStatus.DONE, 1, 1, 1, 0, 0)
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_import_runs_whose_task_was_lost_are_submitted_again_once_per_period(employee, importer, settings):
    settings.JOB_RESUBMIT_AFTER_SECONDS = 300
    lost = create_run(importer, offline_csv("PT-1,PT,1000,CASH,R-1,2024-05-01"), at=PAY_AT)
    done = create_run(importer, offline_csv("PT-2,PT,1000,CASH,R-2,2024-05-01"), at=PAY_AT)
    ImportRun.objects.filter(pk=done.pk).update(status=ImportStatus.DONE)

    assert import_runs_resubmit_stale(at=PAY_AT + dt.timedelta(seconds=299)) == 0
    at = PAY_AT + dt.timedelta(seconds=301)
    assert import_runs_resubmit_stale(at=at) == 1
    assert import_runs_resubmit_stale(at=at) == 0
    [message] = OutboxMessage.objects.filter(subject=run_subject(lost.pk))
    assert (message.destination, message.payload, message.dedupe_key) == (
        "payments.imports.execute_run",
        {"run_id": str(lost.pk)},
        f"payment_imports.importrun:{lost.pk}:resubmit:{int(at.timestamp() // 300)}",
    )
    later: Any = at + dt.timedelta(seconds=300)
    assert import_runs_resubmit_stale(at=later) == 0  # still undelivered: the outbox is on it
    OutboxMessage.objects.update(status=OutboxStatus.DELIVERED, delivered_at=later)
    with clock.frozen(later):
        assert tasks.resubmit_stale_runs.run() == 1
    assert OutboxMessage.objects.filter(subject=run_subject(lost.pk)).count() == 2
    assert not OutboxMessage.objects.filter(subject=run_subject(done.pk)).exists()
