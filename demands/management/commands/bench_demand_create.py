"""Benchmark: create N demands (5 tax heads each) through ``demand_create`` and report demands/second.

    python manage.py bench_demand_create --demands 10000 [--batch 100]

Loads the seed master data (idempotent), uses a fresh city tenant per run so runs never collide, and
creates one demand per consumer in batches (one service call and one transaction per batch), the way a
revenue module posts a day's assessments.
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
from demands.models import Demand, DemandDetail
from demands.services import DemandInput, DetailInput, demand_create
from masters.access import Caller
from masters.services import mdms_load, tenant_ensure

SEED_DIR = Path(__file__).resolve().parents[3] / "masters" / "fixtures" / "mdms"
HEADS = (
    ("PT_TAX", Decimal("1000.00")),
    ("PT_FIRE_CESS", Decimal("25.50")),
    ("PT_ADHOC_PENALTY", Decimal("10.00")),
    ("PT_TIME_REBATE", Decimal("-50.00")),
    ("PT_OWNER_EXEMPTION", Decimal("-5.25")),
)
PERIOD_FROM = dt.datetime(2019, 4, 1, tzinfo=dt.UTC)  # inside PTAN2019 of the seed
PERIOD_TO = dt.datetime(2020, 3, 30, tzinfo=dt.UTC)


class Command(BaseCommand):
    help = "Create N demands (5 tax heads each) through the demand service and report demands/second."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--demands", type=int, default=10_000)
        parser.add_argument("--batch", type=int, default=100)

    def handle(self, *args: Any, **options: Any) -> None:
        total, batch = options["demands"], options["batch"]
        if total < 1 or batch < 1:
            raise CommandError("--demands and --batch must be positive")
        files = sorted(SEED_DIR.rglob("*.json"))
        mdms_load(documents=[(path.name, path.read_bytes()) for path in files])
        run = clock.now().strftime("%Y%m%d%H%M%S")
        tenant = tenant_ensure(code=f"pb.bench{run}", name="Benchmark city").code
        caller = Caller(user_id=None, username="bench", is_superuser=True, roles=())
        details = tuple(DetailInput(tax_head_code=code, tax_amount=amount) for code, amount in HEADS)

        self.stdout.write(f"database: {connection.vendor}; {total} demands x {len(HEADS)} heads, batches of {batch}")
        started = time.perf_counter()
        created = 0
        while created < total:
            size = min(batch, total - created)
            demand_create(
                caller=caller,
                demands=[
                    DemandInput(
                        tenant_code=tenant,
                        consumer_code=f"BENCH-{run}-{created + i:07d}",
                        consumer_type="BUILTUP",
                        business_service="PT",
                        tax_period_from=PERIOD_FROM,
                        tax_period_to=PERIOD_TO,
                        details=details,
                    )
                    for i in range(size)
                ],
                at=clock.now(),
            )
            created += size
        elapsed = time.perf_counter() - started
        stored = Demand.objects.filter(tenant__code=tenant).count()
        lines = DemandDetail.objects.filter(demand__tenant__code=tenant).count()
        if stored != total or lines != total * len(HEADS):
            raise CommandError(f"expected {total} demands / {total * len(HEADS)} lines, found {stored} / {lines}")
        self.stdout.write(
            f"created {stored} demands ({lines} detail lines) in {elapsed:.2f} s: {stored / elapsed:.0f} demands/second"
        )
