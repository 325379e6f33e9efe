"""Benchmark: bulk bill generation against PostgreSQL's own write limit, in one run.

    python manage.py bench_bill_generation --consumers 100000 [--chunk-size 1000] [--keep]

1. Loads the seed masters (``masters/fixtures/mdms``, idempotent) and creates two fresh city tenants, each with
   N consumer accounts, each account with a payer and two PT demands (PTAN2018, PTAN2019) of five tax heads —
   set-based, one ``INSERT ... SELECT generate_series`` per table.
2. The write limit: on the second tenant, one server-side ``INSERT ... SELECT`` per table writes the same
   numbers of bill, bill detail and account-line rows into the real tables (same indexes, constraints,
   deferred foreign keys checked at commit, WAL), timed up to and including the commit.
3. The bulk run on the first tenant: ``billing_run_create`` + ``billing_run_execute``, timed per chunk.
4. Prints bills/second of both, their ratio, and the run's throughput in its first and last tenth of chunks;
   then deletes both tenants' benchmark rows (``--keep`` keeps the run's tenant).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, transaction

from billing_project import clock
from billing_project.errors import DomainError
from bills.models import Bill, BillAccountDetail, BillDetail, BillingRun, RunStatus
from bills.services import MAX_CHUNK, billing_run_create, billing_run_execute
from masters.access import Caller
from masters.models import TaxPeriod, Tenant
from masters.services import mdms_load, tenant_ensure

SEED_DIR = Path(__file__).resolve().parents[3] / "masters" / "fixtures" / "mdms"
SERVICE = "PT"
PERIODS = ("PTAN2018", "PTAN2019")
HEADS = (
    ("PT_TAX", Decimal("1000.00")),
    ("PT_FIRE_CESS", Decimal("25.50")),
    ("PT_ADHOC_PENALTY", Decimal("10.00")),
    ("PT_TIME_REBATE", Decimal("-50.00")),
    ("PT_OWNER_EXEMPTION", Decimal("-5.25")),
)
BILL_EXPIRY = dt.timedelta(days=30)
ACTOR = "bench"


@dataclass(frozen=True)
class Chunk:
    seconds: float
    bills: int


@dataclass
class _Mark:
    at: float
    bills: int = 0
    processed: int = 0
    reported: int = 0


class Command(BaseCommand):
    help = "Time bulk bill generation for N consumers and PostgreSQL's INSERT ... SELECT write limit."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--consumers", type=int, default=100_000)
        parser.add_argument("--chunk-size", type=int, default=1000)
        parser.add_argument("--keep", action="store_true", help="Keep the run tenant's consumers, demands and bills.")

    def handle(self, *args: Any, **options: Any) -> None:
        consumers, chunk_size = options["consumers"], options["chunk_size"]
        if connection.vendor != "postgresql":
            raise CommandError("bench_bill_generation needs PostgreSQL (set DATABASE_URL=postgres://...)")
        if consumers < 1 or not 1 <= chunk_size <= MAX_CHUNK:
            raise CommandError(f"--consumers must be positive and --chunk-size between 1 and {MAX_CHUNK}")
        mdms_load(documents=[(path.name, path.read_bytes()) for path in sorted(SEED_DIR.rglob("*.json"))])
        periods = list(
            TaxPeriod.objects.filter(tenant__code="pb", service=SERVICE, code__in=PERIODS)
            .order_by("from_date")
            .values_list("from_date", "to_date")
        )
        if len(periods) != len(PERIODS):
            raise CommandError(f"the seed masters lack the tax periods {', '.join(PERIODS)}")
        stamp = clock.now().strftime("%Y%m%d%H%M%S%f")
        run_tenant = tenant_ensure(code=f"pb.bench{stamp}", name="Bill benchmark city")
        limit_tenant = tenant_ensure(code=f"pb.benchlimit{stamp}", name="Bill benchmark write limit")
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            version = cursor.fetchone()[0].split(" on ", 1)[0]
        self.stdout.write(
            f"database: {version}; {consumers} consumers x {len(PERIODS)} periods x {len(HEADS)} tax heads; "
            f"chunk size {chunk_size}; {_load()}"
        )

        started = time.perf_counter()
        for tenant in (run_tenant, limit_tenant):
            _seed(tenant, consumers, periods)
        _maintain(["demands_consumeraccount", "demands_demand", "demands_demanddetail", "masters_payer"])
        self.stdout.write(
            f"setup: 2 tenants x ({consumers} consumers, {len(PERIODS) * consumers} demands, "
            f"{len(PERIODS) * len(HEADS) * consumers} demand lines) "
            f"in {time.perf_counter() - started:.1f} s"
        )

        self._checkpoint()
        limit = _write_limit(limit_tenant)
        limit_seconds = sum(limit.values())
        limit_rate = consumers / limit_seconds
        self.stdout.write(
            "write limit (one INSERT ... SELECT per table into the real bills tables, tenant "
            f"{limit_tenant.code}, rows deleted afterwards): "
            + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in limit.items())
            + f"; total {limit_seconds:.2f} s = {limit_rate:.0f} bills/s"
        )

        self._checkpoint()
        try:
            run, chunks, run_seconds = self._bulk_run(run_tenant, chunk_size)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        if run.status != RunStatus.COMPLETED:
            raise CommandError(f"run {run.pk} is {run.status}: {run.error}")
        counts = (
            Bill.objects.filter(run=run).count(),
            BillDetail.objects.filter(bill__run=run).count(),
            BillAccountDetail.objects.filter(bill_detail__bill__run=run).count(),
        )
        expected = (consumers, len(PERIODS) * consumers, len(PERIODS) * len(HEADS) * consumers)
        if counts != expected or run.bills_created != consumers:
            raise CommandError(f"run {run.pk} wrote {counts} rows (bills, details, lines), expected {expected}")
        run_rate = consumers / run_seconds
        self.stdout.write(
            f"bulk run {run.pk}: {counts[0]} bills, {counts[1]} details, {counts[2]} account lines in "
            f"{run_seconds:.2f} s = {run_rate:.0f} bills/s ({len(chunks)} chunks)"
        )
        ratio = run_rate / limit_rate
        self.stdout.write(f"ratio to the write limit: {ratio:.2f} (target >= 0.25)")
        first, last = _tenth_rates(chunks)
        self.stdout.write(
            f"first tenth: {first:.0f} bills/s; last tenth: {last:.0f} bills/s; "
            f"last/first {last / first:.2f} (target >= 0.80)"
        )

        self.stdout.write(_load())
        _delete(limit_tenant)
        if not options["keep"]:
            _delete(run_tenant)
        self.stdout.write(
            "cleaned up: the write-limit rows" + ("" if options["keep"] else " and the run tenant's rows")
        )

    def _bulk_run(self, tenant: Tenant, chunk_size: int) -> tuple[BillingRun, list[Chunk], float]:
        caller = Caller(user_id=None, username=ACTOR, is_superuser=True, roles=())
        run = billing_run_create(
            caller=caller, tenant_code=tenant.code, business_service=SERVICE, chunk_size=chunk_size, at=clock.now()
        )
        chunks: list[Chunk] = []
        step = max(1, run.total_consumers // 10)
        last = _Mark(at=time.perf_counter())

        def progress(state: BillingRun) -> None:
            now = time.perf_counter()
            if state.processed > last.processed:  # the final call only finds the run finished
                chunks.append(Chunk(seconds=now - last.at, bills=state.bills_created - last.bills))
            if state.processed - last.reported >= step or (
                state.processed == state.total_consumers and state.processed > last.reported
            ):
                self.stdout.write(f"  {state.progress_percent:5.1f}% {state.processed}/{state.total_consumers}")
                last.reported = state.processed
            last.at, last.bills, last.processed = now, state.bills_created, state.processed

        started = time.perf_counter()
        run = billing_run_execute(run_id=run.pk, on_progress=progress)
        return run, chunks, time.perf_counter() - started

    def _checkpoint(self) -> None:
        """Flush the setup's dirty pages first, so a checkpoint does not land inside a timed phase."""
        try:
            with connection.cursor() as cursor:
                cursor.execute("CHECKPOINT")
        except DatabaseError as exc:
            self.stdout.write(f"CHECKPOINT skipped ({exc}); timings may include checkpoint I/O")


