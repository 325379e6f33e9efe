"""Billing runs in the admin: start one, its progress as JSON, cancel with a reason, resume — each a service
call written to the run's history; roles and tenants as in the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from billing_project import clock
from bills.models import Bill, BillingRun, RunStatus
from bills.services.runs import billing_run_advance, billing_run_create
from masters.access import Caller
from masters.models import Role
from tests.bills.conftest import AT, P2019, create, line, pt_demand

pytestmark = pytest.mark.django_db
RUNS = "/admin/bills/billingrun/"


def client_for(user_factory: Callable[..., Any], name: str, roles: dict[str, list[str]]) -> Client:
    user_factory(name, roles)
    client = Client()
    assert client.login(username=name, password="pw-" + name)
    return client


def three_consumers(employee: Caller) -> None:
    for i in range(3):
        create(employee, pt_demand(f"PT-A-{i}", period=P2019, details=(line("PT_TAX", "100"),)))


def test_start_a_run_from_the_admin_and_read_its_progress(
    employee: Caller, user_factory: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    three_consumers(employee)
    admin = client_for(user_factory, "runner", {"pb.amritsar": [Role.BILLING_ADMIN]})
    form = admin.get(f"{RUNS}start/")
    assert [c for c, _ in form.context["form"].fields["tenant"].choices] == ["pb.amritsar"]
    assert "PT" in [c for c, _ in form.context["form"].fields["business_service"].choices]
    with clock.frozen(AT), django_capture_on_commit_callbacks(execute=True):  # the outbox hands the task over
        started = admin.post(
            f"{RUNS}start/",
            {"tenant": "pb.amritsar", "business_service": "PT", "consumer_codes": "", "chunk_size": "2"},
        )
    run = BillingRun.objects.get()
    assert started["Location"] == f"{RUNS}{run.pk}/change/"
    progress = admin.get(f"{RUNS}{run.pk}/progress/").json()  # eager Celery: already finished
    assert {k: progress[k] for k in ("status", "finished", "total", "processed", "bills_created", "percent")} == {
        "status": "COMPLETED",
        "finished": True,
        "total": 3,
        "processed": 3,
        "bills_created": 3,
        "percent": 100.0,
    }
    page = admin.get(f"{RUNS}{run.pk}/change/").content.decode()
    assert 'id="run-bar" max="100" value="100.0"' in page
    assert "Completed" in page
    assert list(LogEntry.objects.values_list("change_message", flat=True)) == ["Started from the admin"]


def test_start_refuses_an_unknown_service_with_its_code(employee: Caller, user_factory: Callable[..., Any]) -> None:
    admin = client_for(user_factory, "runner", {"pb.amritsar": [Role.BILLING_ADMIN]})
    response = admin.post(f"{RUNS}start/", {"tenant": "pb.amritsar", "business_service": "NOPE", "chunk_size": "2"})
    assert response.status_code == 200
    assert "business_service" in response.context["form"].errors
    assert BillingRun.objects.count() == 0


def test_cancel_asks_for_a_reason_then_resume_finishes(
    employee: Caller, user_factory: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    three_consumers(employee)
    run = billing_run_create(caller=employee, tenant_code="pb.amritsar", business_service="PT", chunk_size=1, at=AT)
    with clock.frozen(AT):
        billing_run_advance(run_id=run.pk)
    clerk = client_for(user_factory, "clerk", {"pb.amritsar": [Role.EMPLOYEE]})
    page = clerk.get(f"{RUNS}{run.pk}/change/").content.decode()
    assert f'href="{RUNS}{run.pk}/cancel/" id="cancel-run"' in page
    assert clerk.get(f"{RUNS}{run.pk}/progress/").json()["processed"] == 1

    missing = clerk.post(f"{RUNS}{run.pk}/cancel/", {"reason": ""})
    assert "reason" in missing.context["form"].errors
    assert BillingRun.objects.get(pk=run.pk).status == RunStatus.RUNNING
    clerk.post(f"{RUNS}{run.pk}/cancel/", {"reason": "Wrong tariff"})
    assert BillingRun.objects.get(pk=run.pk).status == RunStatus.CANCELLED
    assert 'id="resume-run"' in clerk.get(f"{RUNS}{run.pk}/change/").content.decode()

    with clock.frozen(AT), django_capture_on_commit_callbacks(execute=True):
        clerk.post(f"{RUNS}{run.pk}/resume/")
    run.refresh_from_db()
    assert (run.status, run.bills_created, Bill.objects.count()) == (RunStatus.COMPLETED, 3, 3)
    history = list(LogEntry.objects.order_by("pk").values_list("change_message", flat=True))
    assert history == ["Cancelled — reason: Wrong tariff", "Resumed (was cancelled: Wrong tariff)"]


def test_an_approver_may_not_start_or_cancel_runs(employee: Caller, user_factory: Callable[..., Any]) -> None:
    three_consumers(employee)
    run = billing_run_create(caller=employee, tenant_code="pb.amritsar", business_service="PT", chunk_size=1, at=AT)
    approver = client_for(user_factory, "appr", {"pb.amritsar": [Role.AMENDMENT_APPROVER]})
    assert approver.get(f"{RUNS}start/").status_code == 403
    assert approver.post(f"{RUNS}{run.pk}/cancel/", {"reason": "x"}).status_code == 403
    other_city = client_for(user_factory, "jal", {"pb.jalandhar": [Role.BILLING_ADMIN]})
    assert other_city.get(f"{RUNS}{run.pk}/progress/").status_code == 404
    assert BillingRun.objects.get(pk=run.pk).status == RunStatus.PENDING
