"""Database helpers shared by the apps' services."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, connection
from django.db.models import Field, Model, UniqueConstraint


def is_unique_violation(exc: IntegrityError, model: type[Model], constraint: str) -> bool:
    """True when ``exc`` was raised by the unique constraint ``constraint`` of ``model``.

    PostgreSQL names the constraint in the error's diagnostics. SQLite names an expression index
    (``index 'name'``) but lists the columns of a column-based one (``UNIQUE constraint failed: t.a, t.b``).
    """
    diag = getattr(exc.__cause__, "diag", None)
    constraint_name = getattr(diag, "constraint_name", None)
    if constraint_name is not None:
        return bool(constraint_name == constraint)
    text = str(exc)
    if f"'{constraint}'" in text:
        return True
    for candidate in model._meta.constraints:
        if isinstance(candidate, UniqueConstraint) and candidate.name == constraint and candidate.fields:
            table = model._meta.db_table
            columns = ", ".join(f"{table}.{model._meta.get_field(name).column}" for name in candidate.fields)  # type: ignore[union-attr]
            return text.strip() == f"UNIQUE constraint failed: {columns}"
    return False


def update_rows(
    model: type[Model],
    rows: Sequence[tuple[Any, ...]],
    *,
    fields: Sequence[str],
    same: Mapping[str, Any] | None = None,
) -> int:
    """Write a different value per row into ``fields`` (and the values ``same`` into every row): one statement
    (or one per run of rows where the database limits the number of query parameters, as SQLite does).

    ``rows`` are ``(pk, value of fields[0], value of fields[1], …)``. The statement is
    ``UPDATE t SET f = v.column2, … FROM (VALUES (pk, …), …) AS v WHERE t.pk = v.column1`` — one set-based
    UPDATE whatever the number of rows, where ``bulk_update`` builds a ``CASE`` per field and row (its SQL costs
    more to compile than the round trip it saves). Values go through the fields' ``get_db_prep_save`` as the ORM
    sends them, with an explicit cast to the column type on PostgreSQL (SQLite applies the column's affinity on
    assignment, as in any UPDATE). Answers the number of rows updated. SQLite older than 3.33 (no
    ``UPDATE … FROM``) gets ``bulk_update`` and one ``update`` for ``same`` instead.
    """
    if not rows:
        return 0
    constants = dict(same or {})
    meta = model._meta
    pk_field = meta.pk
    assert pk_field is not None
    row_fields = [pk_field, *(_concrete(model, name) for name in fields)]
    if connection.vendor == "sqlite" and sqlite3.sqlite_version_info < (3, 33):  # pragma: no cover - old SQLite
        return _update_rows_orm(model, rows, fields=fields, same=constants)
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    cast = connection.vendor == "postgresql"
    placeholders = ", ".join(f"CAST(%s AS {_cast_type(field)})" if cast else "%s" for field in row_fields)
    for row in rows:
        if len(row) != len(row_fields):
            raise ValueError(f"update_rows: each row has the pk and {len(fields)} value(s): {row!r}")
    assignments = [
        f"{quote(field.column)} = v.column{position}" for position, field in enumerate(row_fields[1:], start=2)
    ]
    constant_params: list[Any] = []
    for name, value in constants.items():
        field = _concrete(model, name)
        assignments.append(f"{quote(field.column)} = %s")
        constant_params.append(field.get_db_prep_save(value, connection))
    updated = 0
    with connection.cursor() as cursor:
        for batch in _batches(rows, per_row=len(row_fields), fixed=len(constant_params)):
            params: list[Any] = []
            for row in batch:
                params.extend(
                    field.get_db_prep_save(value, connection) for field, value in zip(row_fields, row, strict=True)
                )
            values = ", ".join(f"({placeholders})" for _ in batch)
            sql = (
                f"UPDATE {table} SET {', '.join(assignments)} FROM (VALUES {values}) AS v "  # noqa: S608 - model names
                f"WHERE {table}.{quote(pk_field.column)} = v.column1"
            )
            cursor.execute(sql, [*constant_params, *params])
            updated += int(cursor.rowcount)
    return updated


def _cast_type(field: Field[Any, Any]) -> str:
    """The type a VALUES cell is cast to on PostgreSQL: the column's, except that text is cast to ``text`` — a cast
    to ``varchar(n)`` would cut an over-long value silently, where the assignment to the column refuses it."""
    db_type = str(field.db_type(connection))
    return "text" if db_type.startswith(("varchar", "char")) else db_type


def _batches(rows: Sequence[tuple[Any, ...]], *, per_row: int, fixed: int) -> Iterator[Sequence[tuple[Any, ...]]]:
    """``rows`` in runs that stay within the database's limit of query parameters (one run when it has none)."""
    limit = connection.features.max_query_params
    size = len(rows) if not limit else max(1, (int(limit) - fixed) // per_row)
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _concrete(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.concrete or field.column is None:
        raise ValueError(f"update_rows: {model.__name__}.{name} is not a column")
    return field


def _update_rows_orm(
    model: type[Model], rows: Sequence[tuple[Any, ...]], *, fields: Sequence[str], same: dict[str, Any]
) -> int:  # pragma: no cover - only for SQLite older than 3.33
    objects = []
    for row in rows:
        obj = model(pk=row[0])
        for name, value in zip(fields, row[1:], strict=True):
            setattr(obj, name, value)
        objects.append(obj)
    updated = model._default_manager.bulk_update(objects, list(fields))
    if same:
        model._default_manager.filter(pk__in=[row[0] for row in rows]).update(**same)
    return updated
