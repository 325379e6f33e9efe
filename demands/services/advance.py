"""Advance carry-forward at demand creation (reference §7.1 step 5, §7.8.3, fixed per DECISIONS [23])."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from billing_project.errors import DomainError
from demands.domain.advance import DemandDues, DemandLine, carry_forward_advance
from demands.domain.apportion import ApportionError
from demands.errors import NO_TAXHEAD_FOUND
from demands.models import ConsumerAccount, Demand, DemandDetail, DemandStatus, HistoryAction
from demands.services.writes import DETAIL_UPDATE_FIELDS, history_append
from masters.models import BusinessService, TaxHeadCategory
from masters.selectors import tax_heads_for

AccountKey = tuple[str, str, str]


def advance_carry_forward(
    *,
    new_demand: Demand,
    service: BusinessService,
    accounts: dict[AccountKey, ConsumerAccount],
    actor: str,
    at: dt.datetime,
) -> None:
    """Move unused advance of the consumer's older ACTIVE demands onto ``new_demand`` (inside the caller's
    transaction, with the consumer account locked)."""
    with transaction.atomic(savepoint=False):
        demands = list(
            Demand.objects.select_for_update(of=("self",))
            .filter(account=new_demand.account, status=DemandStatus.ACTIVE)
            .select_related("tenant")
            .order_by("tax_period_from", "created_at", "pk")
        )
        if all(d.pk == new_demand.pk for d in demands):
            return  # reference §7.1 step 5a: without an existing demand the new one is created as it is
        heads = {h.code: h for h in tax_heads_for(new_demand.tenant.code, service=service.code)}
        advance_heads = {code for code, head in heads.items() if head.category == TaxHeadCategory.ADVANCE_COLLECTION}
        if not advance_heads:
            raise DomainError(NO_TAXHEAD_FOUND, f"No Advance taxHead found for businessService: {service.code}")
        details = list(
            DemandDetail.objects.select_for_update(of=("self",))
            .filter(demand__in=demands)
            .order_by("demand_id", "position", "created_at", "pk")
        )
        by_demand: dict[str, list[DemandDetail]] = {}
        for line in details:
            by_demand.setdefault(str(line.demand_id), []).append(line)
        try:
            dues = {
                str(d.pk): DemandDues(
                    key=str(d.pk),
                    period_from=d.tax_period_from,
                    lines=tuple(
                        DemandLine(
                            key=str(line.pk),
                            tax_head_code=line.tax_head_code,
                            order=heads[line.tax_head_code].order if line.tax_head_code in heads else 0,
                            tax_amount=line.tax_amount,
                            collection_amount=line.collection_amount,
                            is_advance=line.tax_head_code in advance_heads,
                        )
                        for line in by_demand.get(str(d.pk), [])
                    ),
                )
                for d in demands
            }
            new_key = str(new_demand.pk)
            result = carry_forward_advance(
                existing_demands=[dues[k] for k in dues if k != new_key], new_demand=dues[new_key]
            )
        except ApportionError as exc:
            raise DomainError(exc.code, exc.message) from exc
        if not result.updates:
            return
        changed_lines = {str(line.pk): line for line in details}
        written: list[DemandDetail] = []
        for update in result.updates:
            line = changed_lines[update.line_key]
            line.collection_amount = update.collection_amount
            line.modified_by, line.modified_at = actor, at
            written.append(line)
        DemandDetail.objects.bulk_update(written, DETAIL_UPDATE_FIELDS)
        touched_ids = set(result.demand_keys)
        touched = [d for d in demands if str(d.pk) in touched_ids]
        for demand in touched:
            lines = by_demand.get(str(demand.pk), [])
            demand.is_payment_completed = sum(x.tax_amount for x in lines) == sum(x.collection_amount for x in lines)
            demand.modified_by, demand.modified_at = actor, at
        Demand.objects.bulk_update(touched, ["is_payment_completed", "modified_by", "modified_at"])
        history_append(
            touched, written, accounts=accounts, action=HistoryAction.ADVANCE_CARRY_FORWARD, actor=actor, at=at
        )
