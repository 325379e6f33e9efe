"""The expiry sweeper: ACTIVE bills past their expiry become EXPIRED, in batches."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from bills.models import Bill, BillStatus

SWEEPER = "expiry-sweeper"


def bills_expire_due(*, at: dt.datetime, batch_size: int = 1000) -> int:
    """Mark every ACTIVE bill whose expiry is before ``at`` EXPIRED; returns how many.

    Idempotent, and safe beside fetches: each batch is one short transaction that locks its rows in one
    order (expiry, id) with ``SKIP LOCKED`` and whose UPDATE re-checks ``status = ACTIVE``. A bill that a
    fetch, cancel or payment holds at that moment is left to that writer (it treats an expired bill as stale
    anyway) and is picked up by the next run, so the sweeper never waits behind a consumer's transaction and
    cannot deadlock with one. No consumer lock is taken.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    total = 0
    while True:
        with transaction.atomic(durable=True):
            ids = list(
                Bill.objects.select_for_update(skip_locked=True)
                .filter(status=BillStatus.ACTIVE, expiry_date__lt=at)
                .order_by("expiry_date", "pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return total
            total += Bill.objects.filter(pk__in=ids, status=BillStatus.ACTIVE).update(
                status=BillStatus.EXPIRED, modified_by=SWEEPER, modified_at=at
            )
