"""Bulk bill generation (DESIGN §4, issue item 7): runs, chunks, resume, errors, the REST face and the command.

Every run here is executed at ``AT`` (``clock.frozen``); bills are checked against the pure aggregation
function ``build_bill`` over the same demands, and against exact values.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from io import StringIO
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, transaction

from billing_project import clock
from billing_project.outbox import OutboxMessage, OutboxStatus
from bills.domain.aggregation import BillDraft, DemandData, DemandLineData, build_bill
from bills.models import Bill, BillAccountDetail, BillDetail, BillingRun, BillingRunError, BillStatus, RunStatus
from bills.services import billing_run_advance, billing_run_create, billing_run_execute, generation, run_subject
from bills.services.bulk_write import new_ids
from bills.tasks import execute_billing_run
from demands.models import ConsumerAccount, Demand, DemandStatus
from demands.services import PayerInput
from masters.access import Caller
from masters.models import IdSequence, Role, TaxHeadMaster, Tenant
from masters.selectors import tax_heads_for
from tests.bills.conftest import AT, IST, LATER, P2018, P2019, create, line, pt_demand, set_tax

RUNS = "/api/v1/billing-runs/"
SYSTEM = Caller(user_id=None, username="ops", is_superuser=True, roles=())


@pytest.fixture
def frozen() -> Iterator[dt.datetime]:
    with clock.frozen(AT) as at:
        yield at


def consumers(employee: Caller, count: int, *, prefix: str = "PT-B", tenant: str = "pb.amritsar") -> list[str]:
    """``count`` consumers with two periods each; amounts, collections, credits and expiry rules vary."""
    codes = []
    for i in range(count):
        code = f"{prefix}-{i:03d}"
        codes.append(code)
        extra: dict[str, Any] = {}
        if i % 3 == 1:
            extra["bill_expiry_time"] = dt.timedelta(days=10)
        if i % 4 == 2:
            extra["fixed_bill_expiry_date"] = dt.datetime(2024, 6, 30, 12, 0, tzinfo=dt.UTC)
        create(
            employee,
            pt_demand(
                code,
                tenant=tenant,
                period=P2018,
                details=(line("PT_TAX", f"{100 + i}.50", "20.00" if i % 2 else None), line("PT_FIRE_CESS", "10")),
                **extra,
            ),
            pt_demand(
                code,
                tenant=tenant,
                period=P2019,
                details=(
                    line("PT_TAX", f"{200 + i}"),
                    line("PT_TIME_REBATE", "-15.25"),
                    line("PT_ADHOC_PENALTY", "7.75"),
                ),
                additional_details={"ward": f"W{i % 3}"},
                payer=PayerInput(name=f"Owner {i}", mobile_number=f"98765{i:05d}") if i % 2 == 0 else None,
                **extra,
            ),
        )
    return codes


def expected(account: ConsumerAccount) -> BillDraft:
    """The pure aggregation of the account's open demands, read with the ORM."""
    demands = Demand.objects.filter(account=account, status=DemandStatus.ACTIVE, is_payment_completed=False)
    data = [
        DemandData(
            key=str(d.pk),
            period_from=d.tax_period_from,
            period_to=d.tax_period_to,
            lines=tuple(
                DemandLineData(
                    key=str(x.pk),
                    tax_head_code=x.tax_head_code,
                    tax_amount=x.tax_amount,
                    collection_amount=x.collection_amount,
                )
                for x in d.details.order_by("position", "created_at", "pk")
            ),
            bill_expiry_time=d.bill_expiry_time,
            fixed_bill_expiry_date=d.fixed_bill_expiry_date,
            additional_details=d.additional_details,
        )
        for d in demands
    ]
    orders = dict(tax_heads_for(account.tenant.code, service=account.business_service).values_list("code", "order"))
    draft = build_bill(data, head_order=orders, now=AT, zone=IST)
    assert draft is not None
    return draft


def stored(bill: Bill) -> tuple[Any, ...]:
    """A bill as comparable data: total, expiry, and per period its amounts and account lines."""
    return (
        bill.total_amount,
        bill.expiry_date,
        [
            (
                d.demand_id,
                d.from_period,
                d.to_period,
                d.expiry_date,
                d.amount,
                d.additional_details,
                sorted(
                    (a.tax_head_code, a.order, a.amount, a.demand_detail_id, a.adjusted_amount)
                    for a in d.account_details.all()
                ),
            )
            for d in bill.details.order_by("from_period")
        ],
    )


def drafted(draft: BillDraft) -> tuple[Any, ...]:
    return (
        draft.total_amount,
        draft.expiry_date,
        [
            (
                uuid.UUID(d.demand_key),
                d.period_from,
                d.period_to,
                d.expiry_date,
                d.amount,
                d.additional_details,
                sorted(
                    (a.tax_head_code, a.order, a.amount, uuid.UUID(a.demand_detail_key), Decimal("0.00"))
                    for a in d.account_lines
                ),
            )
            for d in draft.details
        ],
    )


