"""What the payment benchmark commands share: the seed masters, a fresh city, consumers with bills, and the
figures they print (statements per call, peak memory, load average, an optional cProfile of the timed part).

Not a service: the commands are measuring tools, they build their data through the real services.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import os
import pstats
import resource
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from django.db import connection

from billing_project import clock
from bills.models import Bill
from bills.services import FetchCriteria, bill_fetch
from demands.services import DemandInput, DetailInput, demand_create
from masters.access import Caller
from masters.models import Role
from masters.services import mdms_load, tenant_ensure

SEED_DIR = Path(__file__).resolve().parents[2] / "masters" / "fixtures" / "mdms"
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
T = TypeVar("T")


def bench_city(prefix: str) -> tuple[str, Caller]:
    """Load the seed masters (idempotent) and create a fresh city tenant for this run, so runs never collide.

    Answers its code and a counter clerk of it (creates demands and fetches bills as EMPLOYEE, takes payments
    as CASHIER)."""
    mdms_load(documents=[(path.name, path.read_bytes()) for path in sorted(SEED_DIR.rglob("*.json"))])
    run = clock.now().strftime("%Y%m%d%H%M%S%f")
    tenant = tenant_ensure(code=f"pb.{prefix}{run}", name="Benchmark city").code
    caller = Caller(
        user_id=None, username="bench", is_superuser=False, roles=((tenant, Role.EMPLOYEE), (tenant, Role.CASHIER))
    )
    return tenant, caller


def consumers_with_bills(*, caller: Caller, tenant: str, codes: Sequence[str]) -> list[Bill]:
    """One PT demand of the 5 ``HEADS`` per consumer (``demand_create``, batches of 100) and each consumer's bill
    (``bill_fetch``), in ``codes`` order."""
    details = tuple(DetailInput(tax_head_code=code, tax_amount=amount) for code, amount in HEADS)
    for offset in range(0, len(codes), BATCH):
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
    for offset in range(0, len(codes), BATCH):
        bills.extend(
            bill_fetch(
                caller=caller,
                criteria=FetchCriteria(
                    tenant_id=tenant, business_service="PT", consumer_codes=tuple(codes[offset : offset + BATCH])
                ),
            )
        )
    return bills


class StatementCounter:
    """Counts the SQL statements sent through Django's cursors (an ``execute_wrapper``: cheap enough to stay on
    while timing). BEGIN and COMMIT are not among them: the driver sends BEGIN itself, COMMIT is a connection
    call — add 2 per transaction for the statements the server sees."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., T], sql: str, params: Any, many: bool, context: Any) -> T:
        self.count += 1
        return execute(sql, params, many, context)

    @contextmanager
    def counting(self) -> Iterator[StatementCounter]:
        with connection.execute_wrapper(self):
            yield self


@contextmanager
def profiled(path: str | None, out: Callable[[str], None], top: int = 25) -> Iterator[None]:
    """With a ``path``, run the block under cProfile, dump the stats there and print the top functions by own
    time; without one, just run it."""
    if not path:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(path)
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(top)
        out(text.getvalue())
        out(f"profile written to {path} (python -m pstats {path})")


def peak_memory_mib() -> float:
    """The process's peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def database_name() -> str:
    """``postgresql 15.20`` / ``sqlite 3.40.1``."""
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        version = int(connection.connection.info.server_version)
        return f"postgresql {version // 10000}.{version % 10000}"
    return f"{connection.vendor} {sqlite3.sqlite_version}"
