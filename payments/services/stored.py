"""The payment ``payment_create`` answers, built from the rows it has just written instead of read back.

``payment_create`` used to answer ``payments_with_details().get(pk=...)`` after its commit: three more
statements (the payment with tenant and payer, its details with their bills, their account lines) for rows the
transaction has in hand. :func:`payment_as_stored` builds the same object graph from those rows — every model
instance made the way a query makes it (``Model.from_db``, no caches but those the read would fill), with the
values as the database gives them back (amounts with two places, times in UTC, JSON as decoded from the
column) — and answers None when it cannot promise the same result; the caller then reads it back as before:

- more than one payment detail: the read orders them by receipt number in the database's collation;
- a JSON value whose stored form may differ from the value in hand: a float, a tuple, or anything but
  dicts, lists, strings, integers, booleans and None; on PostgreSQL also object keys out of ``jsonb`` order
  (``jsonb`` keeps keys shorter-first, then bytewise);
- a naive date-time, or an account line without its id (a database that returns no ids from a bulk insert).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import DateTimeField, DecimalField, JSONField, Model, QuerySet

from billing_project.money import to_money
from bills.models import Bill
from masters.models import Payer, Tenant
from payments.models import Payment, PaymentAccountLine, PaymentDetail
from payments.selectors import payment_account_lines_queryset, payment_details_queryset

M = TypeVar("M", bound=Model)


class _NotExact(Exception):
    """A value whose stored form may differ from the value in hand."""


def payment_as_stored(
    *,
    payment: Payment,
    detail: PaymentDetail,
    account_lines: Sequence[PaymentAccountLine],
    bill: Bill,
    tenant: Tenant,
    payer: Payer | None,
) -> Payment | None:
    """What ``payments_with_details().get(pk=payment.pk)`` reads after the commit of a one-detail payment, built
    from the rows written (``bill`` with its new status, the ``tenant`` and ``payer`` rows the payment points to);
    None when it cannot be built exactly."""
    try:
        stored = _as_read(payment)
        stored_detail = _as_read(detail)
        lines = [_as_read(line) for line in sorted(account_lines, key=_line_id)]
        bill_read, tenant_read = _as_read(bill), _as_read(tenant)
        payer_read = _as_read(payer) if payer is not None else None
    except _NotExact:
        return None
    stored._state.fields_cache["tenant"] = tenant_read
    stored._state.fields_cache["payer"] = payer_read
    stored_detail._state.fields_cache["bill"] = bill_read
    stored_detail._state.fields_cache["payment"] = stored
    for line in lines:
        line._state.fields_cache["payment_detail"] = stored_detail
    _prefetched(stored_detail, "account_lines", payment_account_lines_queryset(), lines)
    _prefetched(stored, "details", payment_details_queryset(), [stored_detail])
    return stored


def _line_id(line: PaymentAccountLine) -> int:
    if line.pk is None:
        raise _NotExact("an account line without its id")
    return int(line.pk)


def _prefetched(instance: Model, name: str, queryset: QuerySet[Any], objects: Iterable[Model]) -> None:
    """Fill ``instance.<name>.all()`` the way ``prefetch_related`` does (``prefetch_one_level``)."""
    cached = getattr(instance, name)._apply_rel_filters(queryset)
    cached._result_cache = list(objects)
    cached._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}  # type: ignore[attr-defined]
    instance._prefetched_objects_cache[name] = cached  # type: ignore[attr-defined]


def _as_read(instance: M) -> M:
    """A new instance with ``instance``'s column values as a query would give them back."""
    fields = type(instance)._meta.concrete_fields
    values = [_column_value(field, getattr(instance, field.attname)) for field in fields]
    return type(instance).from_db(instance._state.db or "default", [field.attname for field in fields], values)


def _column_value(field: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(field, DecimalField):
        return to_money(value)  # numeric(14, 2) gives two places back (and no negative zero)
    if isinstance(field, DateTimeField):
        if value.tzinfo is None or value.utcoffset() is None:
            raise _NotExact("a naive date-time")
        return value.astimezone(dt.UTC)
    if isinstance(field, JSONField):
        if not _json_exact(value, jsonb=connection.vendor == "postgresql"):
            raise _NotExact("a JSON value the column may store differently")
        return json.loads(json.dumps(value))  # a copy, as decoded from the column
    if isinstance(value, str):
        value = str(value)  # a choices member is stored (and read) as its plain value
    elif isinstance(value, int) and not isinstance(value, bool):
        value = int(value)
    if type(value) not in (str, int, bool, uuid.UUID):
        raise _NotExact(f"a {type(value).__name__} in {field.name}")
    return value


def _jsonb_key(key: str) -> tuple[int, bytes]:
    raw = key.encode()
    return len(raw), raw


def _json_exact(value: Any, *, jsonb: bool) -> bool:
    """True when the column gives ``value`` back as it is (same types, same key order)."""
    if value is None or type(value) in (bool, str, int):  # not subclasses (an enum member decodes as a plain value)
        return True
    if type(value) is list:
        return all(_json_exact(item, jsonb=jsonb) for item in value)
    if type(value) is dict:
        keys = list(value)
        if not all(type(key) is str for key in keys):
            return False
        if jsonb and keys != sorted(keys, key=_jsonb_key):
            return False
        return all(_json_exact(item, jsonb=jsonb) for item in value.values())
    return False
