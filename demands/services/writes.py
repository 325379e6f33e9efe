"""Row writers shared by create and update: demands, details and their history rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db import transaction

from demands.models import ConsumerAccount, Demand, DemandDetail, DemandDetailHistory, DemandHistory
from demands.services.accounts import AccountKey


def history_append(
    demands: Sequence[Demand],
    details: Iterable[DemandDetail],
    *,
    accounts: dict[AccountKey, ConsumerAccount],
    action: str,
    actor: str,
    at: dt.datetime,
) -> None:
    """Append one history row per demand and per detail written (reference §5.3, §7.11)."""
    revision_of = {d.pk: accounts[(d.tenant.code, d.business_service, d.consumer_code)].revision for d in demands}
    with transaction.atomic(savepoint=False):
        DemandHistory.objects.bulk_create(
            [
                DemandHistory(
                    demand=d,
                    revision=revision_of[d.pk],
                    action=action,
                    changed_by=actor,
                    changed_at=at,
                    status=d.status,
                    payer_id=d.payer_id,
                    consumer_type=d.consumer_type,
                    tax_period_from=d.tax_period_from,
                    tax_period_to=d.tax_period_to,
                    bill_expiry_time=d.bill_expiry_time,
                    fixed_bill_expiry_date=d.fixed_bill_expiry_date,
                    minimum_amount_payable=d.minimum_amount_payable,
                    additional_details=d.additional_details,
                    is_payment_completed=d.is_payment_completed,
                )
                for d in demands
            ]
        )
        DemandDetailHistory.objects.bulk_create(
            [
                DemandDetailHistory(
                    detail=line,
                    demand_id=line.demand_id,
                    revision=revision_of[line.demand_id],
                    action=action,
                    changed_by=actor,
                    changed_at=at,
                    tax_head_code=line.tax_head_code,
                    tax_amount=line.tax_amount,
                    collection_amount=line.collection_amount,
                    additional_details=line.additional_details,
                )
                for line in details
            ]
        )


DEMAND_UPDATE_FIELDS = [
    "payer",
    "tax_period_from",
    "tax_period_to",
    "bill_expiry_time",
    "fixed_bill_expiry_date",
    "minimum_amount_payable",
    "additional_details",
    "is_payment_completed",
    "status",
    "modified_by",
    "modified_at",
]
DETAIL_UPDATE_FIELDS = ["tax_amount", "collection_amount", "additional_details", "modified_by", "modified_at"]
