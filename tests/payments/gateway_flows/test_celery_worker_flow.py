"""Done when: the polling/reconciliation jobs run on a real Celery worker on Redis.

A Celery app configured like ours (``CELERY_*`` settings) but with Redis as broker and result backend
(``TEST_REDIS_URL``, a queue of its own per test) and a real worker started in a thread of this process
(``celery.contrib.testing.worker.start_worker``): the tasks travel through Redis, run in the worker against the
test database (committed data: ``transaction=True``), and the test waits on their results in Redis
(``.get(timeout=...)``: waiting on an event, not a sleep). The worker shares this process's frozen clock.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery import Celery, current_app
from celery.contrib.testing.worker import start_worker
from celery.result import AsyncResult, EagerResult

from bills.models import Bill
from masters.access import Caller
from payments.gateway import tasks
from payments.gateway.models import GatewayTransaction, TransactionStatus
from payments.gateway.services import gateway_payment_initiate
from payments.models import Payment
from tests.sandbox_gateway import RunningSandbox

from .conftest import PAY_AT, D, at, sandbox_ids

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

N = 10
OPEN = (TransactionStatus.INITIATED, TransactionStatus.PENDING, TransactionStatus.UNKNOWN)
WAIT = 60  # seconds a result may take at most (each is a few gateway calls)


@pytest.fixture
def worker_app(flow_settings: Any) -> Iterator[Celery]:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    previous = current_app._get_current_object()
    app = Celery("gateway-flows", set_as_current=True)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=url,
        result_backend=url,
        task_always_eager=False,
        task_default_queue=f"gateway-flows-{uuid.uuid4().hex}",
        worker_hijack_root_logger=False,
    )
    app.set_current()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield app
    finally:
        previous.set_current()
        app.close()


def run(task: Any, moment: dt.datetime, **kwargs: Any) -> Any:
    """Send ``task`` through Redis to the worker at the frozen ``moment`` and wait for its result."""
    with at(moment):
        result = task.delay(**kwargs)
        assert isinstance(result, AsyncResult)
        assert not isinstance(result, EagerResult)
        value = result.get(timeout=WAIT)
        assert result.state == "SUCCESS"
    result.forget()
    return value


def test_jobs_on_a_real_worker_settle_every_transaction(
    worker_app: Celery, sandbox: RunningSandbox, payer: Caller, make_pt_bill: Callable[[], Bill]
) -> None:
    bills = [make_pt_bill() for _ in range(N)]
    sandbox.faults(
        error_rate=0.3,
        error_after_rate=0.3,
        duplicate_callbacks=True,
        reorder_callbacks=True,
        drop_callback_rate=0.6,
        callback_mode="manual",
        seed=77,
    )
    with at(PAY_AT):
        txns = [gateway_payment_initiate(caller=payer, bill_id=b.pk, amount=D("1100"), at=PAY_AT) for b in bills]
    at_gateway = sandbox_ids(sandbox)
    approved: dict[str, str] = {}  # merchant reference -> gateway id
    for i, txn in enumerate(txns):
        [found] = at_gateway.get(txn.merchant_reference) or [None]
        if found is None:
            continue
        if i % 3 == 1:
            sandbox.decline(found["id"])
        else:
            sandbox.approve(found["id"])
            approved[txn.merchant_reference] = found["id"]
    with at(PAY_AT + dt.timedelta(minutes=1)):
        delivered = sandbox.deliver_callbacks()
    assert delivered["dropped"] > 0
    still_open = GatewayTransaction.objects.filter(status__in=OPEN).count()
    assert still_open > 0  # the lost callbacks leave work for the jobs

    # One transaction polled on demand, then the beat jobs, until nothing is open.
    first_open = GatewayTransaction.objects.filter(status__in=OPEN).order_by("merchant_reference").first()
    assert first_open is not None
    status = run(tasks.poll_transaction, PAY_AT + dt.timedelta(minutes=20), transaction_id=str(first_open.pk))
    assert status == GatewayTransaction.objects.get(pk=first_open.pk).status
    for n in range(10):
        moment = PAY_AT + dt.timedelta(minutes=30 * (n + 1))
        assert isinstance(run(tasks.poll_due, moment, limit=500), int)
        report = run(tasks.reconcile, moment, limit=500)
        assert set(report) == {"checked", "settled", "still_open", "errors", "refunds_resent"}
        if not GatewayTransaction.objects.filter(status__in=OPEN).exists():
            break
    else:
        raise AssertionError("the jobs did not settle every transaction")

    for txn in txns:
        txn.refresh_from_db()
        if txn.merchant_reference in approved:
            assert (txn.status, txn.gateway_transaction_id) == (
                TransactionStatus.SUCCESS,
                approved[txn.merchant_reference],
            )
            assert Payment.objects.get(pk=txn.payment_id).total_amount_paid == D("1100.00")
        else:
            assert (txn.status, txn.payment_id) == (TransactionStatus.FAILURE, None)
    assert Payment.objects.count() == len(approved) > 0
    assert sorted(Payment.objects.values_list("transaction_number", flat=True)) == sorted(approved.values())
