"""Database helpers shared by the apps' services."""

from __future__ import annotations

from django.db import IntegrityError
from django.db.models import Model, UniqueConstraint


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
