"""Concurrency on PostgreSQL: the consumer account lock serialises demand writes (DESIGN §3 rules 6 and 7)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from demands.models import ConsumerAccount, Demand, DemandDetail, DemandHistory
from demands.services import demand_create, demand_update
from tests.concurrency import backend_pid, locked_relations, wait_until_blocked
from tests.concurrency import run_together as shared_run_together
from tests.demands.conftest import AT, LATER, PTAN2018_FROM, PTAN2018_TO, PTAN2019_FROM, PTAN2019_TO, line, pt_demand

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DEMAND_TABLES = {"demands_demand", "demands_demanddetail", "demands_demandhistory", "demands_demanddetailhistory"}


def run_together(work: list[Callable[[], Any]]) -> list[str]:
    """Each outcome: "ok", a DomainError code or a repr."""
    return shared_run_together(work, success="ok")


def test_eight_concurrent_creates_of_one_period_make_exactly_one_demand(employee):
    outcomes = run_together(
        [lambda i=i: demand_create(caller=employee, demands=[pt_demand(details=(line("PT_TAX", str(100 + i)),))], at=AT)
         for i in range(8)]
    )  # fmt: skip
    assert sorted(outcomes) == ["EG_BS_DUPLICATE_CONSUMERCODE"] * 7 + ["ok"]
    assert Demand.objects.filter(status="ACTIVE").count() == 1
    assert Demand.objects.count() == 1
    assert DemandDetail.objects.count() == 1
    assert list(DemandHistory.objects.values_list("revision", "action")) == [(1, "CREATE")]
    assert list(ConsumerAccount.objects.values_list("consumer_code", "revision")) == [("PT-107-001", 1)]


def test_concurrent_writes_of_one_consumer_get_distinct_revisions(employee):
    [demand] = demand_create(caller=employee, demands=[pt_demand(period=(PTAN2018_FROM, PTAN2018_TO))], at=AT)
    [detail] = demand.details.all()

    def update(i: int) -> None:
        demand_update(
            caller=employee,
            demands=[
                pt_demand(
                    id=demand.pk,
                    period=(PTAN2018_FROM, PTAN2018_TO),
                    details=(line("PT_TAX", "500", id=detail.pk),),
                    additional_details={"n": i},
                )
            ],
            at=LATER,
        )

    def create(i: int) -> None:
        demand_create(caller=employee, demands=[pt_demand(period=(PTAN2019_FROM + i * 1000, PTAN2019_TO))], at=LATER)

    outcomes = run_together([lambda i=i: update(i) for i in range(4)] + [lambda i=i: create(i) for i in range(4)])
    assert outcomes == ["ok"] * 8
    # Every write saw the revision left by the one before it: 2..9, each exactly once.
    assert sorted(DemandHistory.objects.filter(revision__gt=1).values_list("revision", flat=True)) == list(range(2, 10))
    assert ConsumerAccount.objects.get().revision == 9
    assert Demand.objects.count() == 5


def test_create_takes_the_account_lock_before_touching_any_demand(employee):
    demand_create(caller=employee, demands=[pt_demand(period=(PTAN2018_FROM, PTAN2018_TO))], at=AT)
    account = ConsumerAccount.objects.get()
    assert account.revision == 1
    ready = threading.Event()
    outcome: dict[str, Any] = {}

    def worker() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cursor.fetchone()[0]
            ready.set()
            demand_create(caller=employee, demands=[pt_demand()], at=LATER)
            outcome["result"] = "ok"
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
        # While it waits, the worker has neither read nor written any demand table.
        assert touched & DEMAND_TABLES == set()
        assert "demands_consumeraccount" in touched
        assert thread.is_alive()
        assert Demand.objects.count() == 1
        assert "result" not in outcome

    thread.join(timeout=30)
    assert not thread.is_alive()
    assert outcome["result"] == "ok"
    assert Demand.objects.count() == 2
    assert ConsumerAccount.objects.get().revision == 2
    assert sorted(DemandHistory.objects.values_list("revision", flat=True)) == [1, 2]
