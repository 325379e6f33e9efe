"""``demand_update`` and ``demand_cancel`` (reference §7.2, fixed per DECISIONS.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from billing_project.db import is_unique_violation
from billing_project.errors import ConflictError, DomainError, NotFound
from billing_project.money import ZERO, to_money
from demands.domain.rules import AmountLine
from demands.errors import (
    EG_BS_DEMAND_ALREADY_CANCELLED,
    EG_BS_DEMAND_DETAIL_NOTFOUND,
    EG_BS_DEMAND_IMMUTABLE_FIELD,
    EG_BS_DEMANDS_NOT_FOUND,
    EG_BS_DEMANDS_UNDIDENTIFIABLE,
)
from demands.models import Demand, DemandDetail, DemandStatus, HistoryAction
from demands.selectors import demands_visible_to, demands_with_details
from demands.services.accounts import consumer_accounts_bump, consumer_accounts_lock
from demands.services.create import ONE_ACTIVE_PER_PERIOD, WRITER_ROLES, create_rows, create_validate
from demands.services.inputs import DemandInput, PayerInput
from demands.services.payers import payers_prepare, resolve_payers
from demands.services.validation import (
    DemandErrors,
    check_amounts,
    check_masters,
    check_payers,
    check_shape,
    check_status,
    duplicate_message,
    load_masters,
)
from demands.services.writes import DEMAND_UPDATE_FIELDS, DETAIL_UPDATE_FIELDS, history_append
from masters.access import Caller, require_role
from masters.models import Payer


def demand_update(*, caller: Caller, demands: Sequence[DemandInput], at: dt.datetime) -> list[Demand]:
    """Update existing demands (by id) and add new lines to them; demands without id are created.

    Lines left out of the payload are kept. New lines start with collection 0. Collections of existing
    lines are written only by payments, carry-forward and amendments, so the payload's collection amount of
    an existing line is ignored. ``consumerCode``, ``businessService`` and ``tenantId`` cannot change.
    """
    existing_inputs = [d for d in demands if d.id is not None]
    new_inputs = [d for d in demands if d.id is None]
    if not existing_inputs:
        raise DomainError(EG_BS_DEMANDS_UNDIDENTIFIABLE, "Demands, must contain ids in the update payload")
    for tenant_code in sorted({d.tenant_code for d in demands}):
        require_role(caller, tenant_code, WRITER_ROLES, "update demands")
    payers_prepare(existing_inputs)

    stored = {d.pk: d for d in demands_visible_to(caller).filter(pk__in=[d.id for d in existing_inputs])}
    missing = [str(d.id) for d in existing_inputs if d.id not in stored]
    if missing:
        raise NotFound(
            EG_BS_DEMANDS_NOT_FOUND, f"No Demands not found in db for following ids : [{', '.join(missing)}]"
        )
    _check_immutable(existing_inputs, stored)
    stored_lines = {line.pk: line for d in stored.values() for line in d.details.all()}
    foreign = [
        str(line.id)
        for d in existing_inputs
        for line in d.details
        if line.id is not None and (line.id not in stored_lines or stored_lines[line.id].demand_id != d.id)
    ]
    if foreign:
        raise DomainError(
            EG_BS_DEMAND_DETAIL_NOTFOUND, f"No Demand details found for the given ids :  [{', '.join(foreign)}]"
        )

    masters = load_masters(existing_inputs)
    errors = DemandErrors()
    check_shape(existing_inputs, errors)
    check_amounts(
        (
            AmountLine(
                line.tax_amount,
                stored_lines[line.id].collection_amount if line.id is not None else ZERO,
            )
            for d in existing_inputs
            for line in d.details
        ),
        errors,
    )
    check_masters(existing_inputs, masters, errors)
    check_status(existing_inputs, errors)
    known_payers = check_payers(existing_inputs, errors)
    errors.raise_if_any()
    # Demands without id are created (reference §7.2 step 3) in the same transaction: all or nothing, and
    # each consumer's revision moves once for the whole call.
    plan = create_validate(caller=caller, demands=new_inputs) if new_inputs else None

    try:
        with transaction.atomic(durable=True):
            accounts = consumer_accounts_lock((d.account_key for d in demands), at=at)
            locked = {d.pk: d for d in Demand.objects.select_for_update(of=("self",)).filter(pk__in=list(stored))}
            payers = resolve_payers(existing_inputs, known_payers)
            consumer_accounts_bump({accounts[d.account_key] for d in demands}, at=at)
            rows, written = _apply(existing_inputs, locked, payers, caller.username, at)
            _reject_period_clashes(rows)
            history_append(rows, written, accounts=accounts, action=_action(rows), actor=caller.username, at=at)
            created = (
                create_rows(caller=caller, demands=new_inputs, plan=plan, accounts=accounts, at=at)
                if plan is not None
                else []
            )
    except IntegrityError as exc:
        if not is_unique_violation(exc, Demand, ONE_ACTIVE_PER_PERIOD):
            raise
        raise duplicate_message(d.consumer_code for d in demands) from exc
    ids = [d.pk for d in rows] + [d.pk for d in created]
    return list(demands_with_details().filter(pk__in=ids).order_by("tax_period_from", "consumer_code"))


def demand_cancel(*, caller: Caller, demand_id: uuid.UUID, at: dt.datetime, reason: str = "") -> Demand:
    """Cancel a demand: an update to status CANCELLED (reference §7.2); its bills become stale.

    A ``reason`` (the back-office asks for one) is kept in the demand's ``additionalDetails`` under
    ``cancellation`` — ``{"reason", "by", "at"}`` — when those are a JSON object (or empty)."""
    demand = demands_visible_to(caller).filter(pk=demand_id).first()
    if demand is None:
        raise NotFound(EG_BS_DEMANDS_NOT_FOUND, f"No Demands not found in db for following ids : [{demand_id}]")
    if demand.status == DemandStatus.CANCELLED:
        raise ConflictError(EG_BS_DEMAND_ALREADY_CANCELLED, f"Demand {demand_id} is already cancelled")
    data = DemandInput(
        id=demand.pk,
        tenant_code=demand.tenant.code,
        consumer_code=demand.consumer_code,
        consumer_type=demand.consumer_type,
        business_service=demand.business_service,
        tax_period_from=demand.tax_period_from,
        tax_period_to=demand.tax_period_to,
        details=(),
        payer=PayerInput(uuid=demand.payer_id) if demand.payer_id is not None else None,  # cancelling keeps the payer
        bill_expiry_time=demand.bill_expiry_time,
        fixed_bill_expiry_date=demand.fixed_bill_expiry_date,
        minimum_amount_payable=demand.minimum_amount_payable,
        additional_details=_with_cancellation(demand.additional_details, reason, caller.username, at),
        status=DemandStatus.CANCELLED,
    )
    return demand_update(caller=caller, demands=[replace(data, details=_keep_lines(demand))], at=at)[0]


def _with_cancellation(details: Any, reason: str, by: str, at: dt.datetime) -> Any:
    reason = reason.strip()
    if not reason or not (details is None or isinstance(details, dict)):
        return details
    return {**(details or {}), "cancellation": {"reason": reason[:1024], "by": by, "at": at.isoformat()}}


def _keep_lines(demand: Demand) -> tuple:  # type: ignore[type-arg]
    from demands.services.inputs import DetailInput

    return tuple(
        DetailInput(
            id=line.pk,
            tax_head_code=line.tax_head_code,
            tax_amount=line.tax_amount,
            additional_details=line.additional_details,
        )
        for line in demand.details.all()
    )


def _check_immutable(inputs: Sequence[DemandInput], stored: dict[uuid.UUID, Demand]) -> None:
    changed: list[str] = []
    for data in inputs:
        demand = stored[data.id]  # type: ignore[index]
        for name, new, old in (
            ("tenantId", data.tenant_code, demand.tenant.code),
            ("consumerCode", data.consumer_code, demand.consumer_code),
            ("businessService", data.business_service, demand.business_service),
        ):
            if new != old:
                changed.append(f"{name} of demand {demand.pk} ({old} -> {new})")
    if changed:
        raise DomainError(
            EG_BS_DEMAND_IMMUTABLE_FIELD,
            "tenantId, consumerCode and businessService of a demand cannot be changed: " + "; ".join(changed),
        )


def _apply(
    inputs: Sequence[DemandInput],
    locked: dict[uuid.UUID, Demand],
    payers: dict[int, Payer],
    actor: str,
    at: dt.datetime,
) -> tuple[list[Demand], list[DemandDetail]]:
    """Write the new values onto the locked rows; returns the demands and the detail lines written."""
    lines_of: dict[uuid.UUID, dict[uuid.UUID, DemandDetail]] = {}
    for line in DemandDetail.objects.select_for_update(of=("self",)).filter(demand_id__in=list(locked)):
        lines_of.setdefault(line.demand_id, {})[line.pk] = line
    rows: list[Demand] = []
    updated: list[DemandDetail] = []
    added: list[DemandDetail] = []
    for index, data in enumerate(inputs):
        demand = locked[data.id]  # type: ignore[index]
        existing = lines_of.get(demand.pk, {})
        if index in payers:
            demand.payer = payers[index]
        elif data.payer is None:
            demand.payer = None
        demand.tax_period_from = data.tax_period_from
        demand.tax_period_to = data.tax_period_to
        demand.bill_expiry_time = data.bill_expiry_time
        demand.fixed_bill_expiry_date = data.fixed_bill_expiry_date
        demand.minimum_amount_payable = to_money(data.minimum_amount_payable)
        demand.additional_details = data.additional_details
        demand.status = data.status or DemandStatus.ACTIVE
        demand.modified_by, demand.modified_at = actor, at
        for item in data.details:
            if item.id is not None:
                row = existing[item.id]
                row.tax_amount = to_money(item.tax_amount)
                row.additional_details = item.additional_details
                row.modified_by, row.modified_at = actor, at
                updated.append(row)
            else:
                row = DemandDetail(
                    id=uuid.uuid4(),
                    demand=demand,
                    tax_head_code=item.tax_head_code,
                    tax_amount=to_money(item.tax_amount),
                    collection_amount=ZERO,
                    additional_details=item.additional_details,
                    position=max((x.position for x in existing.values()), default=-1) + 1,
                    created_by=actor,
                    created_at=at,
                    modified_by=actor,
                    modified_at=at,
                )
                existing[row.pk] = row
                added.append(row)
        all_lines = list(existing.values())
        if sum(x.tax_amount for x in all_lines) != sum(x.collection_amount for x in all_lines):
            demand.is_payment_completed = False
        rows.append(demand)
    Demand.objects.bulk_update(rows, DEMAND_UPDATE_FIELDS)
    DemandDetail.objects.bulk_update(updated, DETAIL_UPDATE_FIELDS)
    DemandDetail.objects.bulk_create(added)
    return rows, updated + added


def _reject_period_clashes(rows: Sequence[Demand]) -> None:
    """An updated ACTIVE demand may not land on the exact period of another ACTIVE demand of its consumer."""
    clashes = [
        d.consumer_code
        for d in rows
        if d.status == DemandStatus.ACTIVE
        and Demand.objects.filter(
            ~Q(pk=d.pk),
            account_id=d.account_id,
            tax_period_from=d.tax_period_from,
            tax_period_to=d.tax_period_to,
            status=DemandStatus.ACTIVE,
        ).exists()
    ]
    if clashes:
        raise duplicate_message(clashes)


def _action(rows: Sequence[Demand]) -> str:
    if rows and all(d.status == DemandStatus.CANCELLED for d in rows):
        return HistoryAction.CANCEL
    return HistoryAction.UPDATE