def _load() -> str:
    """The host's load average: the figures are wall-clock times, so other work on the machine shows in them."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def _tenth_rates(chunks: Sequence[Chunk]) -> tuple[float, float]:
    """Bills/second over the first and the last tenth of the chunks (at least one chunk each)."""
    tenth = max(1, len(chunks) // 10)

    def rate(part: Sequence[Chunk]) -> float:
        return sum(c.bills for c in part) / sum(c.seconds for c in part)

    return rate(chunks[:tenth]), rate(chunks[-tenth:])


def _seed(tenant: Tenant, consumers: int, periods: Sequence[tuple[dt.datetime, dt.datetime]]) -> None:
    """N accounts with a payer and one demand per period of five tax heads each, set-based."""
    assert tenant.state_id is not None
    now = clock.now()
    prefix = f"PT-{tenant.code.split('.', 1)[1]}-"
    values: dict[str, Any] = {
        "tenant": tenant.pk,
        "state": tenant.state_id,
        "service": SERVICE,
        "prefix": prefix,
        "n": consumers,
        "now": now,
        "actor": ACTOR,
        "expiry": BILL_EXPIRY,
    }
    heads = " UNION ALL ".join(
        f"SELECT %(head{i})s::varchar AS code, %(amount{i})s::numeric AS amount, {i} AS position"
        for i in range(len(HEADS))
    )
    for i, (code, amount) in enumerate(HEADS):
        values[f"head{i}"], values[f"amount{i}"] = code, amount
    period_rows = " UNION ALL ".join(
        f"SELECT %(from{i})s::timestamptz AS period_from, %(to{i})s::timestamptz AS period_to"
        for i in range(len(periods))
    )
    for i, (start, end) in enumerate(periods):
        values[f"from{i}"], values[f"to{i}"] = start, end
    statements = (
        """INSERT INTO demands_consumeraccount (tenant_id, business_service, consumer_code, revision, created_at,
                updated_at)
           SELECT %(tenant)s, %(service)s, %(prefix)s || lpad(g::text, 7, '0'), 2, %(now)s, %(now)s
           FROM generate_series(1, %(n)s) AS g""",
        """INSERT INTO masters_payer (uuid, tenant_id, name, mobile_number, email, type, gender,
                father_or_husband_name, correspondence_address, permanent_address, permanent_city,
                permanent_pincode, user_id, active, created_at, updated_at)
           SELECT gen_random_uuid(), %(state)s, 'Owner of ' || a.consumer_code,
                  '9' || lpad((a.id %% 1000000000)::text, 9, '0'), lower(a.consumer_code) || '@example.org',
                  'CITIZEN', '', '', '', a.consumer_code || ', Ward 7', 'Bench city', '143001', NULL, true,
                  %(now)s, %(now)s
           FROM demands_consumeraccount a WHERE a.tenant_id = %(tenant)s""",
        f"""INSERT INTO demands_demand (id, account_id, tenant_id, business_service, consumer_code, consumer_type,
                payer_id, tax_period_from, tax_period_to, bill_expiry_time, fixed_bill_expiry_date,
                minimum_amount_payable, additional_details, is_payment_completed, status, created_by, created_at,
                modified_by, modified_at)
           SELECT gen_random_uuid(), a.id, a.tenant_id, a.business_service, a.consumer_code, 'BUILTUP', p.uuid,
                  t.period_from, t.period_to, %(expiry)s, NULL, 0, NULL, false, 'ACTIVE', %(actor)s, %(now)s,
                  %(actor)s, %(now)s
           FROM demands_consumeraccount a
           JOIN masters_payer p ON p.tenant_id = %(state)s AND p.name = 'Owner of ' || a.consumer_code
           CROSS JOIN ({period_rows}) AS t
           WHERE a.tenant_id = %(tenant)s""",  # noqa: S608 - only placeholders are interpolated
        f"""INSERT INTO demands_demanddetail (id, demand_id, tax_head_code, tax_amount, collection_amount,
                additional_details, position, created_by, created_at, modified_by, modified_at)
           SELECT gen_random_uuid(), d.id, h.code, h.amount, 0, NULL, h.position, %(actor)s, %(now)s, %(actor)s,
                  %(now)s
           FROM demands_demand d CROSS JOIN ({heads}) AS h
           WHERE d.tenant_id = %(tenant)s
           ORDER BY d.account_id, d.tax_period_from, h.position""",  # noqa: S608
    )
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, values)


def _maintain(tables: Sequence[str]) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")


def _write_limit(tenant: Tenant) -> dict[str, float]:
    """Write one bill per account, one detail per demand and one account line per demand line, server-side."""
    now = clock.now()
    values: dict[str, Any] = {
        "tenant": tenant.pk,
        "now": now,
        "actor": ACTOR,
        "expiry": now + BILL_EXPIRY,
        "prefix": tenant.code,
    }
    statements = {
        "bills": """
            INSERT INTO bills_bill (id, account_id, tenant_id, business_service, consumer_code, bill_number,
                bill_date, status, revision, expiry_date, total_amount, payer_id, payer_name, payer_address,
                payer_email, mobile_number, additional_details, file_store_id, run_id, created_by, created_at,
                modified_by, modified_at)
            SELECT NEW_ID, a.id, a.tenant_id, a.business_service, a.consumer_code,
                   'LIMIT-' || %(prefix)s || '-' || a.id, %(now)s, 'ACTIVE', a.revision, %(expiry)s, 1960.50,
                   p.uuid, p.name, p.permanent_address, p.email, p.mobile_number, NULL, '', NULL, %(actor)s,
                   %(now)s, %(actor)s, %(now)s
            FROM demands_consumeraccount a
            JOIN LATERAL (SELECT d.payer_id FROM demands_demand d WHERE d.account_id = a.id
                          ORDER BY d.tax_period_from DESC LIMIT 1) AS latest ON true
            JOIN masters_payer p ON p.uuid = latest.payer_id
            WHERE a.tenant_id = %(tenant)s""",
        "details": """
            INSERT INTO bills_billdetail (id, bill_id, demand_id, from_period, to_period, expiry_date, amount,
                amount_paid, additional_details)
            SELECT NEW_ID, b.id, d.id, d.tax_period_from, d.tax_period_to, %(expiry)s, 980.25, NULL,
                   d.additional_details
            FROM bills_bill b JOIN demands_demand d ON d.account_id = b.account_id
            WHERE b.tenant_id = %(tenant)s AND d.status = 'ACTIVE' AND NOT d.is_payment_completed""",
        "account lines": """
            INSERT INTO bills_billaccountdetail (id, bill_detail_id, demand_detail_id, tax_head_code, "order",
                amount, adjusted_amount)
            SELECT NEW_ID, bd.id, dd.id, dd.tax_head_code, 0, dd.tax_amount - dd.collection_amount, 0
            FROM bills_bill b
            JOIN bills_billdetail bd ON bd.bill_id = b.id
            JOIN demands_demanddetail dd ON dd.demand_id = bd.demand_id
            WHERE b.tenant_id = %(tenant)s""",
    }
    timings: dict[str, float] = {}
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        for name, statement in statements.items():
            statement = statement.replace("NEW_ID", _ordered_id_sql())
            started = time.perf_counter()
            cursor.execute(statement, values)
            timings[name] = time.perf_counter() - started
        committing = time.perf_counter()
    timings["commit (deferred FK checks)"] = time.perf_counter() - committing  # the COMMIT ran on leaving the block
    return timings


def _ordered_id_sql() -> str:
    """SQL for ascending version-7 UUIDs, as ``bulk_write.new_ids`` makes them: this millisecond, a random
    12-bit field, the variant, and ``row_number()`` as the counter."""
    prefix = f"{time.time_ns() // 1_000_000:012x}7{secrets.randbits(12):03x}8"
    return f"('{prefix}' || lpad(to_hex(row_number() OVER ()), 15, '0'))::uuid"


def _delete(tenant: Tenant) -> None:
    """Remove a benchmark tenant's bills, demands, payers and accounts; the tenant and the run record stay."""
    values = {"tenant": tenant.pk}
    statements = (
        """DELETE FROM bills_billaccountdetail WHERE bill_detail_id IN (
               SELECT bd.id FROM bills_billdetail bd JOIN bills_bill b ON b.id = bd.bill_id
               WHERE b.tenant_id = %(tenant)s)""",
        """DELETE FROM bills_billdetail WHERE bill_id IN (SELECT id FROM bills_bill WHERE tenant_id = %(tenant)s)""",
        "DELETE FROM bills_bill WHERE tenant_id = %(tenant)s",
        """DELETE FROM demands_demanddetail WHERE demand_id IN (
               SELECT id FROM demands_demand WHERE tenant_id = %(tenant)s)""",
        """CREATE TEMP TABLE bench_payers ON COMMIT DROP AS
               SELECT DISTINCT payer_id FROM demands_demand WHERE tenant_id = %(tenant)s AND payer_id IS NOT NULL""",
        "DELETE FROM demands_demand WHERE tenant_id = %(tenant)s",
        "DELETE FROM masters_payer WHERE uuid IN (SELECT payer_id FROM bench_payers)",
        "DELETE FROM demands_consumeraccount WHERE tenant_id = %(tenant)s",
    )
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, values)
