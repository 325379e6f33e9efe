"""Fixtures of the import tests: an importing cashier (a user: runs act as their uploader), CSV builders, and
``run_file`` (create + execute in-process). Bills are built at ``AT``; imports run at ``PAY_AT`` (same day)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from masters.access import Caller, caller_for
from masters.models import Role, Tenant
from payments.imports.models import ImportKind, ImportRow, ImportRun
from payments.imports.services import import_run_create, import_run_execute
from tests.payments.conftest import CITY, PAY_AT

OFFLINE_HEADER = "consumer_code,business_service,amount,mode,instrument_reference,date"
SETTLEMENT_HEADER = "transaction_id,amount,status,settlement_date"
DAY = "2024-05-01"  # PAY_AT's billing day (Asia/Kolkata)


@pytest.fixture
def importer_user(seed: dict[str, Tenant], user_factory: Callable[..., Any]) -> Any:
    return user_factory("importer-asr", {CITY: [Role.CASHIER]})


@pytest.fixture
def importer(importer_user: Any) -> Caller:
    return caller_for(importer_user)


def csv_bytes(header: str, *lines: str) -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode()


def offline_csv(*lines: str, header: str = OFFLINE_HEADER) -> bytes:
    return csv_bytes(header, *lines)


def create_run(
    caller: Caller,
    content: bytes,
    *,
    kind: str = ImportKind.OFFLINE_COLLECTIONS,
    tenant: str = CITY,
    name: str = "collections.csv",
    at: dt.datetime = PAY_AT,
) -> ImportRun:
    return import_run_create(
        caller=caller, kind=kind, tenant_code=tenant, file_name=name, content=content, at=at, enqueue=False
    )


def run_file(caller: Caller, content: bytes, *, at: dt.datetime = PAY_AT, **kwargs: Any) -> ImportRun:
    """Create a run and execute it to the end in this process."""
    run = create_run(caller, content, at=at, **kwargs)
    return import_run_execute(run_id=run.pk, at=at)


def outcomes(run: ImportRun) -> list[tuple[int, str, str, str]]:
    """(line, outcome, error code, error message) of every row of the run, in line order."""
    return list(
        ImportRow.objects.filter(run=run)
        .order_by("line_number")
        .values_list("line_number", "outcome", "error_code", "error_message")
    )


def counts(run: ImportRun) -> tuple[str, int, int, int, int, int]:
    """(status, total, processed, applied, duplicate, rejected) as stored."""
    run.refresh_from_db()
    return (run.status, run.total_rows, run.processed, run.applied, run.duplicate, run.rejected)


__all__ = [
    "DAY",
    "OFFLINE_HEADER",
    "SETTLEMENT_HEADER",
    "counts",
    "create_run",
    "csv_bytes",
    "offline_csv",
    "outcomes",
    "run_file",
]
