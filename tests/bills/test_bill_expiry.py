"""The expiry sweeper ``bills_expire_due``, its Celery task and its beat schedule."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import PeriodicTask

from bills.models import Bill, BillStatus
from bills.services import bills_expire_due
from bills.tasks import expire_due_bills
from tests.bills.conftest import END_OF_AT_DAY, LATER, create, fetch, pt_demand

ONE_DAY = dt.timedelta(days=1)


def statuses() -> dict[str, str]:
    return dict(Bill.objects.values_list("consumer_code", "status"))


def bill_for(consumer_code: str) -> Bill:
    return Bill.objects.get(consumer_code=consumer_code, status=BillStatus.ACTIVE)


@pytest.fixture
def bills(employee) -> dict[str, Bill]:
    """Seven consumers' bills built at AT: five expiring END_OF_AT_DAY, one a day later, one ten days later.

    PT-6 is then CANCELLED and PT-7 PAID.
    """
    create(
        employee,
        *(pt_demand(f"PT-{n}") for n in range(1, 6)),
        pt_demand("PT-8", bill_expiry_time=ONE_DAY),
        pt_demand("PT-9", bill_expiry_time=dt.timedelta(days=10)),
    )
    create(employee, pt_demand("PT-6"), pt_demand("PT-7"))
    built = {b.consumer_code: b for b in fetch(employee, *(f"PT-{n}" for n in range(1, 10)))}
    Bill.objects.filter(consumer_code="PT-6").update(status=BillStatus.CANCELLED)
    Bill.objects.filter(consumer_code="PT-7").update(status=BillStatus.PAID)
    return built


@pytest.mark.django_db
def test_only_active_bills_past_expiry_are_expired(bills):
    expired = bills_expire_due(at=LATER)

    assert expired == 5
    assert set(Bill.objects.filter(status=BillStatus.EXPIRED).values_list("pk", flat=True)) == {
        bills[f"PT-{n}"].pk for n in range(1, 6)
    }
    assert statuses() == {
        "PT-1": "EXPIRED",
        "PT-2": "EXPIRED",
        "PT-3": "EXPIRED",
        "PT-4": "EXPIRED",
        "PT-5": "EXPIRED",
        "PT-6": "CANCELLED",
        "PT-7": "PAID",
        "PT-8": "ACTIVE",  # expires at the end of 2024-05-02 IST, after LATER
        "PT-9": "ACTIVE",
    }
    assert set(Bill.objects.filter(status=BillStatus.EXPIRED).values_list("modified_by", "modified_at")) == {
        ("expiry-sweeper", LATER)
    }


@pytest.mark.django_db
def test_a_second_run_expires_nothing(bills):
    assert bills_expire_due(at=LATER) == 5
    before = list(Bill.objects.order_by("pk").values_list("pk", "status", "modified_by", "modified_at"))

    assert bills_expire_due(at=LATER + dt.timedelta(minutes=15)) == 0

    assert list(Bill.objects.order_by("pk").values_list("pk", "status", "modified_by", "modified_at")) == before


@pytest.mark.django_db
def test_expired_means_strictly_before_the_sweep_time(bills):
    assert bills_expire_due(at=END_OF_AT_DAY) == 0
    assert bills_expire_due(at=END_OF_AT_DAY + dt.timedelta(milliseconds=1)) == 5


@pytest.mark.django_db
def test_bills_are_expired_in_batches(employee):
    create(employee, *(pt_demand(f"PT-{n}") for n in range(1, 6)))
    fetch(employee, *(f"PT-{n}" for n in range(1, 6)))

    with CaptureQueriesContext(connection) as queries:
        expired = bills_expire_due(at=LATER, batch_size=2)

    assert expired == 5
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "bills_bill"')]
    assert len(updates) == 3  # 2 + 2 + 1
    assert Bill.objects.filter(status=BillStatus.ACTIVE).count() == 0


@pytest.mark.django_db
def test_a_batch_size_below_one_is_refused(seed):
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        bills_expire_due(at=LATER, batch_size=0)


@pytest.mark.django_db
def test_after_the_sweep_a_fetch_builds_a_new_bill(employee):
    create(employee, pt_demand())
    [old] = fetch(employee, "PT-107-001")
    bills_expire_due(at=LATER)

    [new] = fetch(employee, "PT-107-001", at=LATER)

    assert new.pk != old.pk
    assert list(Bill.objects.order_by("bill_number").values_list("bill_number", "status")) == [
        ("BILLNO-PT-000001", "EXPIRED"),
        ("BILLNO-PT-000002", "ACTIVE"),
    ]


@pytest.mark.django_db
def test_the_celery_task_runs_eagerly_and_returns_the_count(bills):
    # The task sweeps at the wall clock's now, long after these 2024 bills expired.
    result = expire_due_bills.apply(kwargs={"batch_size": 2})

    assert result.successful()
    assert result.get() == 7  # every ACTIVE bill, the ten-day ones too
    assert Bill.objects.filter(status=BillStatus.ACTIVE).count() == 0
    assert statuses()["PT-6"] == "CANCELLED"
    assert statuses()["PT-7"] == "PAID"
    assert expire_due_bills.apply().get() == 0


def test_the_task_is_named_and_retry_safe():
    assert expire_due_bills.name == "bills.expire_due_bills"
    assert expire_due_bills.acks_late is True
    assert expire_due_bills.max_retries == 5


@pytest.mark.django_db
def test_the_beat_schedule_exists_after_migrations():
    task = PeriodicTask.objects.select_related("interval").get(name="Expire due bills")

    assert (task.task, task.enabled, json.loads(task.kwargs)) == ("bills.expire_due_bills", True, {"batch_size": 1000})
    assert (task.interval.every, task.interval.period) == (15, "minutes")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_sweeper_skips_a_bill_another_transaction_holds_and_takes_it_next_time(employee):
    create(employee, pt_demand("PT-1"), pt_demand("PT-2"))
    fetch(employee, "PT-1", "PT-2")
    held = bill_for("PT-1")
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                list(Bill.objects.select_for_update().filter(pk=held.pk))
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(timeout=30)
        # Does not wait for the holder: the held bill is skipped, the other one is expired.
        assert bills_expire_due(at=LATER) == 1
        assert statuses() == {"PT-1": "ACTIVE", "PT-2": "EXPIRED"}
    finally:
        release.set()
        thread.join(timeout=30)
    assert done.is_set()
    assert bills_expire_due(at=LATER) == 1
    assert statuses() == {"PT-1": "EXPIRED", "PT-2": "EXPIRED"}
