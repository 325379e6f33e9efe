"""``billing_run_cancel`` and ``billing_run_resume``: stop a run after its chunk in progress, go on later from
its last committed chunk — every consumer billed once — with the run roles of the run's tenant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from billing_project import clock
from billing_project.errors import DomainError
from bills.models import Bill, BillingRun, RunStatus
from bills.services.runs import (
    STALLED_AFTER,
    billing_run_advance,
    billing_run_cancel,
    billing_run_create,
    billing_run_resume,
)
from masters.access import Caller, caller_for
from masters.models import Role
from tests.bills.conftest import AT, LATER, P2019, create, line, pt_demand

pytestmark = pytest.mark.django_db


def five_consumers(employee: Caller) -> None:
    for i in range(5):
        create(employee, pt_demand(f"PT-R-{i}", period=P2019, details=(line("PT_TAX", "100"),)))


def started_run(employee: Caller) -> BillingRun:
    five_consumers(employee)
    run = billing_run_create(caller=employee, tenant_code="pb.amritsar", business_service="PT", chunk_size=2, at=AT)
    with clock.frozen(AT):
        assert billing_run_advance(run_id=run.pk) is False
    return run


def test_cancel_stops_after_the_chunk_done_and_resume_bills_the_rest_once(
    employee: Caller, django_capture_on_commit_callbacks: Any
) -> None:
    run = started_run(employee)
    cancelled = billing_run_cancel(caller=employee, run_id=run.pk, reason="Wrong period", at=AT)
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_reason) == (
        RunStatus.CANCELLED,
        "emp-asr",
        "Wrong period",
    )
    with clock.frozen(AT):
        assert billing_run_advance(run_id=run.pk) is True  # a cancelled run does no more chunks
    assert Bill.objects.count() == 2

    with clock.frozen(AT), django_capture_on_commit_callbacks(execute=True):
        billing_run_resume(caller=employee, run_id=run.pk, at=AT)  # the outbox hands it to eager Celery: to the end
    resumed = BillingRun.objects.get(pk=run.pk)

    assert (resumed.status, resumed.processed, resumed.bills_created, resumed.skipped) == (RunStatus.COMPLETED, 5, 5, 0)
    assert (resumed.cancelled_by, resumed.cancel_reason, resumed.error) == ("", "", "")
    assert sorted(Bill.objects.values_list("consumer_code", flat=True)) == [f"PT-R-{i}" for i in range(5)]


def test_a_finished_run_cannot_be_cancelled_and_a_live_one_not_resumed(employee: Caller) -> None:
    run = started_run(employee)
    with pytest.raises(DomainError) as live:
        billing_run_resume(caller=employee, run_id=run.pk, at=AT)
    assert live.value.code == "BILLING_RUN_STATE"
    with pytest.raises(DomainError) as no_reason:
        billing_run_cancel(caller=employee, run_id=run.pk, reason="  ", at=AT)
    assert no_reason.value.code == "BILLING_RUN_REASON_REQUIRED"
    BillingRun.objects.filter(pk=run.pk).update(status=RunStatus.COMPLETED)
    with pytest.raises(DomainError) as done:
        billing_run_cancel(caller=employee, run_id=run.pk, reason="late", at=AT)
    assert done.value.code == "BILLING_RUN_STATE"
    assert BillingRun.objects.get(pk=run.pk).cancel_reason == ""


def test_a_stalled_run_can_be_resumed(employee: Caller, django_capture_on_commit_callbacks: Any) -> None:
    run = started_run(employee)
    with clock.frozen(AT + STALLED_AFTER), django_capture_on_commit_callbacks(execute=True):
        billing_run_resume(caller=employee, run_id=run.pk, at=AT + STALLED_AFTER + STALLED_AFTER / 10)
    resumed = BillingRun.objects.get(pk=run.pk)
    assert (resumed.status, resumed.bills_created) == (RunStatus.COMPLETED, 5)


def test_only_run_roles_of_the_runs_tenant(employee: Caller, user_factory: Callable[..., Any]) -> None:
    run = started_run(employee)
    approver = caller_for(user_factory("appr", {"pb.amritsar": [Role.AMENDMENT_APPROVER]}))
    other_city = caller_for(user_factory("jal", {"pb.jalandhar": [Role.BILLING_ADMIN]}))
    with pytest.raises(DomainError) as denied:
        billing_run_cancel(caller=approver, run_id=run.pk, reason="x", at=LATER)
    with pytest.raises(DomainError) as hidden:
        billing_run_cancel(caller=other_city, run_id=run.pk, reason="x", at=LATER)
    assert (denied.value.code, hidden.value.code) == ("PERMISSION_DENIED", "NOT_FOUND")
    assert BillingRun.objects.get(pk=run.pk).status == RunStatus.RUNNING