def seed_pb() -> Tenant:
    return Tenant.objects.get(code="pb")


def run_all(tenant: str = "pb.amritsar", **kwargs: Any) -> BillingRun:
    run = billing_run_create(caller=SYSTEM, tenant_code=tenant, business_service="PT", at=clock.now(), **kwargs)
    return billing_run_execute(run_id=run.pk)


def active_bills() -> list[tuple[str, str]]:
    return list(
        Bill.objects.filter(status=BillStatus.ACTIVE)
        .order_by("consumer_code")
        .values_list("consumer_code", "bill_number")
    )


# --- the bills a run writes ------------------------------------------------------------------------


@pytest.mark.django_db
def test_run_bills_every_consumer_once_as_the_pure_aggregation_does(employee, frozen):
    codes = consumers(employee, 12)

    run = run_all(chunk_size=5)

    assert (run.status, run.total_consumers, run.processed, run.bills_created, run.skipped, run.failed) == (
        RunStatus.COMPLETED,
        12,
        12,
        12,
        0,
        0,
    )
    assert (run.started_at, run.finished_at, run.error) == (AT, AT, "")
    assert run.cursor == ConsumerAccount.objects.order_by("pk").last().pk
    assert [code for code, _ in active_bills()] == codes
    assert sorted(number for _, number in active_bills()) == [f"BILLNO-PT-{n:06d}" for n in range(1, 13)]
    assert (BillDetail.objects.count(), BillAccountDetail.objects.count()) == (24, 12 * 5)
    for account in ConsumerAccount.objects.order_by("consumer_code"):
        bill = Bill.objects.get(account=account)
        assert stored(bill) == drafted(expected(account)), account.consumer_code
        assert (bill.status, bill.revision, bill.run_id, bill.bill_date, bill.created_by) == (
            BillStatus.ACTIVE,
            account.revision,
            run.pk,
            AT,
            "billing-run",
        )


@pytest.mark.django_db
def test_run_bill_carries_exact_values_and_the_latest_periods_payer(employee, frozen):
    consumers(employee, 3)

    run_all()

    bill = Bill.objects.get(consumer_code="PT-B-002")
    demand_2018, demand_2019 = Demand.objects.filter(consumer_code="PT-B-002").order_by("tax_period_from")
    assert (
        bill.bill_number,
        bill.total_amount,
        bill.expiry_date,
        bill.payer_id,
        bill.payer_name,
        bill.mobile_number,
        bill.payer_email,
        bill.payer_address,
        bill.tenant.code,
        bill.business_service,
        bill.file_store_id,
        bill.additional_details,
    ) == (
        "BILLNO-PT-000003",
        Decimal("102.50") + Decimal("10.00") + Decimal("202.00") - Decimal("15.25") + Decimal("7.75"),
        # the fixed expiry date (30 June) is the earliest detail expiry of PT-B-002 (i % 4 == 2)
        dt.datetime(2024, 6, 30, 23, 59, 59, 999000, tzinfo=IST),
        demand_2019.payer_id,
        "Owner 2",
        "9876500002",
        "",
        "",
        "pb.amritsar",
        "PT",
        "",
        None,
    )
    details = list(bill.details.order_by("from_period"))
    assert [(d.demand_id, d.amount, d.additional_details, d.amount_paid) for d in details] == [
        (demand_2018.pk, Decimal("112.50"), None, None),
        (demand_2019.pk, Decimal("194.50"), {"ward": "W2"}, None),
    ]
    assert [
        (a.tax_head_code, a.order, a.amount) for a in details[1].account_details.order_by("order", "tax_head_code")
    ] == [
        ("PT_TAX", 0, Decimal("202.00")),
        ("PT_ADHOC_PENALTY", 1, Decimal("7.75")),
        ("PT_TIME_REBATE", 2, Decimal("-15.25")),
    ]
    # PT-B-001 has no payer on either period; its 2018 tax line is partly collected
    unpaid = Bill.objects.get(consumer_code="PT-B-001")
    assert (unpaid.payer_id, unpaid.payer_name, unpaid.mobile_number) == (None, "", "")
    assert unpaid.details.order_by("from_period").first().amount == Decimal("91.50")


