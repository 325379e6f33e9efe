"""Reads of import runs and their rows, scoped to the tenants where the caller holds a payment role."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from masters.access import Caller
from payments.imports.models import ImportRow, ImportRun, RowOutcome
from payments.selectors import PAYMENT_ROLES

IMPORT_ROLES = PAYMENT_ROLES


def import_runs_visible_to(caller: Caller) -> QuerySet[ImportRun]:
    """Runs (tenant loaded, without the file's text) of the tenants where the caller holds a payment role."""
    return (
        ImportRun.objects.select_related("tenant")
        .defer("content")
        .filter(caller.tenant_q("tenant__code", IMPORT_ROLES))
    )


def import_rows_of(run_id: uuid.UUID, outcome: str | None = None) -> QuerySet[ImportRow]:
    """The rows of a run in line order, with what they link to."""
    rows = ImportRow.objects.filter(run_id=run_id).order_by("line_number")
    if outcome is not None:
        rows = rows.filter(outcome=outcome)
    return rows


def applied_row(row_key: str) -> ImportRow | None:
    """The APPLIED row with this key, if any (at most one: ``payment_imports_importrow_applied_once``)."""
    if not row_key:
        return None
    return ImportRow.objects.filter(row_key=row_key, outcome=RowOutcome.APPLIED).first()
