"""Writing generated bills as plain rows: binary ``COPY`` on PostgreSQL, ``bulk_create`` elsewhere.

Bill generation produces rows (tuples in the column order below), not model instances: building ~1.3 million
Django model instances for a run of 100,000 consumers costs more than writing them. On PostgreSQL the rows go
to the server with one ``COPY ... FROM STDIN (FORMAT BINARY)`` per table (psycopg 3, C-accelerated
adaptation); on other databases they become model instances and ``bulk_create``. Both run inside the
caller's transaction, so a chunk's bills commit or roll back with the rest of its work.

Ids are time-ordered version-7 UUIDs (``new_ids``): cheaper to make than ``uuid.uuid4()`` one by one, and
ascending, which keeps index inserts local however large the tables grow.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction

from bills.models import Bill, BillAccountDetail, BillDetail

BILL_COLUMNS = (
    "id",
    "account_id",
    "tenant_id",
    "business_service",
    "consumer_code",
    "bill_number",
    "bill_date",
    "status",
    "revision",
    "expiry_date",
    "total_amount",
    "payer_id",
    "payer_name",
    "payer_address",
    "payer_email",
    "mobile_number",
    "additional_details",
    "file_store_id",
    "run_id",
    "created_by",
    "created_at",
    "modified_by",
    "modified_at",
)
DETAIL_COLUMNS = (
    "id",
    "bill_id",
    "demand_id",
    "from_period",
    "to_period",
    "expiry_date",
    "amount",
    "amount_paid",
    "additional_details",
)
LINE_COLUMNS = ("id", "bill_detail_id", "demand_detail_id", "tax_head_code", "order", "amount", "adjusted_amount")

# PostgreSQL column type (as Django declares it, without modifiers) -> the binary COPY type psycopg dumps.
_COPY_TYPES = {
    "uuid": "uuid",
    "bigint": "int8",
    "integer": "int4",
    "varchar": "text",
    "text": "text",
    "timestamp with time zone": "timestamptz",
    "numeric": "numeric",
    "jsonb": "jsonb",
}

_COUNTER_BITS = 74  # the bits of a version-7 UUID after its timestamp, less version and variant
_LOW_BITS = 62
_LOW_MASK = (1 << _LOW_BITS) - 1
_VERSION_7 = 0x7 << 76
_VARIANT = 0b10 << 62


def new_ids(count: int) -> list[uuid.UUID]:
    """``count`` time-ordered UUIDs in the RFC 9562 version-7 layout, ascending.

    48 bits of Unix milliseconds, then a 74-bit field that starts at a random value (73 random bits, so it
    cannot overflow) and counts up through the batch. Ascending keys append at the right edge of the bills
    tables' primary-key and foreign-key indexes, where ``uuid4`` keys spread every insert over the whole index
    (a run of 100,000 consumers: 93 s against 105 s, ``docs/benchmarks.md``).
    """
    millis = time.time_ns() // 1_000_000
    prefix = ((millis & 0xFFFF_FFFF_FFFF) << 80) | _VERSION_7 | _VARIANT
    start = int.from_bytes(os.urandom(10)) >> (80 - _COUNTER_BITS + 1)
    make = uuid.UUID
    return [
        make(int=prefix | ((value >> _LOW_BITS) << 64) | (value & _LOW_MASK)) for value in range(start, start + count)
    ]


@dataclass
class BillRows:
    """The rows of one batch of new bills: ``bills`` in ``BILL_COLUMNS`` order, and so on."""

    bills: list[tuple[Any, ...]] = field(default_factory=list)
    details: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[tuple[Any, ...]] = field(default_factory=list)


_TABLES: tuple[tuple[type[models.Model], tuple[str, ...], str], ...] = (
    (Bill, BILL_COLUMNS, "bills"),
    (BillDetail, DETAIL_COLUMNS, "details"),
    (BillAccountDetail, LINE_COLUMNS, "lines"),
)


def bill_rows_write(rows: BillRows) -> None:
    """Insert the rows (bills, then details, then account lines) in the caller's transaction."""
    if not rows.bills:
        return
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            for model, columns, attr in _TABLES:
                _copy(model, columns, getattr(rows, attr))
        else:
            for model, columns, attr in _TABLES:
                model._default_manager.bulk_create(
                    [model(**dict(zip(columns, row, strict=True))) for row in getattr(rows, attr)]
                )


def _copy(model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    if not rows:
        return
    fields = [_concrete_field(model, name) for name in columns]
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    types = [_copy_type(f) for f in fields]
    statement = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN (FORMAT BINARY)"
    # wrap_database_errors: psycopg's errors become Django's (an IntegrityError stays catchable as one).
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(statement) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)


def _concrete_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)  # a foreign key's attname (``bill_id``) finds the key itself
    if not isinstance(field, models.Field) or not field.column:
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field


def _copy_type(model_field: models.Field[Any, Any]) -> str:
    declared = model_field.db_type(connection) or ""  # a foreign key declares its target's type
    base = declared.split("(", 1)[0].strip()
    if base not in _COPY_TYPES:
        raise TypeError(f"no COPY type for column {model_field.column} ({declared})")
    return _COPY_TYPES[base]


__all__ = ["BILL_COLUMNS", "DETAIL_COLUMNS", "LINE_COLUMNS", "BillRows", "bill_rows_write", "new_ids"]
