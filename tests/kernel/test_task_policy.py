"""The apps' tasks that share the kernel's retry policy (``billing_project.tasks.RETRY_POLICY``) carry it."""

from __future__ import annotations

from django.db import OperationalError

from billing_project.tasks import RETRY_POLICY
from bills import tasks as bills_tasks
from payments.gateway import tasks as gateway_tasks
from payments.methods import tasks as methods_tasks


def test_retry_safe_tasks_have_their_names_and_the_one_retry_policy() -> None:
    tasks = [
        bills_tasks.expire_due_bills,
        bills_tasks.execute_billing_run,
        gateway_tasks.poll_due,
        gateway_tasks.poll_transaction,
        gateway_tasks.reconcile,
        methods_tasks.schedule_autopay,
        methods_tasks.charge,
        methods_tasks.retry_due,
    ]
    assert {
        "acks_late": True,
        "autoretry_for": (OperationalError,),
        "retry_backoff": True,
        "max_retries": 5,
    } == RETRY_POLICY
    assert [
        (task.name, task.acks_late, task.autoretry_for, task.retry_backoff, task.max_retries) for task in tasks
    ] == [
        (name, True, (OperationalError,), True, 5)
        for name in [
            "bills.expire_due_bills",
            "bills.execute_billing_run",
            "payments.gateway.poll_due",
            "payments.gateway.poll_transaction",
            "payments.gateway.reconcile",
            "payments.methods.schedule_autopay",
            "payments.methods.charge",
            "payments.methods.retry_due",
        ]
    ]
