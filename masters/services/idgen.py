"""Id generation (the reference's egov-idgen, reference §3.4 and §7.7), backed by ``IdSequence`` rows.

Numbers are drawn under the sequence row's lock inside the caller's transaction, so they are unique and
gap-free: a caller that rolls back gives its numbers back, and the next caller of the same sequence waits
for the holder to commit or roll back. Keep the draw late in the caller's transaction (lock order: consumer
account → demands → bill → id sequence → payment).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import F

from billing_project import clock
from masters.domain.idformat import IdFormatError, ParsedFormat, parse_format, render
from masters.errors import IdGenerationError
from masters.models import IdFormat, IdSequence

logger = logging.getLogger(__name__)

MAX_IDS_PER_CALL = 10_000


def id_format_resolve(*, tenant_code: str, id_name: str, default_format: str) -> str:
    """The format for ``id_name``: the tenant's IdFormat row, else its state's, else ``default_format``."""
    state_code = tenant_code.split(".", 1)[0]
    formats = dict(
        IdFormat.objects.filter(id_name=id_name, tenant__code__in={tenant_code, state_code}).values_list(
            "tenant__code", "format"
        )
    )
    return formats.get(tenant_code) or formats.get(state_code) or default_format


def id_generate(
    *,
    tenant_code: str,
    id_name: str,
    default_format: str,
    placeholders: Mapping[str, str] | None = None,
    count: int = 1,
    at: dt.datetime | None = None,
) -> list[str]:
    """``count`` ids for ``id_name`` in ``tenant_code``, consecutive in every sequence of the format.

    Runs inside the caller's transaction when there is one (the numbers are returned if it rolls back);
    otherwise in its own durable transaction.
    """
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_IDS_PER_CALL:
        raise IdGenerationError(f"count must be a whole number from 1 to {MAX_IDS_PER_CALL}, not {count!r}")
    if not tenant_code:
        raise IdGenerationError("a tenant is required")
    fmt = id_format_resolve(tenant_code=tenant_code, id_name=id_name, default_format=default_format)
    try:
        parsed = parse_format(fmt, placeholders, tenant_code=tenant_code)
    except IdFormatError as exc:
        logger.warning("id format of %s for %s is unusable: %s", id_name, tenant_code, exc)
        raise IdGenerationError(str(exc)) from exc
    _check_sequence_names(parsed)
    instant = at if at is not None else clock.now()
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise IdGenerationError("ids are generated for an aware datetime")
    with _in_transaction():
        firsts = _draw(parsed.sequence_names, count)
    zone = clock.billing_zone()
    return [
        render(parsed, {name: first + offset for name, first in firsts.items()}, instant, zone)
        for offset in range(count)
    ]


@contextmanager
def _in_transaction() -> Iterator[None]:
    """Join the caller's transaction; open a durable one when called outside any."""
    if transaction.get_connection().in_atomic_block:
        with transaction.atomic(savepoint=False):
            yield
    else:
        with transaction.atomic(durable=True):
            yield


def _check_sequence_names(parsed: ParsedFormat) -> None:
    limit = IdSequence._meta.get_field("name").max_length or 0
    for name in parsed.sequence_names:
        if len(name) > limit:
            raise IdGenerationError(f"sequence name {name!r} is longer than {limit} characters")


def _draw(names: tuple[str, ...], count: int) -> dict[str, int]:
    """Advance each sequence by ``count`` under its row lock; return the first value drawn from each.

    Rows are locked in name order (no deadlock between two formats sharing sequences). A missing row is
    created race-free: the INSERT ignores a concurrent creator's row, and the UPDATE then waits on its lock.
    """
    firsts: dict[str, int] = {}
    for name in sorted(names):
        last_value = _advance(name, count)
        if last_value is None:
            IdSequence.objects.bulk_create([IdSequence(name=name, last_value=0)], ignore_conflicts=True)
            last_value = _advance(name, count)
            if last_value is None:
                raise IdGenerationError(f"sequence {name} could not be created")
        firsts[name] = last_value - count + 1
    return firsts


def _advance(name: str, count: int) -> int | None:
    """Add ``count`` to the sequence (taking its row lock); its new last value, or None when there is no row.

    One ``UPDATE ... RETURNING`` (PostgreSQL, SQLite 3.35+); the UPDATE and a read of the row otherwise."""
    rows = IdSequence.objects.filter(name=name)
    if not connection.features.can_return_columns_from_insert:  # pragma: no cover - SQLite before 3.35
        if not rows.update(last_value=F("last_value") + count):
            return None
        return int(rows.values_list("last_value", flat=True).get())
    quote = connection.ops.quote_name
    table, column = quote(IdSequence._meta.db_table), quote("last_value")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = {column} + %s WHERE {quote('name')} = %s RETURNING {column}",  # noqa: S608 - names are constants
            [count, name],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


__all__ = ["id_format_resolve", "id_generate"]
