"""``demand_create``: a batch of demands in one transaction (reference §7.1, fixed per DECISIONS.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from billing_project.db import is_unique_violation
from billing_project.errors import DomainError
from billing_project.money import ZERO, to_money
from demands.domain.rules import AmountLine
from demands.errors import EG_BS_DEMANDS_EMPTY
from demands.models import ConsumerAccount, Demand, DemandDetail, DemandStatus, HistoryAction
from demands.selectors import demands_with_details
from demands.services.accounts import AccountKey, consumer_accounts_bump, consumer_accounts_lock
from demands.services.advance import advance_carry_forward
from demands.services.hooks import demands_created
from demands.services.inputs import DemandInput
from demands.services.payers import payers_prepare, resolve_payers
from demands.services.validation import (
    DemandErrors,
    MasterData,
    check_amounts,
    check_masters,
    check_payers,
    check_shape,
    check_status,
    duplicate_message,
    load_masters,
)
from demands.services.writes import history_append
from masters.access import Caller, require_role
from masters.models import Payer, Role

ONE_ACTIVE_PER_PERIOD = "demands_demand_one_active_per_period"

WRITER_ROLES = (Role.EMPLOYEE, Role.BILLING_ADMIN, Role.SYSTEM)


@dataclass(frozen=True)
class CreatePlan:
    """What the validation of new demands found out, for writing them (masters and payers by uuid)."""

    masters: MasterData
    known_payers: dict[uuid.UUID, Payer]


def demand_create(*, caller: Caller, demands: Sequence[DemandInput], at: dt.datetime) -> list[Demand]:
    """Validate and save new demands, move unused advance onto them, bump each consumer's revision.

    All or nothing: any error leaves the database unchanged.
    """
    if not demands:
        raise DomainError(EG_BS_DEMANDS_EMPTY, "Demands must contain at least one demand")
    plan = create_validate(caller=caller, demands=demands)
    try:
        with transaction.atomic(durable=True):
            accounts = consumer_accounts_lock((d.account_key for d in demands), at=at)
            consumer_accounts_bump({accounts[d.account_key] for d in demands}, at=at)
            rows = create_rows(caller=caller, demands=demands, plan=plan, accounts=accounts, at=at)
    except IntegrityError as exc:
        # The account lock serialises writers of one consumer, so the check above normally answers; the
        # constraint stays the last word (never a 500).
        if not is_unique_violation(exc, Demand, ONE_ACTIVE_PER_PERIOD):
            raise
        raise duplicate_message(d.consumer_code for d in demands) from exc
    return list(demands_with_details().filter(pk__in=[d.pk for d in rows]).order_by("tax_period_from", "consumer_code"))


def create_validate(*, caller: Caller, demands: Sequence[DemandInput]) -> CreatePlan:
    """Steps a–f of the reference (and duplicates inside the request), before any transaction."""
    for tenant_code in sorted({d.tenant_code for d in demands}):
        require_role(caller, tenant_code, WRITER_ROLES, "create demands")
    payers_prepare(demands)
    masters = load_masters(demands)
    errors = DemandErrors()
    check_shape(demands, errors)
    check_masters(demands, masters, errors)
    check_status(demands, errors)
    known_payers = check_payers(demands, errors)
    check_amounts(
        (
            AmountLine(d.tax_amount, d.collection_amount if d.collection_amount is not None else ZERO)
            for demand in demands
            for d in demand.details
        ),
        errors,
    )
    errors.raise_if_any()
    _reject_duplicates_within(demands)
    return CreatePlan(masters=masters, known_payers=known_payers)


def create_rows(
    *,
    caller: Caller,
    demands: Sequence[DemandInput],
    plan: CreatePlan,
    accounts: dict[AccountKey, ConsumerAccount],
    at: dt.datetime,
) -> list[Demand]:
    """Insert validated new demands with their history rows and carry advance forward onto them.

    Runs inside the caller's transaction, with the consumer accounts of ``demands`` locked and already bumped
    (their revision is the one the history rows record).
    """
    masters = plan.masters
    with transaction.atomic(savepoint=False):
        _reject_existing_duplicates(demands, accounts)
        payers = resolve_payers(demands, plan.known_payers)
        rows: list[Demand] = []
        lines: list[DemandDetail] = []
        for index, data in enumerate(demands):
            demand = Demand(
                id=uuid.uuid4(),
                account=accounts[data.account_key],
                tenant=masters.tenants[data.tenant_code],
                business_service=data.business_service,
                consumer_code=data.consumer_code,
                consumer_type=data.consumer_type,
                payer=payers.get(index),
                tax_period_from=data.tax_period_from,
                tax_period_to=data.tax_period_to,
                bill_expiry_time=data.bill_expiry_time,
                fixed_bill_expiry_date=data.fixed_bill_expiry_date,
                minimum_amount_payable=to_money(data.minimum_amount_payable),
                additional_details=data.additional_details,
                status=data.status or DemandStatus.ACTIVE,
                is_payment_completed=False,
                created_by=caller.username,
                created_at=at,
                modified_by=caller.username,
                modified_at=at,
            )
            rows.append(demand)
            lines.extend(
                DemandDetail(
                    id=uuid.uuid4(),
                    demand=demand,
                    tax_head_code=line.tax_head_code,
                    tax_amount=to_money(line.tax_amount),
                    collection_amount=to_money(line.collection_amount or ZERO),
                    additional_details=line.additional_details,
                    position=position,
                    created_by=caller.username,
                    created_at=at,
                    modified_by=caller.username,
                    modified_at=at,
                )
                for position, line in enumerate(data.details)
            )
        Demand.objects.bulk_create(rows)
        DemandDetail.objects.bulk_create(lines)
        history_append(rows, lines, accounts=accounts, action=HistoryAction.CREATE, actor=caller.username, at=at)
        # Higher apps' reactions (waiting amendments join the new demand), before advance is carried forward
        # so that it covers the whole demand, as in the reference (§7.1 steps 3 and 5).
        demands_created(demands=rows, accounts=accounts, actor=caller.username, at=at)
        for demand in rows:
            service = masters.services[(demand.tenant.code, demand.business_service)]
            if service.is_advance_allowed and demand.status == DemandStatus.ACTIVE:
                advance_carry_forward(
                    new_demand=demand, service=service, accounts=accounts, actor=caller.username, at=at
                )
    return rows


def _reject_duplicates_within(demands: Sequence[DemandInput]) -> None:
    seen: set[tuple[str, str, str, dt.datetime, dt.datetime]] = set()
    duplicates: list[str] = []
    for d in demands:
        if (d.status or DemandStatus.ACTIVE) != DemandStatus.ACTIVE:
            continue
        key = (*d.account_key, d.tax_period_from, d.tax_period_to)
        if key in seen:
            duplicates.append(d.consumer_code)
        seen.add(key)
    if duplicates:
        raise duplicate_message(duplicates)


def _reject_existing_duplicates(demands: Sequence[DemandInput], accounts: dict[AccountKey, ConsumerAccount]) -> None:
    """Step g, under the account locks: an ACTIVE demand for exactly the same period already exists."""
    wanted = [d for d in demands if (d.status or DemandStatus.ACTIVE) == DemandStatus.ACTIVE]
    existing = set(
        Demand.objects.filter(
            account_id__in=[accounts[d.account_key].pk for d in wanted], status=DemandStatus.ACTIVE
        ).values_list("account_id", "tax_period_from", "tax_period_to")
    )
    duplicates = [
        d.consumer_code for d in wanted if (accounts[d.account_key].pk, d.tax_period_from, d.tax_period_to) in existing
    ]
    if duplicates:
        raise duplicate_message(duplicates)
