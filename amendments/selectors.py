"""Reads of amendments: visibility, lookups, and the DIGIT search (reference §7.10.5, LEFT JOIN semantics).

Amendments are staff data: a caller sees the amendments of the tenants where they hold a staff role
(EMPLOYEE, BILLING_ADMIN, CASHIER, AMENDMENT_APPROVER, SUPERUSER) or SYSTEM; superusers see all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from amendments.errors import EG_BS_AMENDMENT_CRITERIA_ERROR, EG_BS_AMENDMENT_NOT_FOUND, EG_BS_AMENDMENT_UPDATE_ERROR
from amendments.models import Amendment, AmendmentDocument, AmendmentStatus, AmendmentTaxDetail, AmendmentTransition
from billing_project.errors import DomainError, NotFound
from demands.models import Demand
from masters.access import STAFF_ROLES, Caller, resolve_search_tenant
from masters.models import Role
from masters.selectors import payers_for

READ_ROLES = (*STAFF_ROLES, Role.SYSTEM)
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def amendments_with_lines() -> QuerySet[Amendment]:
    """Amendments with tenant, lines, documents and transitions loaded (no N+1 when serialising)."""
    return Amendment.objects.select_related("tenant").prefetch_related(
        Prefetch("details", queryset=AmendmentTaxDetail.objects.order_by("position")),
        Prefetch("documents", queryset=AmendmentDocument.objects.order_by("document_type", "id")),
        Prefetch("transitions", queryset=AmendmentTransition.objects.order_by("at", "id")),
    )


def amendments_visible_to(caller: Caller) -> QuerySet[Amendment]:
    return amendments_with_lines().filter(caller.tenant_q("tenant__code", roles=READ_ROLES))


def amendment_get(*, caller: Caller, pk: uuid.UUID) -> Amendment:
    found = amendments_visible_to(caller).filter(pk=pk).first()
    if found is None:
        raise NotFound(EG_BS_AMENDMENT_NOT_FOUND, f"No amendment {pk}")
    return found


def amendment_by_number(*, caller: Caller, tenant_code: str, amendment_id: str) -> Amendment:
    """The amendment ``amendment_id`` of ``tenant_code`` (reference §7.10.3 step 2's error when there is none)."""
    found = amendments_visible_to(caller).filter(tenant__code=tenant_code, amendment_id=amendment_id).first()
    if found is None:
        raise NotFound(
            EG_BS_AMENDMENT_UPDATE_ERROR,
            "No Amendment found in the system for the given amendmentId, Please provide valid id for update",
        )
    return found


@dataclass(frozen=True)
class AmendmentCriteria:
    """The reference's AmendmentCriteria (query parameters of ``/amendment/_search``)."""

    tenant_id: str | None
    business_service: str | None = None
    consumer_codes: tuple[str, ...] = ()
    amendment_ids: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    mobile_number: str | None = None
    offset: int = 0
    limit: int = DEFAULT_LIMIT


def amendment_search(*, caller: Caller, criteria: AmendmentCriteria) -> list[Amendment]:
    """Matching amendments, newest first, ``offset``/``limit`` applied; amendments without documents (or
    lines) are found too (fix [11])."""
    if not criteria.tenant_id:
        raise DomainError(EG_BS_AMENDMENT_CRITERIA_ERROR, "tenantId is mandatory for amendment search")
    if criteria.consumer_codes and not criteria.business_service:
        raise DomainError(
            EG_BS_AMENDMENT_CRITERIA_ERROR, "Consumer codes require businesService as mandatory parameter for search"
        )
    if not criteria.business_service:
        raise DomainError(EG_BS_AMENDMENT_CRITERIA_ERROR, "businessService is mandatory for amendment search")
    unknown = [s for s in criteria.statuses if s not in AmendmentStatus.values]
    if unknown:
        raise DomainError(EG_BS_AMENDMENT_CRITERIA_ERROR, f"Unknown amendment status : [{', '.join(unknown)}]")
    if criteria.offset < 0 or not 0 < criteria.limit <= MAX_LIMIT:
        raise DomainError(EG_BS_AMENDMENT_CRITERIA_ERROR, f"offset must be >= 0 and limit from 1 to {MAX_LIMIT}")
    tenant_q = resolve_search_tenant(caller, criteria.tenant_id)
    queryset = (
        amendments_with_lines()
        .filter(tenant_q, business_service=criteria.business_service)
        .filter(caller.tenant_q("tenant__code", roles=READ_ROLES))
    )
    codes = set(criteria.consumer_codes)
    if criteria.mobile_number:
        payers = payers_for(criteria.tenant_id, mobile_number=criteria.mobile_number)
        by_mobile = set(
            Demand.objects.filter(tenant_q, business_service=criteria.business_service, payer__in=payers)
            .values_list("consumer_code", flat=True)
            .distinct()
        )
        codes = codes & by_mobile if codes else by_mobile
        if not codes and not criteria.amendment_ids:
            return []
    if codes or criteria.consumer_codes:
        queryset = queryset.filter(consumer_code__in=sorted(codes))
    if criteria.amendment_ids:
        queryset = queryset.filter(amendment_id__in=criteria.amendment_ids)
    if criteria.statuses:
        queryset = queryset.filter(status__in=criteria.statuses)
    queryset = queryset.order_by("-created_at", "amendment_id")
    return list(queryset[criteria.offset : criteria.offset + criteria.limit])


__all__ = [
    "AmendmentCriteria",
    "amendment_by_number",
    "amendment_get",
    "amendment_search",
    "amendments_visible_to",
    "amendments_with_lines",
]
