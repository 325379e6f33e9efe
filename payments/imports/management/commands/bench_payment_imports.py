"""Benchmark: a batch import of N offline-collection lines through ``import_run_create`` + ``import_run_execute``,
then a re-import of the same file (every line DUPLICATE).

    python manage.py bench_payment_imports --lines 2000 [--profile /tmp/imports.prof]

Loads the seed master data (idempotent) and uses a fresh city tenant per run so that runs never collide.
Set-up (not timed): N consumers with one PT demand of 5 tax heads each (``demand_create`` in batches of 100) and
each consumer's bill (``bill_fetch``), then an offline-collections CSV with one CASH line per consumer paying
its bill in full (instrument reference ``RCPT-<n>``, today's date).

Timed, as the ``import_payments`` command runs it (one process, a system superuser): the run is created (the
whole file checked and stored) and executed line by line — per line: parse, key look-up, ``bill_fetch`` (the
bill exists: it is answered as is), ``payment_validate``, then one transaction with the APPLIED row,
``payment_record`` (locks, apportionment, receipt number, payment rows, write-back with history and revision
bump) and the run's counters. Then the same bytes are imported again: every line is found applied by its key
and recorded DUPLICATE. Verifies both runs' counters and rows, and that the money is exact (every payment, bill
and demand line paid in full, nothing more). Prints lines/second, ms and SQL statements per line, and the peak
memory, for both runs, and the CPU time of this process (the rest of the wall time is spent waiting on the
database); ``--profile`` profiles the first run's execution (cProfile stats to the file).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, F, Q, Sum

from billing_project import clock
from billing_project.money import money_sum
from bills.models import Bill, BillStatus
from demands.models import Demand, DemandDetail
from masters.access import Caller
from payments.imports.domain.csvfile import MAX_ROWS
from payments.imports.models import ImportKind, ImportRow, ImportRun, ImportStatus, RowOutcome
from payments.imports.services import import_run_create, import_run_execute
from payments.management.benchkit import (
    HEADS,
    StatementCounter,
    bench_city,
    consumers_with_bills,
    database_name,
    load_average,
    peak_memory_mib,
    profiled,
)
from payments.models import Payment, PaymentApplication

ACTOR = "bench_payment_imports"
HEADER = "consumer_code,business_service,amount,mode,instrument_reference,date,payer_name"


class Command(BaseCommand):
    help = "Import N offline-collection lines (then the same file again) through the import services; report lines/s."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--lines", type=int, default=2000)
        parser.add_argument("--profile", metavar="FILE", help="Profile the first run's execution (cProfile to FILE)")

    def handle(self, *args: Any, **options: Any) -> None:
        total = options["lines"]
        if not 1 <= total <= MAX_ROWS:
            raise CommandError(f"--lines must be from 1 to {MAX_ROWS} (the most lines a file may have)")
        tenant, clerk = bench_city("benchimp")
        codes = [f"IMP-{tenant.rsplit('.', 1)[1]}-{i:07d}" for i in range(total)]
        self.stdout.write(f"database: {database_name()}; {total} consumers x {len(HEADS)} heads; {load_average()}")

        started = time.perf_counter()
        bills = consumers_with_bills(caller=clerk, tenant=tenant, codes=codes)
        if len(bills) != total:
            raise CommandError(f"expected {total} bills, fetched {len(bills)}")
        today = clock.now().astimezone(clock.billing_zone()).date().isoformat()
        content = "\n".join(
            [
                HEADER,
                *(
                    f"{bill.consumer_code},PT,{bill.total_amount},CASH,RCPT-{n:07d},{today},Owner {n}"
                    for n, bill in enumerate(bills, start=1)
                ),
            ]
        ).encode()
        self.stdout.write(
            f"set-up (demands, bills, a {len(content) / 1024:.0f} KiB file): {time.perf_counter() - started:.2f} s"
        )

        caller = Caller(user_id=None, username=ACTOR, is_superuser=True, roles=())
        first = self._import(caller, tenant, content, "first import", options["profile"])
        self._check_first(first, tenant, bills)
        again = self._import(caller, tenant, content, "re-import", None)
        self._check_again(again, first, tenant, bills)
        self.stdout.write(f"peak memory {peak_memory_mib():.0f} MiB; {load_average()}")

    def _import(self, caller: Caller, tenant: str, content: bytes, label: str, profile: str | None) -> ImportRun:
        counter = StatementCounter()
        with counter.counting():
            started, cpu = time.perf_counter(), time.process_time()
            run = import_run_create(
                caller=caller,
                kind=ImportKind.OFFLINE_COLLECTIONS,
                tenant_code=tenant,
                file_name="bench-offline-collections.csv",
                content=content,
                at=clock.now(),
                enqueue=False,
            )
            created = time.perf_counter() - started
            with profiled(profile, self.stdout.write):
                run = import_run_execute(run_id=run.pk, at=clock.now())
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        lines = run.total_rows
        self.stdout.write(
            f"{label}: {lines} lines ({run.applied} applied, {run.duplicate} duplicate, {run.rejected} rejected) "
            f"in {elapsed:.2f} s (create {created:.2f} s): {lines / elapsed:.0f} lines/second, "
            f"{1000 * elapsed / lines:.1f} ms per line, {counter.count / lines:.1f} SQL statements per line "
            f"(+ BEGIN and COMMIT of each transaction); CPU of this process {cpu:.2f} s "
            f"({1000 * cpu / lines:.1f} ms per line); peak memory {peak_memory_mib():.0f} MiB"
        )
        return run

    def _check_first(self, run: ImportRun, tenant: str, bills: list[Bill]) -> None:
        total = len(bills)
        due = money_sum(bill.total_amount for bill in bills)
        rows = ImportRow.objects.filter(run=run)
        applied_rows = rows.filter(outcome=RowOutcome.APPLIED, payment__isnull=False).count()
        payments = Payment.objects.filter(tenant__code=tenant).aggregate(n=Count("pk"), paid=Sum("total_amount_paid"))
        applications = PaymentApplication.objects.filter(payment_detail__payment__tenant__code=tenant).count()
        lines = DemandDetail.objects.filter(demand__tenant__code=tenant).aggregate(
            tax=Sum("tax_amount"),
            collected=Sum("collection_amount"),
            off=Count("pk", filter=~Q(tax_amount=F("collection_amount"))),
        )
        found = (
            run.status,
            run.applied,
            run.duplicate,
            run.rejected,
            applied_rows,
            payments["n"],
            payments["paid"],
            applications,
            lines["collected"],
            lines["off"],
            Demand.objects.filter(tenant__code=tenant, is_payment_completed=False).count(),
            Bill.objects.filter(tenant__code=tenant, status=BillStatus.PAID).count(),
        )
        wanted = (ImportStatus.DONE, total, 0, 0, total, total, due, total * len(HEADS), due, 0, 0, total)
        if found != wanted:
            raise CommandError(
                "first import: expected (status, applied, duplicate, rejected, applied rows with a payment, payments, "
                f"paid, applications, collected, lines not paid in full, open demands, paid bills) = {wanted}, "
                f"found {found}"
            )
        if lines["tax"] != due:
            raise CommandError(f"first import: the demand lines' tax {lines['tax']} is not the bills' total {due}")

    def _check_again(self, run: ImportRun, first: ImportRun, tenant: str, bills: list[Bill]) -> None:
        total = len(bills)
        duplicates = ImportRow.objects.filter(
            run=run, outcome=RowOutcome.DUPLICATE, duplicate_of__run=first, payment__isnull=True
        ).count()
        payments = Payment.objects.filter(tenant__code=tenant).count()
        found = (run.status, run.applied, run.duplicate, run.rejected, duplicates, payments)
        wanted = (ImportStatus.DONE, 0, total, 0, total, total)
        if found != wanted:
            raise CommandError(
                "re-import: expected (status, applied, duplicate, rejected, duplicate rows of the first run, "
                f"payments) = {wanted}, found {found}"
            )
