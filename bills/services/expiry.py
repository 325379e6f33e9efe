"""The expiry sweeper: ACTIVE bills past their expiry become EXPIRED, in batches."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from bills.models import Bill, BillStatus


def bills_expire_due(*, at: dt.datetime, batch_size: int = 1000) -> int:
    """Mark every ACTIVE bill whose expiry is before ``at`` EXPIRED; returns how many.

    Idempotent, and safe beside fetches: each batch is one short transaction whose UPDATE re-checks
    ``status = ACTIVE``, so a bill a fetch replaced meanwhile is not touched twice, and no consumer lock is
    held (a fetch treats an expired bill as stale anyway).
    """
    total = 0
    while True:
        with transaction.atomic(durable=True):
            ids = list(
                Bill.objects.filter(status=BillStatus.ACTIVE, expiry_date__lt=at)
                .order_by("expiry_date", "pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return total
            total += Bill.objects.filter(pk__in=ids, status=BillStatus.ACTIVE).update(
                status=BillStatus.EXPIRED, modified_by="expiry-sweeper", modified_at=at
            )
