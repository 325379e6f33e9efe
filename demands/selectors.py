"""Reads of demands: search by the reference's DemandCriteria (§6.1, §7.3), history, dues per consumer."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, Prefetch, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from billing_project.errors import DomainError, NotFound
from demands.errors import DEMAND_SEARCH_CRITERIA_REQUIRED, DEMAND_SEARCH_TENANT_REQUIRED, EG_BS_DEMANDS_NOT_FOUND
from demands.models import ConsumerAccount, Demand, DemandDetail, DemandDetailHistory, DemandHistory
from masters.access import STAFF_ROLES, Caller, own_payer_q, resolve_search_tenant
from masters.selectors import payers_for


def demands_with_details() -> QuerySet[Demand]:
    """Demands with tenant, payer and ordered detail lines loaded (no N+1 when serialising)."""
    return Demand.objects.select_related("tenant", "payer", "payer__tenant").prefetch_related(
        Prefetch("details", queryset=DemandDetail.objects.order_by("position", "created_at", "pk"))
    )


@dataclass(frozen=True)
class DemandCriteria:
    """The reference's DemandCriteria. ``demand_from``/``demand_to``/``type`` are accepted and ignored, as
    there, but count towards "at least one criterion"."""

    tenant_id: str | None
    demand_ids: tuple[uuid.UUID, ...] = ()
    payer_uuids: tuple[uuid.UUID, ...] = ()
    consumer_codes: tuple[str, ...] = ()
    business_service: str | None = None
    period_from: dt.datetime | None = None
    period_to: dt.datetime | None = None
    mobile_number: str | None = None
    email: str | None = None
    status: str | None = None
    is_payment_completed: bool | None = None
    ignored_present: frozenset[str] = field(default_factory=frozenset)


def demands_visible_to(caller: Caller) -> QuerySet[Demand]:
    """Demands the caller may read: staff of the demand's tenant; a citizen only their own."""
    queryset = demands_with_details()
    if caller.is_superuser:
        return queryset
    staff_q = caller.tenant_q("tenant__code", roles=[*STAFF_ROLES, "SYSTEM"])
    own_q = own_payer_q(caller)
    return queryset.filter(staff_q | own_q)


def demand_search(*, caller: Caller, criteria: DemandCriteria) -> QuerySet[Demand]:
    """Validate the criteria and return the matching demands ordered by period (reference §7.3)."""
    if not criteria.tenant_id:
        raise DomainError(DEMAND_SEARCH_TENANT_REQUIRED, "tenantId is mandatory")
    has_criterion = bool(
        criteria.demand_ids
        or criteria.consumer_codes
        or criteria.email
        or criteria.mobile_number
        or criteria.business_service
        or criteria.ignored_present
    )
    if not has_criterion:
        raise DomainError(DEMAND_SEARCH_CRITERIA_REQUIRED, " Any one of the fields additional to tenantId is mandatory")
    queryset = demands_visible_to(caller).filter(resolve_search_tenant(caller, criteria.tenant_id))
    if criteria.mobile_number or criteria.email:
        payers = payers_for(criteria.tenant_id, mobile_number=criteria.mobile_number, email=criteria.email)
        queryset = queryset.filter(payer__in=payers)
    if criteria.demand_ids:
        queryset = queryset.filter(pk__in=criteria.demand_ids)
    if criteria.payer_uuids:
        queryset = queryset.filter(payer_id__in=criteria.payer_uuids)
    if criteria.consumer_codes:
        queryset = queryset.filter(consumer_code__in=criteria.consumer_codes)
    if criteria.business_service:
        queryset = queryset.filter(business_service=criteria.business_service)
    if criteria.status:
        queryset = queryset.filter(status=criteria.status)
    if criteria.is_payment_completed is not None:
        queryset = queryset.filter(is_payment_completed=criteria.is_payment_completed)
    if criteria.period_from is not None:
        queryset = queryset.filter(tax_period_from__gte=criteria.period_from)
    if criteria.period_to is not None:
        queryset = queryset.filter(tax_period_to__lte=criteria.period_to)
    return queryset.order_by("tax_period_from", "consumer_code", "tenant__code", "pk")


def demand_get(*, caller: Caller, demand_id: uuid.UUID | str) -> Demand:
    demand = demands_visible_to(caller).filter(pk=demand_id).first()
    if demand is None:
        raise NotFound(EG_BS_DEMANDS_NOT_FOUND, f"No Demands not found in db for following ids : [{demand_id}]")
    return demand


@dataclass(frozen=True)
class HistoryEntry:
    demand: DemandHistory
    details: tuple[DemandDetailHistory, ...]


def demand_history(demand: Demand) -> list[HistoryEntry]:
    """Every write of the demand, oldest first, with the detail rows written at the same revision."""
    lines: dict[tuple[int, str], list[DemandDetailHistory]] = {}
    for row in DemandDetailHistory.objects.filter(demand=demand).order_by("id"):
        lines.setdefault((row.revision, row.action), []).append(row)
    return [
        HistoryEntry(demand=row, details=tuple(lines.get((row.revision, row.action), [])))
        for row in DemandHistory.objects.filter(demand=demand).order_by("id")
    ]


_MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=14, decimal_places=2)


@dataclass(frozen=True)
class PeriodDues:
    demand: Demand
    tax: Decimal
    collected: Decimal

    @property
    def due(self) -> Decimal:
        return self.tax - self.collected


def consumer_dues(account: ConsumerAccount) -> list[PeriodDues]:
    """All demands of a consumer with tax, collection and due per period (oldest first)."""
    rows = (
        Demand.objects.filter(account=account)
        .annotate(
            tax=Coalesce(Sum("details__tax_amount"), Value(Decimal("0")), output_field=_MONEY),
            collected=Coalesce(Sum("details__collection_amount"), Value(Decimal("0")), output_field=_MONEY),
        )
        .order_by("tax_period_from", "pk")
    )
    return [PeriodDues(demand=row, tax=row.tax, collected=row.collected) for row in rows]