@pytest.mark.django_db
def test_run_and_fetch_write_the_same_bill(employee, jalandhar_employee, frozen):
    """``bill_fetch`` and a run share the generation path: twin consumers in two cities get equal bills."""
    consumers(employee, 4)
    consumers(jalandhar_employee, 4, tenant="pb.jalandhar")
    run_all()
    from bills.services.fetch import FetchCriteria, bill_fetch

    fetched = bill_fetch(
        caller=jalandhar_employee,
        criteria=FetchCriteria(
            tenant_id="pb.jalandhar",
            business_service="PT",
            consumer_codes=("PT-B-000", "PT-B-001", "PT-B-002", "PT-B-003"),
        ),
        at=AT,
    )

    assert len(fetched) == 4
    for bill in fetched:
        twin = Bill.objects.get(tenant__code="pb.amritsar", consumer_code=bill.consumer_code)
        ours, theirs = stored(bill), stored(twin)
        assert (ours[0], ours[1]) == (theirs[0], theirs[1])
        assert [row[1:6] for row in ours[2]] == [row[1:6] for row in theirs[2]]
        assert [[line[:3] for line in row[6]] for row in ours[2]] == [
            [line[:3] for line in row[6]] for row in theirs[2]
        ]
        assert (bill.payer_name, bill.mobile_number, bill.run_id) == (twin.payer_name, twin.mobile_number, None)


def test_new_ids_are_ascending_version_7_uuids():
    ids = new_ids(1000)
    assert ids == sorted(ids)
    assert len(set(ids)) == 1000
    assert {(i.version, i.variant) for i in ids} == {(7, uuid.RFC_4122)}
    assert new_ids(0) == []


# --- skipping, errors, limits -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_second_run_over_billed_consumers_creates_no_bill(employee, frozen):
    consumers(employee, 5)
    first = run_all(chunk_size=2)
    before = (active_bills(), BillDetail.objects.count(), IdSequence.objects.get().last_value)

    second = run_all(chunk_size=2)

    assert (second.status, second.processed, second.bills_created, second.skipped, second.failed) == (
        RunStatus.COMPLETED,
        5,
        0,
        5,
        0,
    )
    assert (active_bills(), BillDetail.objects.count(), IdSequence.objects.get().last_value) == before
    assert Bill.objects.filter(run=first).count() == 5
    assert not Bill.objects.filter(run=second).exists()


@pytest.mark.django_db
def test_rerunning_a_finished_run_changes_nothing(employee, frozen):
    consumers(employee, 3)
    run = run_all()
    before = (active_bills(), BillingRun.objects.values_list("processed", "bills_created", "updated_at").get())

    again = billing_run_execute(run_id=run.pk)

    assert again.status == RunStatus.COMPLETED
    assert billing_run_advance(run_id=run.pk) is True
    assert (active_bills(), BillingRun.objects.values_list("processed", "bills_created", "updated_at").get()) == before


@pytest.mark.django_db
def test_a_stale_bill_is_expired_and_replaced_and_nothing_due_is_skipped(employee):
    consumers(employee, 3)
    with clock.frozen(AT):
        run_all()
    [demand] = Demand.objects.filter(consumer_code="PT-B-000", tax_period_from__year=2019)
    set_tax(employee, demand, "PT_TAX", "300")  # bumps PT-B-000's revision: its bill is stale
    create(employee, pt_demand("PT-CREDIT", period=P2019, details=(line("PT_TIME_REBATE", "-5"),)))
    old = Bill.objects.get(consumer_code="PT-B-000")

    with clock.frozen(AT):
        run = run_all()

    assert (run.processed, run.bills_created, run.skipped, run.failed) == (4, 1, 3, 0)
    old.refresh_from_db()
    assert (old.status, old.modified_by, old.modified_at) == (BillStatus.EXPIRED, "billing-run", AT)
    new = Bill.objects.get(consumer_code="PT-B-000", status=BillStatus.ACTIVE)
    assert (new.bill_number, new.revision, new.total_amount) == (
        "BILLNO-PT-000004",
        ConsumerAccount.objects.get(consumer_code="PT-B-000").revision,
        Decimal("100.50") + Decimal("10") + Decimal("300") - Decimal("15.25") + Decimal("7.75"),
    )
    assert not Bill.objects.filter(consumer_code="PT-CREDIT").exists()


@pytest.mark.django_db
def test_an_expired_bill_is_replaced_by_a_later_run(employee):
    consumers(employee, 2)
    with clock.frozen(AT):
        run_all()
    with clock.frozen(LATER):  # the day after: bills without bill_expiry_time expired at the end of AT's day
        run = run_all()

    assert (run.bills_created, run.skipped) == (1, 1)  # PT-B-001 has a 10-day expiry
    assert active_bills() == [("PT-B-000", "BILLNO-PT-000003"), ("PT-B-001", "BILLNO-PT-000002")]


