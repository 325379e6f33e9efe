"""Benchmark: N counter payments (CASH, full amount, one bill each) through ``payment_create``.

    python manage.py bench_counter_payments --payments 1000

Loads the seed master data (idempotent) and uses a fresh city tenant per run so that runs never collide.
Set-up (not timed): N consumers with one demand of 5 tax heads each (``demand_create`` in batches of 100) and
each consumer's bill (``bill_fetch``). Timed: one ``payment_create`` per bill, one after the other, the way a
counter takes them — validation, account/demand/bill locks, apportionment, receipt number, payment rows, the
write-back to the demand details with history and revision bump.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from billing_project import clock
from bills.models import Bill
from bills.services.fetch import FetchCriteria, bill_fetch
from demands.models import Demand
from demands.services import DemandInput, DetailInput, demand_create
from masters.access import Caller
from masters.models import Role
from masters.services.accounts import tenant_ensure
from masters.services.mdms import mdms_load
from payments.models import Payment, PaymentApplication
from payments.services import PaymentDetailInput, PaymentInput, payment_create

SEED_DIR = Path(__file__).resolve().parents[3] / "masters" / "fixtures" / "mdms"
HEADS = (  # whole amounts: PT takes no fractional payments
    ("PT_TAX", Decimal("1000")),
    ("PT_FIRE_CESS", Decimal("25")),
    ("PT_ADHOC_PENALTY", Decimal("10")),
    ("PT_TIME_REBATE", Decimal("-50")),
    ("PT_OWNER_EXEMPTION", Decimal("-5")),
)
PERIOD_FROM = dt.datetime(2019, 4, 1, tzinfo=dt.UTC)  # inside PTAN2019 of the seed
PERIOD_TO = dt.datetime(2020, 3, 30, tzinfo=dt.UTC)
BATCH = 100


class Command(BaseCommand):
    help = "Take N counter payments (CASH, full amount, one bill each) through payment_create; report payments/s."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--payments", type=int, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        total = options["payments"]
        if total < 1:
            raise CommandError("--payments must be positive")
        mdms_load(documents=[(path.name, path.read_bytes()) for path in sorted(SEED_DIR.rglob("*.json"))])
        run = clock.now().strftime("%Y%m%d%H%M%S")
        tenant = tenant_ensure(code=f"pb.bench{run}", name="Benchmark city").code
        # A counter clerk of the benchmark city: creates demands and fetches bills (EMPLOYEE), takes payments.
        caller = Caller(
            user_id=None, username="bench", is_superuser=False, roles=((tenant, Role.EMPLOYEE), (tenant, Role.CASHIER))
        )
        details = tuple(DetailInput(tax_head_code=code, tax_amount=amount) for code, amount in HEADS)
        codes = [f"PAY-{run}-{i:07d}" for i in range(total)]

        self.stdout.write(f"database: {connection.vendor}; {total} consumers x {len(HEADS)} heads")
        started = time.perf_counter()
        for offset in range(0, total, BATCH):
            demand_create(
                caller=caller,
                demands=[
                    DemandInput(
                        tenant_code=tenant,
                        consumer_code=code,
                        consumer_type="BUILTUP",
                        business_service="PT",
                        tax_period_from=PERIOD_FROM,
                        tax_period_to=PERIOD_TO,
                        details=details,
                    )
                    for code in codes[offset : offset + BATCH]
                ],
                at=clock.now(),
            )
        bills: list[Bill] = []
        for offset in range(0, total, BATCH):
            bills.extend(
                bill_fetch(
                    caller=caller,
                    criteria=FetchCriteria(
                        tenant_id=tenant, business_service="PT", consumer_codes=tuple(codes[offset : offset + BATCH])
                    ),
                )
            )
        self.stdout.write(f"set-up (demands and bills): {time.perf_counter() - started:.2f} s")
        if len(bills) != total:
            raise CommandError(f"expected {total} bills, fetched {len(bills)}")

        started = time.perf_counter()
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
        elapsed = time.perf_counter() - started

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
            f"{stored / elapsed:.0f} payments/second"
        )
