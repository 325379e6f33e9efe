"""Concurrency on PostgreSQL: the consumer account lock serialises fetches; one ACTIVE bill per account holds."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction

from bills.models import Bill, BillDetail, BillStatus
from bills.services import bills_expire_due
from demands.models import ConsumerAccount, Demand
from masters.models import IdSequence
from tests.bills.conftest import AT, LATER, create, fetch, pt_demand, set_tax
from tests.concurrency import backend_pid, locked_relations, run_together, wait_until_blocked

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BILL_TABLES = {"bills_bill", "bills_billdetail", "bills_billaccountdetail"}


def active_per_account() -> dict[str, int]:
    counts: dict[str, int] = {}
    for code in Bill.objects.filter(status=BillStatus.ACTIVE).values_list("consumer_code", flat=True):
        counts[code] = counts.get(code, 0) + 1
    return counts


def test_sixteen_concurrent_fetches_of_one_consumer_make_one_bill(employee):
    create(employee, pt_demand())

    def work() -> Any:
        [bill] = fetch(employee, "PT-107-001", at=AT)
        return bill.pk

    outcomes = run_together([work] * 16)

    [bill] = Bill.objects.all()
    assert outcomes == [bill.pk] * 16
    assert (bill.status, bill.bill_number, bill.total_amount) == (
        BillStatus.ACTIVE,
        "BILLNO-PT-000001",
        Decimal("500.00"),
    )
    assert BillDetail.objects.count() == 1
    assert list(IdSequence.objects.values_list("name", "last_value")) == [("seq_egbs_billnumber", 1)]


def test_concurrent_fetches_of_a_stale_bill_replace_it_once(employee):
    create(employee, pt_demand())
    [old] = fetch(employee, "PT-107-001", at=AT)

    def work() -> Any:
        [bill] = fetch(employee, "PT-107-001", at=LATER)
        return bill.pk

    outcomes = run_together([work] * 12)

    [new] = Bill.objects.filter(status=BillStatus.ACTIVE)
    assert outcomes == [new.pk] * 12
    assert list(Bill.objects.order_by("bill_number").values_list("pk", "status")) == [
        (old.pk, BillStatus.EXPIRED),
        (new.pk, BillStatus.ACTIVE),
    ]


def test_fetches_sweeps_and_demand_updates_together_never_leave_two_active_bills(employee):
    codes = ["PT-1", "PT-2", "PT-3"]
    demands = {d.consumer_code: d for d in create(employee, *(pt_demand(code) for code in codes))}
    fetch(employee, *codes, at=AT)  # bills that are stale by LATER (expired)

    work: list[Any] = []
    for round_ in range(4):
        for code in codes:
            work.append(lambda code=code: [b.pk for b in fetch(employee, code, at=LATER)])
            work.append(
                lambda code=code, round_=round_: set_tax(
                    employee, demands[code], "PT_TAX", str(600 + round_), at=LATER
                ).pk
            )
        work.append(lambda: bills_expire_due(at=LATER, batch_size=2))
        work.append(lambda: [b.pk for b in fetch(employee, *codes, at=LATER)])

    outcomes = run_together(work)

    failures = [o for o in outcomes if isinstance(o, str)]
    assert failures == []  # no IntegrityError, no deadlock, no domain error
    assert all(count == 1 for count in active_per_account().values())
    # A fetch now answers each consumer's one current bill, built from the last demand write.
    bills = fetch(employee, *codes, at=LATER)
    assert active_per_account() == {"PT-1": 1, "PT-2": 1, "PT-3": 1}
    revisions = dict(ConsumerAccount.objects.values_list("consumer_code", "revision"))
    for bill in bills:
        demand = Demand.objects.get(pk=demands[bill.consumer_code].pk)
        [tax] = demand.details.all()
        assert (bill.revision, bill.total_amount, bill.status) == (
            revisions[bill.consumer_code],
            tax.tax_amount,
            BillStatus.ACTIVE,
        )
    assert len(set(Bill.objects.values_list("bill_number", flat=True))) == Bill.objects.count()


def test_a_fetch_takes_the_consumer_lock_before_touching_any_bill(employee):
    create(employee, pt_demand())
    account = ConsumerAccount.objects.get()
    ready = threading.Event()
    outcome: dict[str, Any] = {}

    def worker() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cursor.fetchone()[0]
            ready.set()
            [bill] = fetch(employee, "PT-107-001", at=AT)
            outcome["result"] = bill.bill_number
        except Exception as exc:
            outcome["result"] = repr(exc)
        finally:
            ready.set()
            connection.close()

    thread = threading.Thread(target=worker)
    with transaction.atomic():
        locked = list(ConsumerAccount.objects.select_for_update().filter(pk=account.pk))
        assert [a.pk for a in locked] == [account.pk]
        own_pid = backend_pid()
        thread.start()
        assert ready.wait(timeout=30)
        worker_pid = outcome["pid"]
        wait_until_blocked(
            worker_pid, by=own_pid, still_running=lambda: "result" not in outcome, what="the worker (consumer account)"
        )
        touched = locked_relations(worker_pid)
        # While it waits inside its transaction, the worker has neither read nor written any bill table.
        assert touched & BILL_TABLES == set()
        assert "demands_consumeraccount" in touched
        assert Bill.objects.count() == 0

    thread.join(timeout=30)
    assert not thread.is_alive()
    assert outcome["result"] == "BILLNO-PT-000001"
    assert Bill.objects.filter(status=BillStatus.ACTIVE).count() == 1
