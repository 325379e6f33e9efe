"""Benchmark: N counter payments (CASH, full amount, one bill each) through ``payment_create``.

    python manage.py bench_counter_payments --payments 1000 [--profile /tmp/counter.prof]

Loads the seed master data (idempotent) and uses a fresh city tenant per run so that runs never collide.
Set-up (not timed): N consumers with one demand of 5 tax heads each (``demand_create`` in batches of 100) and
each consumer's bill (``bill_fetch``). Timed: one ``payment_create`` per bill, one after the other, the way a
counter takes them — validation, account/demand/bill locks, apportionment, receipt number, payment rows, the
write-back to the demand details with history and revision bump.

Prints payments/second, ms per payment, SQL statements per payment (counted on the cursors during the timed
loop: BEGIN and COMMIT come on top), the CPU time of this process in the loop (the rest of the wall time is spent
waiting on the database), the peak memory and the load average; ``--profile`` also runs the timed
loop under cProfile, writes the stats to the file and prints the top functions by own time.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing_project import clock
from demands.models import Demand
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
from payments.services import PaymentDetailInput, PaymentInput, payment_create


class Command(BaseCommand):
    help = "Take N counter payments (CASH, full amount, one bill each) through payment_create; report payments/s."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--payments", type=int, default=1000)
        parser.add_argument("--profile", metavar="FILE", help="Profile the timed loop (cProfile stats to FILE)")

    def handle(self, *args: Any, **options: Any) -> None:
        total = options["payments"]
        if total < 1:
            raise CommandError("--payments must be positive")
        tenant, caller = bench_city("bench")
        codes = [f"PAY-{tenant.rsplit('.', 1)[1]}-{i:07d}" for i in range(total)]

        self.stdout.write(f"database: {database_name()}; {total} consumers x {len(HEADS)} heads; {load_average()}")
        started = time.perf_counter()
        bills = consumers_with_bills(caller=caller, tenant=tenant, codes=codes)
        self.stdout.write(f"set-up (demands and bills): {time.perf_counter() - started:.2f} s")
        if len(bills) != total:
            raise CommandError(f"expected {total} bills, fetched {len(bills)}")

        counter = StatementCounter()
        with profiled(options["profile"], self.stdout.write), counter.counting():
            started, cpu = time.perf_counter(), time.process_time()
            for bill in bills:
                payment_create(
                    caller=caller,
                    payment=PaymentInput(
                        tenant_code=tenant,
                        payment_mode="CASH",
                        total_due=bill.total_amount,
                        total_amount_paid=bill.total_amount,
                        paid_by="Owner",
                        details=(
                            PaymentDetailInput(
                                bill_id=bill.pk,
                                business_service=bill.business_service,
                                total_due=bill.total_amount,
                                total_amount_paid=bill.total_amount,
                            ),
                        ),
                    ),
                    at=clock.now(),
                )
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu

        stored = Payment.objects.filter(tenant__code=tenant).count()
        applied = PaymentApplication.objects.filter(payment_detail__payment__tenant__code=tenant).count()
        open_demands = Demand.objects.filter(tenant__code=tenant, is_payment_completed=False).count()
        if stored != total or applied != total * len(HEADS) or open_demands:
            raise CommandError(
                f"expected {total} payments / {total * len(HEADS)} applications / 0 open demands, "
                f"found {stored} / {applied} / {open_demands}"
            )
        self.stdout.write(
            f"took {stored} payments ({applied} demand lines written back) in {elapsed:.2f} s: "
            f"{stored / elapsed:.0f} payments/second, {1000 * elapsed / stored:.1f} ms per payment, "
            f"{counter.count / stored:.1f} SQL statements per payment (+ BEGIN and COMMIT); "
            f"CPU of this process {cpu:.2f} s ({1000 * cpu / stored:.1f} ms per payment)"
        )
        self.stdout.write(f"peak memory {peak_memory_mib():.0f} MiB; {load_average()}")
