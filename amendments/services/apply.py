"""Applying an ACTIVE amendment to a demand (reference §7.10.4 and §7.1 step 3, fixed per DECISIONS [4], [12]).

Rules:
- the target is the consumer's latest unpaid ACTIVE demand of the amendment's own business service (same
  tenant and consumer code), latest by ``tax_period_from`` then ``tax_period_to``;
- every amendment line is appended to it as a new demand line (collection 0, after the existing lines), even
  when the demand already has a line of that tax head; the new line's id is the amendment line's id, so the
  primary key refuses a second application of the same line;
- the consumer account's revision is bumped (the active bill becomes stale) and history rows with action
  AMENDMENT are written;
- the amendment becomes CONSUMED with ``amended_demand`` set, and an APPLY row joins its transition history.

Everything here runs inside the caller's transaction with the consumer account locked (lock order: consumer
account → amendment → demand → demand lines).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction

from amendments.domain.workflow import Action
from amendments.models import Amendment, AmendmentStatus, AmendmentTransition
from billing_project.money import ZERO, to_money
from demands.models import ConsumerAccount, Demand, DemandDetail, DemandStatus, HistoryAction
from demands.services import consumer_accounts_bump, history_append

AccountKey = tuple[str, str, str]


def target_demand_lock(account: ConsumerAccount) -> Demand | None:
    """The consumer's latest unpaid ACTIVE demand, locked; None when there is none."""
    with transaction.atomic(savepoint=False):
        found = list(
            Demand.objects.select_for_update(of=("self",))
            .select_related("tenant")
            .filter(account=account, status=DemandStatus.ACTIVE, is_payment_completed=False)
            .order_by("-tax_period_from", "-tax_period_to", "-created_at", "-pk")[:1]
        )
    return found[0] if found else None


def lines_apply(
    *,
    amendments: Sequence[Amendment],
    demand: Demand,
    accounts: dict[AccountKey, ConsumerAccount],
    bump: bool,
    actor: str,
    at: dt.datetime,
) -> list[DemandDetail]:
    """Append the lines of ``amendments`` (locked, ACTIVE, same consumer) to the locked ``demand``.

    ``bump``: move the consumer's revision (False when the caller already did, as demand creation does).
    """
    key = (demand.tenant.code, demand.business_service, demand.consumer_code)
    with transaction.atomic(savepoint=False):
        if bump:
            consumer_accounts_bump([accounts[key]], at=at)
        existing = list(DemandDetail.objects.select_for_update(of=("self",)).filter(demand=demand))
        position = max((line.position for line in existing), default=-1) + 1
        added: list[DemandDetail] = []
        for amendment in amendments:
            for item in amendment.details.order_by("position"):
                added.append(
                    DemandDetail(
                        id=item.pk,
                        demand=demand,
                        tax_head_code=item.tax_head_code,
                        tax_amount=to_money(item.tax_amount),
                        collection_amount=ZERO,
                        additional_details=None,
                        position=position,
                        created_by=actor,
                        created_at=at,
                        modified_by=actor,
                        modified_at=at,
                    )
                )
                position += 1
        DemandDetail.objects.bulk_create(added)
        lines = existing + added
        demand.is_payment_completed = sum((x.tax_amount for x in lines), ZERO) == sum(
            (x.collection_amount for x in lines), ZERO
        )
        demand.modified_by, demand.modified_at = actor, at
        demand.save(update_fields=["is_payment_completed", "modified_by", "modified_at"])
        history_append([demand], added, accounts=accounts, action=HistoryAction.AMENDMENT, actor=actor, at=at)
        for amendment in amendments:
            amendment.mark_consumed(demand, at)
            amendment.modified_by, amendment.modified_at = actor, at
            amendment.save(update_fields=["status", "amended_demand", "consumed_at", "modified_by", "modified_at"])
        AmendmentTransition.objects.bulk_create(
            [
                AmendmentTransition(
                    amendment=amendment,
                    action=Action.APPLY,
                    from_state=amendment.state,
                    to_state=amendment.state,
                    status=AmendmentStatus.CONSUMED,
                    actor=actor,
                    at=at,
                    comment=f"Lines added to demand {demand.pk}",
                    demand=demand,
                )
                for amendment in amendments
            ]
        )
    return added


def amendments_absorb(
    *, demands: Sequence[Demand], accounts: dict[AccountKey, ConsumerAccount], actor: str, at: dt.datetime
) -> None:
    """Demand-created handler (``demands.services.hooks``): new demands take in waiting ACTIVE amendments.

    Per consumer account, the latest new unpaid ACTIVE demand takes every ACTIVE amendment of that account's
    business service, in creation order. Runs in the demand's transaction, accounts locked and bumped.
    """
    latest: dict[int, Demand] = {}
    for demand in demands:
        if demand.status != DemandStatus.ACTIVE or demand.is_payment_completed:
            continue
        current = latest.get(demand.account_id)
        if current is None or (demand.tax_period_from, demand.tax_period_to) > (
            current.tax_period_from,
            current.tax_period_to,
        ):
            latest[demand.account_id] = demand
    if not latest:
        return
    with transaction.atomic(savepoint=False):
        for demand in sorted(latest.values(), key=lambda d: (d.tenant.code, d.business_service, d.consumer_code)):
            waiting = list(
                Amendment.objects.select_for_update(of=("self",))
                .filter(
                    tenant_id=demand.tenant_id,
                    business_service=demand.business_service,
                    consumer_code=demand.consumer_code,
                    status=AmendmentStatus.ACTIVE,
                )
                .order_by("created_at", "amendment_id")
            )
            if waiting:
                lines_apply(amendments=waiting, demand=demand, accounts=accounts, bump=False, actor=actor, at=at)