@pytest.mark.django_db
def test_a_consumer_with_an_unknown_tax_head_is_recorded_and_the_rest_billed(employee, frozen):
    consumers(employee, 4)
    create(employee, pt_demand("PT-BAD", period=P2019, details=(line("PT_TAX", "10"), line("PT_TIME_INTEREST", "3"))))
    TaxHeadMaster.objects.filter(code="PT_TIME_INTEREST").delete()

    run = run_all(chunk_size=2)

    assert (run.status, run.processed, run.bills_created, run.skipped, run.failed) == (
        RunStatus.COMPLETED,
        5,
        4,
        0,
        1,
    )
    assert list(BillingRunError.objects.values_list("run_id", "consumer_code", "code", "message", "created_at")) == [
        (
            run.pk,
            "PT-BAD",
            "EG_BS_TAXHEADCODE_EMPTY",
            "No taxhead masters found for the given codes ['PT_TIME_INTEREST']",
            AT,
        )
    ]
    assert [code for code, _ in active_bills()] == ["PT-B-000", "PT-B-001", "PT-B-002", "PT-B-003"]
    assert sorted(number for _, number in active_bills())[-1] == "BILLNO-PT-000004"  # no number drawn for PT-BAD


@pytest.mark.django_db
def test_consumer_codes_limit_the_run(employee, frozen):
    consumers(employee, 6)

    run = run_all(consumer_codes=["PT-B-004", "PT-B-001", "PT-B-004", "PT-NONE"])

    assert (run.consumer_codes, run.total_consumers, run.processed, run.bills_created) == (
        ["PT-B-001", "PT-B-004", "PT-NONE"],
        2,
        2,
        2,
    )
    assert [code for code, _ in active_bills()] == ["PT-B-001", "PT-B-004"]


@pytest.mark.django_db
def test_a_run_covers_only_its_tenant_and_service(employee, jalandhar_employee, frozen):
    consumers(employee, 2)
    consumers(jalandhar_employee, 2, tenant="pb.jalandhar")
    TaxHeadMaster.objects.create(tenant=seed_pb(), code="TL_TAX", service="TL", name="Trade licence", category="TAX")
    create(
        employee,
        pt_demand("TL-1", period=P2018, business_service="TL", consumer_type="TRADE", details=(line("TL_TAX", "50"),)),
    )

    run = run_all()

    assert (run.total_consumers, run.bills_created) == (2, 2)
    assert set(Bill.objects.values_list("tenant__code", "business_service")) == {("pb.amritsar", "PT")}


@pytest.mark.django_db
def test_progress_counters_and_cursor_move_per_chunk(employee, frozen):
    consumers(employee, 5)
    accounts = list(ConsumerAccount.objects.order_by("pk").values_list("pk", flat=True))
    run = billing_run_create(caller=SYSTEM, tenant_code="pb.amritsar", business_service="PT", chunk_size=2, at=AT)
    assert (run.status, run.total_consumers, run.processed, run.progress_percent, run.cursor) == (
        RunStatus.PENDING,
        5,
        0,
        0.0,
        0,
    )
    seen = []
    for _ in range(3):
        assert billing_run_advance(run_id=run.pk) is False
        run.refresh_from_db()
        seen.append((run.status, run.processed, run.bills_created, run.progress_percent, run.cursor))
    assert seen == [
        (RunStatus.RUNNING, 2, 2, 40.0, accounts[1]),
        (RunStatus.RUNNING, 4, 4, 80.0, accounts[3]),
        (RunStatus.RUNNING, 5, 5, 100.0, accounts[4]),
    ]
    assert billing_run_advance(run_id=run.pk) is True
    run.refresh_from_db()
    assert (run.status, run.started_at, run.finished_at) == (RunStatus.COMPLETED, AT, AT)


@pytest.mark.django_db
def test_execute_reports_progress_and_stops_after_max_chunks(employee, frozen):
    consumers(employee, 5)
    run = billing_run_create(caller=SYSTEM, tenant_code="pb.amritsar", business_service="PT", chunk_size=2, at=AT)
    progress: list[tuple[int, int]] = []

    partial = billing_run_execute(
        run_id=run.pk, max_chunks=2, on_progress=lambda r: progress.append((r.processed, r.bills_created))
    )
    assert (partial.status, progress) == (RunStatus.RUNNING, [(2, 2), (4, 4)])
    finished = billing_run_execute(run_id=run.pk, on_progress=lambda r: progress.append((r.processed, r.bills_created)))
    assert (finished.status, progress[2:]) == (RunStatus.COMPLETED, [(5, 5), (5, 5)])


