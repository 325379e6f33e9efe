"""Recording a line's outcome: its ``ImportRow`` and the run's counters move in one transaction.

``row_record`` runs inside the caller's transaction (the APPLIED path writes the row with its effect);
``row_reject`` and ``row_duplicate`` are their own durable transactions. A line already recorded for the run
(``payment_imports_importrow_one_per_line``: a second executor of the same run got there first) is left as it
is and ``None`` is answered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import F

from billing_project.db import is_unique_violation
from payments.gateway.models import GatewayTransaction
from payments.imports.domain.csvfile import Line
from payments.imports.models import ImportRow, ImportRun, RowOutcome
from payments.imports.selectors import applied_row
from payments.models import Payment

ONE_PER_LINE = "payment_imports_importrow_one_per_line"
APPLIED_ONCE = "payment_imports_importrow_applied_once"
_COUNTER = {RowOutcome.APPLIED: "applied", RowOutcome.DUPLICATE: "duplicate", RowOutcome.REJECTED: "rejected"}


def row_record(
    *,
    run: ImportRun,
    line: Line,
    outcome: RowOutcome,
    at: dt.datetime,
    row_key: str = "",
    error_code: str = "",
    error_message: str = "",
    payment: Payment | None = None,
    duplicate_of: ImportRow | None = None,
    settlement_date: dt.date | None = None,
    gateway_transaction: GatewayTransaction | None = None,
    note: str = "",
) -> ImportRow:
    """Insert the row and count it on the run, inside the caller's transaction."""
    with transaction.atomic(savepoint=False):
        row = ImportRow.objects.create(
            run=run,
            line_number=line.number,
            raw=line.raw(),
            row_key=row_key,
            outcome=outcome,
            error_code=error_code,
            error_message=error_message,
            payment=payment,
            duplicate_of=duplicate_of,
            settlement_date=settlement_date,
            gateway_transaction=gateway_transaction,
            note=note,
            created_at=at,
        )
        counter = _COUNTER[outcome]
        ImportRun.objects.filter(pk=run.pk).update(
            processed=F("processed") + 1, **{counter: F(counter) + 1}, updated_at=at
        )
    return row


def _own_transaction(record: Callable[[], ImportRow]) -> ImportRow | None:
    try:
        with transaction.atomic(durable=True):
            return record()
    except IntegrityError as exc:
        if line_taken(exc):
            return None
        raise


def row_duplicate(
    *,
    run: ImportRun,
    line: Line,
    row_key: str,
    first: ImportRow,
    at: dt.datetime,
    settlement_date: dt.date | None = None,
    note: str = "",
) -> ImportRow | None:
    """Record a DUPLICATE of the applied row ``first`` (same key, an earlier line or another run)."""
    return _own_transaction(
        lambda: row_record(
            run=run,
            line=line,
            outcome=RowOutcome.DUPLICATE,
            at=at,
            row_key=row_key,
            duplicate_of=first,
            settlement_date=settlement_date,
            gateway_transaction=first.gateway_transaction,
            note=note,
        )
    )


def row_reject(
    *,
    run: ImportRun,
    line: Line,
    code: str,
    message: str,
    at: dt.datetime,
    row_key: str = "",
    settlement_date: dt.date | None = None,
    gateway_transaction: GatewayTransaction | None = None,
    duplicate_if_applied: bool = True,
) -> ImportRow | None:
    """Record a REJECTED line with its exact reason — or, with ``duplicate_if_applied``, a DUPLICATE when its key
    was applied meanwhile.

    An offline line can fail because the same line of a concurrent import was just applied (the bill it fetched
    is paid, nothing is due any more); then the line is a duplicate, not an error. A settlement line that
    contradicts an applied one stays REJECTED (``duplicate_if_applied=False``)."""
    first = applied_row(row_key) if duplicate_if_applied else None
    if first is not None:
        return row_duplicate(run=run, line=line, row_key=row_key, first=first, at=at, settlement_date=settlement_date)
    return _own_transaction(
        lambda: row_record(
            run=run,
            line=line,
            outcome=RowOutcome.REJECTED,
            at=at,
            row_key=row_key,
            error_code=code,
            error_message=message,
            settlement_date=settlement_date,
            gateway_transaction=gateway_transaction,
        )
    )


def key_conflict(exc: IntegrityError) -> bool:
    """True when ``exc`` is the applied-once constraint: the key was applied by another line first."""
    return is_unique_violation(exc, ImportRow, APPLIED_ONCE)


def line_taken(exc: IntegrityError) -> bool:
    """True when ``exc`` says the line already has its row in this run (a concurrent executor)."""
    return is_unique_violation(exc, ImportRow, ONE_PER_LINE)