@pytest.mark.django_db
def test_an_empty_run_completes(seed, frozen):
    run = run_all()
    assert (run.status, run.total_consumers, run.processed, run.progress_percent) == (RunStatus.COMPLETED, 0, 0, 100.0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"tenant_code": "pb.nowhere"}, "INVALID TENANTID"),
        ({"business_service": "NOPE"}, "EG_BS_BUSINESSSERVICE_NOTFOUND"),
        ({"chunk_size": 0}, "INVALID_CHUNK_SIZE"),
        ({"chunk_size": 5001}, "INVALID_CHUNK_SIZE"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(seed, arguments, code):
    from billing_project.errors import DomainError

    values = {"tenant_code": "pb.amritsar", "business_service": "PT", **arguments}
    with pytest.raises(DomainError) as caught:
        billing_run_create(caller=SYSTEM, at=AT, **values)
    assert caught.value.code == code
    assert not BillingRun.objects.exists()


@pytest.mark.django_db
def test_a_business_error_in_a_chunk_fails_the_run_and_rolls_the_chunk_back(employee, frozen, monkeypatch):
    from billing_project.errors import DomainError

    consumers(employee, 3)
    run = billing_run_create(caller=SYSTEM, tenant_code="pb.amritsar", business_service="PT", chunk_size=2, at=AT)

    def broken(*args: Any, **kwargs: Any) -> list[str]:
        raise DomainError("IDGEN_SERVICE_ERROR", "Failed to generate ID, unknown error occurred")

    monkeypatch.setattr(generation, "id_generate", broken)
    failed = billing_run_execute(run_id=run.pk)

    assert (failed.status, failed.processed, failed.bills_created, failed.cursor, failed.finished_at) == (
        RunStatus.FAILED,
        0,
        0,
        0,
        AT,
    )
    assert failed.error == "IDGEN_SERVICE_ERROR: Failed to generate ID, unknown error occurred"
    assert not Bill.objects.exists()
    assert billing_run_execute(run_id=run.pk).status == RunStatus.FAILED  # a failed run stays failed


# --- crash and resume (PostgreSQL: real transactions, real locks) ----------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_generate_bills_process_killed_with_sigkill_resumes_without_double_billing(employee, frozen):
    """A real kill: ``generate_bills --resume`` in a child process, SIGKILL after its first committed chunk."""
    consumers(employee, 30)
    run = billing_run_create(caller=SYSTEM, tenant_code="pb.amritsar", business_service="PT", chunk_size=1, at=AT)
    db = connection.settings_dict
    login = quote(db["USER"]) + (":" + quote(db["PASSWORD"]) if db.get("PASSWORD") else "")
    url = f"postgres://{login}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    child = subprocess.Popen(  # our own manage.py with fixed arguments
        [sys.executable, "manage.py", "generate_bills", "--resume", str(run.pk)],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        first = child.stdout.readline() if child.stdout else ""
        assert re.fullmatch(r"\[#*-*\] +[0-9.]+% [0-9]+/30 consumers, [0-9]+ bills\n", first), first
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert 1 <= run.processed < 30
    assert Bill.objects.count() == run.bills_created == run.processed  # what committed is whole

    resumed = billing_run_execute(run_id=run.pk)

    assert (resumed.status, resumed.processed, resumed.bills_created, resumed.skipped) == (
        RunStatus.COMPLETED,
        30,
        30,
        0,
    )
    per_consumer = list(Bill.objects.values_list("consumer_code", "status").order_by("consumer_code"))
    assert per_consumer == [(f"PT-B-{i:03d}", BillStatus.ACTIVE) for i in range(30)]
    assert sorted(Bill.objects.values_list("bill_number", flat=True)) == [f"BILLNO-PT-{n:06d}" for n in range(1, 31)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_killed_midway_resumes_and_bills_each_consumer_once(employee, frozen, monkeypatch):
    consumers(employee, 7)
    run = billing_run_create(caller=SYSTEM, tenant_code="pb.amritsar", business_service="PT", chunk_size=2, at=AT)
    assert billing_run_execute(run_id=run.pk, max_chunks=2).processed == 4

    written = generation.bill_rows_write

    def write_then_die(rows: Any) -> None:
        written(rows)
        assert Bill.objects.count() == 6  # the chunk's bills are in, inside its transaction
        raise RuntimeError("worker killed")

    monkeypatch.setattr(generation, "bill_rows_write", write_then_die)
    with pytest.raises(RuntimeError, match="worker killed"):
        billing_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.processed, run.bills_created, Bill.objects.count()) == (RunStatus.RUNNING, 4, 4, 4)
    assert IdSequence.objects.get().last_value == 4  # the rolled-back chunk gave its numbers back

    monkeypatch.setattr(generation, "bill_rows_write", written)
    resumed = billing_run_execute(run_id=run.pk)

    assert (resumed.status, resumed.processed, resumed.bills_created, resumed.skipped) == (
        RunStatus.COMPLETED,
        7,
        7,
        0,
    )
    assert Bill.objects.count() == Bill.objects.filter(status=BillStatus.ACTIVE).count() == 7
    assert sorted(Bill.objects.values_list("consumer_code", flat=True)) == [f"PT-B-{i:03d}" for i in range(7)]
    assert sorted(Bill.objects.values_list("bill_number", flat=True)) == [f"BILLNO-PT-{n:06d}" for n in range(1, 8)]
    assert (BillDetail.objects.count(), BillAccountDetail.objects.count()) == (14, 35)


@pytest.mark.django_db
def test_the_task_resumes_a_stopped_run_in_batches_of_chunks(employee, frozen, monkeypatch):
    consumers(employee, 5)
    run = billing_run_create(caller=SYSTEM, tenant_code="pb.amritsar", business_service="PT", chunk_size=2, at=AT)

    status = execute_billing_run.run(run_id=run.pk, chunks_per_task=2)  # as a worker runs it: not eager

    run.refresh_from_db()
    assert (status, run.processed) == (RunStatus.RUNNING, 4)
    # The rest is submitted through the outbox, once per cursor position (a repeat of this task adds nothing).
    [message] = OutboxMessage.objects.filter(subject=run_subject(run.pk))
    assert (message.channel, message.destination, message.payload, message.dedupe_key, message.tenant_code) == (
        "celery",
        "bills.execute_billing_run",
        {"run_id": run.pk, "chunks_per_task": 2},
        f"bills.billingrun:{run.pk}:continue:{run.cursor}",
        "pb.amritsar",
    )
    assert execute_billing_run.delay(run_id=run.pk).get() == RunStatus.COMPLETED  # eager here: to the end
    assert Bill.objects.filter(status=BillStatus.ACTIVE).count() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_chunk_locks_its_accounts_before_writing(employee, frozen):
    """A fetch or demand write holding one consumer's lock holds the chunk up: it writes nothing meanwhile."""
    consumers(employee, 3)
    run = billing_run_create(caller=SYSTEM, tenant_code="pb.amritsar", business_service="PT", chunk_size=3, at=AT)
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        try:
            with transaction.atomic():
                list(ConsumerAccount.objects.select_for_update().filter(consumer_code="PT-B-001"))
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        with pytest.raises(OperationalError, match="lock timeout"):
            billing_run_advance(run_id=run.pk)
    finally:
        release.set()
        thread.join(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert not Bill.objects.exists()
    run.refresh_from_db()
    assert (run.status, run.processed) == (RunStatus.PENDING, 0)
    assert billing_run_execute(run_id=run.pk).bills_created == 3


# --- REST: /api/v1/billing-runs/ ------------------------------------------------------------------------


@pytest.fixture
def admin_client(seed: Any, api_client_for: Callable[..., Any]) -> Any:
    return api_client_for("admin-asr", {"pb.amritsar": [Role.BILLING_ADMIN]})


@pytest.mark.django_db(transaction=True)
def test_rest_create_runs_the_task_in_process_and_answers_the_finished_run(employee, admin_client, frozen):
    consumers(employee, 3)

    response = admin_client.post(
        RUNS, {"tenant": "pb.amritsar", "business_service": "PT", "chunk_size": 2}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    run = BillingRun.objects.get()
    assert body == {
        "id": run.pk,
        "tenant": "pb.amritsar",
        "business_service": "PT",
        "consumer_codes": None,
        "status": "COMPLETED",
        "chunk_size": 2,
        "total_consumers": 3,
        "processed": 3,
        "progress_percent": 100.0,
        "bills_created": 3,
        "skipped": 0,
        "failed": 0,
        "error": "",
        "created_by": "admin-asr",
        "created_at": "2024-05-01T10:00:00Z",
        "started_at": "2024-05-01T10:00:00Z",
        "finished_at": "2024-05-01T10:00:00Z",
        "updated_at": "2024-05-01T10:00:00Z",
    }
    assert Bill.objects.filter(run=run).count() == 3
    assert OutboxMessage.objects.get(subject=run_subject(run.pk)).status == OutboxStatus.DELIVERED


@pytest.mark.django_db
def test_rest_create_records_the_task_with_the_run_and_answers_accepted(employee, admin_client, frozen):
    consumers(employee, 2)

    # In this test's transaction nothing commits, so the job is recorded but not handed over yet.
    response = admin_client.post(
        RUNS, {"tenant": "pb.amritsar", "business_service": "PT", "consumer_codes": ["PT-B-001"]}, format="json"
    )

    assert response.status_code == 201
    run = BillingRun.objects.get()
    [message] = OutboxMessage.objects.all()
    assert (message.channel, message.destination, message.payload, message.dedupe_key, message.subject) == (
        "celery",
        "bills.execute_billing_run",
        {"run_id": run.pk},
        f"bills.billingrun:{run.pk}:start",
        f"bills.billingrun:{run.pk}",
    )
    assert (message.status, message.tenant_code) == (OutboxStatus.PENDING, "pb.amritsar")
    assert (response.json()["status"], response.json()["consumer_codes"], response.json()["chunk_size"]) == (
        "PENDING",
        ["PT-B-001"],
        1000,
    )
    assert not Bill.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("roles", "body", "status", "code"),
    [
        ({"pb.amritsar": [Role.CASHIER]}, {}, 403, "PERMISSION_DENIED"),
        ({"pb.jalandhar": [Role.BILLING_ADMIN]}, {}, 403, "PERMISSION_DENIED"),
        ({"pb": [Role.CITIZEN]}, {}, 403, "PERMISSION_DENIED"),
        ({"pb.amritsar": [Role.EMPLOYEE]}, {"chunk_size": 0}, 400, "VALIDATION_ERROR"),
        ({"pb.amritsar": [Role.EMPLOYEE]}, {"tenant": "pb.nowhere"}, 400, "INVALID TENANTID"),
        ({"pb.amritsar": [Role.SYSTEM]}, {"business_service": "XX"}, 400, "EG_BS_BUSINESSSERVICE_NOTFOUND"),
        ({"pb.amritsar": [Role.EMPLOYEE]}, {"consumer_codes": []}, 400, "VALIDATION_ERROR"),
    ],
)
def test_rest_create_is_refused_without_a_run_or_a_task(seed, api_client_for, roles, body, status, code):
    client = api_client_for("someone", roles)

    response = client.post(RUNS, {"tenant": "pb.amritsar", "business_service": "PT", **body}, format="json")

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert (BillingRun.objects.count(), OutboxMessage.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_rest_anonymous_is_refused(anon_client, seed):
    assert anon_client.get(RUNS).status_code == 401
    assert anon_client.post(RUNS, {}, format="json").status_code == 401


@pytest.fixture
def three_runs(employee: Caller, jalandhar_employee: Caller) -> list[BillingRun]:
    """Amritsar PT (completed, one error), amritsar TL (pending), jalandhar PT (completed)."""
    consumers(employee, 2)
    create(employee, pt_demand("PT-BAD", details=(line("PT_TIME_INTEREST", "3"),)))
    TaxHeadMaster.objects.filter(code="PT_TIME_INTEREST").delete()
    consumers(jalandhar_employee, 1, tenant="pb.jalandhar")
    with clock.frozen(AT):
        first = run_all()
    with clock.frozen(AT + dt.timedelta(minutes=1)):
        pending = billing_run_create(
            caller=SYSTEM, tenant_code="pb.amritsar", business_service="TL", at=AT + dt.timedelta(minutes=1)
        )
    with clock.frozen(AT + dt.timedelta(minutes=2)):
        other = run_all("pb.jalandhar")
    return [first, pending, other]


@pytest.mark.django_db
def test_rest_list_filters_orders_and_scopes_by_tenant(three_runs, api_client_for):
    first, pending, other = three_runs
    client = api_client_for("emp-list", {"pb.amritsar": [Role.EMPLOYEE]})

    def ids(query: str = "") -> list[int]:
        response = client.get(RUNS + query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [pending.pk, first.pk]  # newest first; jalandhar's run is not visible
    assert ids("?status=COMPLETED") == [first.pk]
    assert ids("?business_service=TL") == [pending.pk]
    assert ids("?tenant=pb.jalandhar") == []
    assert ids("?ordering=created_at") == [first.pk, pending.pk]
    assert ids("?ordering=-bills_created") == [first.pk, pending.pk]
    assert client.get(RUNS + "?ordering=cursor").status_code == 400
    state = api_client_for("state-admin", {"pb": [Role.BILLING_ADMIN]})
    assert [row["id"] for row in state.get(RUNS).json()["results"]] == [other.pk, pending.pk, first.pk]


@pytest.mark.django_db
def test_rest_retrieve_shows_the_errors_and_hides_other_tenants(three_runs, api_client_for):
    first, _, other = three_runs
    client = api_client_for("emp-get", {"pb.amritsar": [Role.EMPLOYEE]})

    response = client.get(f"{RUNS}{first.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["processed"], body["bills_created"], body["failed"]) == ("COMPLETED", 3, 2, 1)
    assert body["errors"] == [
        {
            "consumer_code": "PT-BAD",
            "code": "EG_BS_TAXHEADCODE_EMPTY",
            "message": "No taxhead masters found for the given codes ['PT_TIME_INTEREST']",
            "created_at": "2024-05-01T10:00:00Z",
        }
    ]
    assert client.get(f"{RUNS}{other.pk}/").status_code == 404
    citizen = api_client_for("citizen", {"pb": [Role.CITIZEN]})
    assert citizen.get(f"{RUNS}{first.pk}/").status_code == 404
    assert citizen.get(RUNS).json()["results"] == []


# --- the generate_bills command --------------------------------------------------------------------------


def generate(*args: str) -> str:
    out = StringIO()
    call_command("generate_bills", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_generate_bills_shows_a_progress_bar_per_chunk_and_a_summary(employee, frozen):
    consumers(employee, 5)
    create(employee, pt_demand("PT-BAD", details=(line("PT_TIME_INTEREST", "3"),)))
    TaxHeadMaster.objects.filter(code="PT_TIME_INTEREST").delete()

    output = generate("--tenant", "pb.amritsar", "--business-service", "PT", "--chunk-size", "4")

    run = BillingRun.objects.get()
    lines = output.splitlines()
    assert lines[:3] == [
        "[####################----------]  66.7% 4/6 consumers, 4 bills",
        "[##############################] 100.0% 6/6 consumers, 5 bills",
        "[##############################] 100.0% 6/6 consumers, 5 bills",
    ]
    assert (
        lines[3]
        == "  PT-BAD: EG_BS_TAXHEADCODE_EMPTY No taxhead masters found for the given codes ['PT_TIME_INTEREST']"
    )
    assert lines[4].startswith(
        f"billing run {run.pk} COMPLETED: PT in pb.amritsar, 6/6 consumers, 5 bills created, 0 skipped, 1 failed, in "
    )
    assert len(lines) == 5
    assert Bill.objects.filter(status=BillStatus.ACTIVE).count() == 5


@pytest.mark.django_db
def test_generate_bills_limited_to_consumer_codes(employee, frozen):
    consumers(employee, 4)

    output = generate("--tenant", "pb.amritsar", "--business-service", "PT", "--consumer-codes", "PT-B-003, PT-B-000")

    assert "2/2 consumers, 2 bills created, 0 skipped, 0 failed" in output
    assert [code for code, _ in active_bills()] == ["PT-B-000", "PT-B-003"]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_generate_bills_async_hands_the_job_to_the_broker_and_says_so(employee, frozen, redis_broker):
    consumers(employee, 2)

    output = generate("--tenant", "pb.amritsar", "--business-service", "PT", "--async")

    run = BillingRun.objects.get()
    assert output == f"accepted billing run {run.pk} (2 consumers): PENDING; the job is handed to the workers\n"
    assert [(task["task"], task["kwargsrepr"]) for task in redis_broker()] == [
        ("bills.execute_billing_run", f"{{'run_id': {run.pk}}}")
    ]
    assert not Bill.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_generate_bills_async_with_the_broker_down_accepts_the_run_and_says_it_waits(employee, frozen):
    from tests.outage import celery_broker, closed_port

    consumers(employee, 2)
    with celery_broker(f"redis://127.0.0.1:{closed_port()}/0"):
        output = generate("--tenant", "pb.amritsar", "--business-service", "PT", "--async")

    run = BillingRun.objects.get()
    assert output == (
        f"accepted billing run {run.pk} (2 consumers): PENDING; the job is waiting for the broker (unreachable); "
        "it is handed over when the broker is back\n"
    )
    message = OutboxMessage.objects.get(subject=run_subject(run.pk))
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)


@pytest.mark.django_db
def test_generate_bills_resumes_a_stopped_run(employee, frozen):
    consumers(employee, 3)
    run = billing_run_create(caller=SYSTEM, tenant_code="pb.amritsar", business_service="PT", chunk_size=2, at=AT)
    billing_run_advance(run_id=run.pk)

    output = generate("--resume", str(run.pk))

    assert output.splitlines()[0] == "[##############################] 100.0% 3/3 consumers, 3 bills"
    assert "3/3 consumers, 3 bills created, 0 skipped, 0 failed" in output


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--tenant", "pb.nowhere", "--business-service", "PT"),
            "INVALID TENANTID: No data found for this tenentID pb.nowhere",
        ),
        (
            ("--tenant", "pb.amritsar", "--business-service", "XX"),
            "EG_BS_BUSINESSSERVICE_NOTFOUND: No Business Service masters found for give codes [XX]",
        ),
        (("--tenant", "pb.amritsar", "--business-service", "PT", "--chunk-size", "0"), "INVALID_CHUNK_SIZE"),
        (("--tenant", "pb.amritsar"), "--tenant and --business-service are required"),
        (("--resume", "999999"), "NOT_FOUND: No billing run 999999."),
    ],
)
def test_generate_bills_refuses_bad_arguments(seed, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        generate(*args)
    assert not BillingRun.objects.exists()


@pytest.mark.django_db
def test_generate_bills_reports_a_failed_run(employee, frozen, monkeypatch):
    from billing_project.errors import DomainError

    consumers(employee, 1)

    def broken(*args: Any, **kwargs: Any) -> list[str]:
        raise DomainError("IDGEN_SERVICE_ERROR", "Failed to generate ID, unknown error occurred")

    monkeypatch.setattr(generation, "id_generate", broken)
    with pytest.raises(CommandError, match="FAILED.*IDGEN_SERVICE_ERROR: Failed to generate ID"):
        generate("--tenant", "pb.amritsar", "--business-service", "PT")
    assert BillingRun.objects.get().status == RunStatus.FAILED
