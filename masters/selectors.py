"""Reads of master data, tenants and payers.

**City → state fallback.** Master data can be defined for a state (``pb``) and overridden for one of its
cities (``pb.amritsar``). For a city code, the effective masters are the city's rows plus the state's rows
whose natural key the city does not define:

=================  ======================
master             natural key
=================  ======================
BusinessService    ``code``
TaxHeadMaster      ``code``
TaxPeriod          ``(service, code)``
IdFormat           ``id_name``
=================  ======================

For a state code only the state's rows count. Each ``*_for`` function returns a lazy queryset that runs as
**one** SQL query (the override test is a correlated ``NOT EXISTS`` subquery, the tenant is joined with
``select_related``), so callers may chain further filters, count or paginate it; filters chained later apply
to the *effective* list (a city override hides the state row even when only the state row would match).

Payers are kept at state level (reference §2.3): ``payers_for("pb.amritsar")`` reads the ``pb`` registry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TypeVar

from django.db.models import Exists, Model, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Lower

from billing_project.errors import DomainError
from masters.access import STAFF_ROLES, Caller
from masters.errors import EG_BS_BUSINESSSERVICE_NOTFOUND
from masters.models import BusinessService, IdFormat, Payer, TaxHeadMaster, TaxPeriod, Tenant

M = TypeVar("M", bound=Model)

__all__ = [
    "business_service_get",
    "business_services_for",
    "business_services_visible_to",
    "id_format_for",
    "id_formats_for",
    "id_formats_visible_to",
    "payer_find",
    "payers_for",
    "payers_visible_to",
    "state_code_of",
    "tax_heads_for",
    "tax_heads_visible_to",
    "tax_period_covering",
    "tax_periods_for",
    "tax_periods_visible_to",
    "tenant_by_code",
    "tenants_visible_to",
]


def state_code_of(tenant_code: str) -> str:
    """``pb.amritsar`` → ``pb``; ``pb`` → ``pb``."""
    return tenant_code.split(".", 1)[0]


def _effective(model: type[M], tenant_code: str, key_fields: tuple[str, ...]) -> QuerySet[M]:
    """Rows of ``tenant_code`` plus the state's rows that the city does not override (one query)."""
    queryset = model._default_manager.select_related("tenant")
    state = state_code_of(tenant_code)
    if state == tenant_code:
        return queryset.filter(tenant__code=tenant_code)
    overridden = Exists(
        model._default_manager.filter(tenant__code=tenant_code, **{field: OuterRef(field) for field in key_fields})
    )
    return queryset.filter(Q(tenant__code=tenant_code) | (Q(tenant__code=state) & ~overridden))


def _int_ids(ids: Iterable[str | int]) -> list[int]:
    """DIGIT ids are strings; ours are integers. Values that are not whole numbers match nothing."""
    out: list[int] = []
    for value in ids:
        try:
            out.append(int(value))
        except (TypeError, ValueError):
            continue
    return out


def _master_scope(caller: Caller) -> Q:
    """Masters a caller may read: rows of the tenants they reach, and of those tenants' states."""
    codes = caller.master_tenant_codes()
    if codes is None:
        return Q()
    return Q(tenant__code__in=sorted(codes)) | caller.tenant_q("tenant__code")


# --- tenants ---------------------------------------------------------------------------------


def tenant_by_code(code: str) -> Tenant | None:
    return Tenant.objects.select_related("state").filter(code=code).first()


def tenants_visible_to(caller: Caller) -> QuerySet[Tenant]:
    """The tenants the caller reaches (a state role reaches every city) and the states of their tenants."""
    queryset = Tenant.objects.select_related("state")
    codes = caller.master_tenant_codes()
    if codes is None:
        return queryset.all()
    return queryset.filter(Q(code__in=sorted(codes)) | caller.tenant_q("code"))


# --- business services -----------------------------------------------------------------------


def business_services_for(
    tenant_code: str,
    *,
    codes: Iterable[str] | None = None,
    ids: Iterable[str | int] | None = None,
    active_only: bool = False,
) -> QuerySet[BusinessService]:
    """Effective business services of a tenant (city overrides state by ``code``), ordered by code."""
    queryset = _effective(BusinessService, tenant_code, ("code",))
    if codes is not None:
        queryset = queryset.filter(code__in=list(codes))
    if ids is not None:
        queryset = queryset.filter(pk__in=_int_ids(ids))
    if active_only:
        queryset = queryset.filter(is_active=True)
    return queryset.order_by("code", "pk")


def business_service_get(tenant_code: str, code: str) -> BusinessService:
    """The effective business service ``code`` of a tenant; ``EG_BS_BUSINESSSERVICE_NOTFOUND`` when there is none."""
    found = business_services_for(tenant_code, codes=[code]).first()
    if found is None:
        raise DomainError(
            EG_BS_BUSINESSSERVICE_NOTFOUND,
            f"No Business Service masters found for give codes {[code]}",
            fields={"service": [f"No business service {code!r} for {tenant_code} or its state."]},
            params=[code],
        )
    return found


def business_services_visible_to(caller: Caller) -> QuerySet[BusinessService]:
    """Stored rows (no fallback) of the tenants the caller may read, for the REST listing."""
    return BusinessService.objects.select_related("tenant").filter(_master_scope(caller))


# --- tax heads -------------------------------------------------------------------------------


def tax_heads_for(
    tenant_code: str,
    *,
    service: str | None = None,
    services: Iterable[str] | None = None,
    codes: Iterable[str] | None = None,
    ids: Iterable[str | int] | None = None,
    category: str | None = None,
    name: str | None = None,
    is_debit: bool | None = None,
    is_actual_demand: bool | None = None,
) -> QuerySet[TaxHeadMaster]:
    """Effective tax heads of a tenant (city overrides state by ``code``), ordered by service, order, code.

    Every filter is an exact match (as the reference's MDMS JSON-path filters are).
    """
    queryset = _effective(TaxHeadMaster, tenant_code, ("code",))
    if service is not None:
        queryset = queryset.filter(service=service)
    if services is not None:
        queryset = queryset.filter(service__in=list(services))
    if codes is not None:
        queryset = queryset.filter(code__in=list(codes))
    if ids is not None:
        queryset = queryset.filter(pk__in=_int_ids(ids))
    if category is not None:
        queryset = queryset.filter(category=category)
    if name is not None:
        queryset = queryset.filter(name=name)
    if is_debit is not None:
        queryset = queryset.filter(is_debit=is_debit)
    if is_actual_demand is not None:
        queryset = queryset.filter(is_actual_demand=is_actual_demand)
    return queryset.order_by("service", "order", "code", "pk")


def tax_heads_visible_to(caller: Caller) -> QuerySet[TaxHeadMaster]:
    return TaxHeadMaster.objects.select_related("tenant").filter(_master_scope(caller))


# --- tax periods -----------------------------------------------------------------------------


def tax_periods_for(
    tenant_code: str,
    *,
    services: Iterable[str] | None = None,
    codes: Iterable[str] | None = None,
    ids: Iterable[str | int] | None = None,
    period_cycle: str | None = None,
    from_date_gte: dt.datetime | None = None,
    to_date_lte: dt.datetime | None = None,
    containing: dt.datetime | None = None,
) -> QuerySet[TaxPeriod]:
    """Effective tax periods of a tenant (city overrides state by ``(service, code)``).

    ``from_date_gte``/``to_date_lte`` are the reference's ``fromDate``/``toDate`` criteria; ``containing``
    keeps the periods with ``from_date <= x <= to_date``. Ordered by service, from date, code.
    """
    queryset = _effective(TaxPeriod, tenant_code, ("service", "code"))
    if services is not None:
        queryset = queryset.filter(service__in=list(services))
    if codes is not None:
        queryset = queryset.filter(code__in=list(codes))
    if ids is not None:
        queryset = queryset.filter(pk__in=_int_ids(ids))
    if period_cycle is not None:
        queryset = queryset.filter(period_cycle=period_cycle)
    if from_date_gte is not None:
        queryset = queryset.filter(from_date__gte=from_date_gte)
    if to_date_lte is not None:
        queryset = queryset.filter(to_date__lte=to_date_lte)
    if containing is not None:
        queryset = queryset.filter(from_date__lte=containing, to_date__gte=containing)
    return queryset.order_by("service", "from_date", "code", "pk")


def tax_period_covering(
    tenant_code: str, *, service: str, from_date: dt.datetime, to_date: dt.datetime
) -> TaxPeriod | None:
    """A period of ``service`` that holds ``[from_date, to_date]`` (reference §7.1 c), the latest-starting one first."""
    return (
        tax_periods_for(tenant_code, services=[service])
        .filter(from_date__lte=from_date, to_date__gte=to_date)
        .order_by("-from_date", "code", "pk")
        .first()
    )


def tax_periods_visible_to(caller: Caller) -> QuerySet[TaxPeriod]:
    return TaxPeriod.objects.select_related("tenant").filter(_master_scope(caller))


# --- id formats ------------------------------------------------------------------------------


def id_formats_for(tenant_code: str, *, id_names: Iterable[str] | None = None) -> QuerySet[IdFormat]:
    """Effective id formats of a tenant (city overrides state by ``id_name``), ordered by id name."""
    queryset = _effective(IdFormat, tenant_code, ("id_name",))
    if id_names is not None:
        queryset = queryset.filter(id_name__in=list(id_names))
    return queryset.order_by("id_name", "pk")


def id_format_for(tenant_code: str, id_name: str) -> IdFormat | None:
    """The effective format named ``id_name`` for a tenant, or None when neither the city nor its state has one."""
    return id_formats_for(tenant_code, id_names=[id_name]).first()


def id_formats_visible_to(caller: Caller) -> QuerySet[IdFormat]:
    return IdFormat.objects.select_related("tenant").filter(_master_scope(caller))


# --- payers ----------------------------------------------------------------------------------


def payers_for(
    tenant_code: str,
    *,
    uuids: Iterable[str] | None = None,
    mobile_number: str | None = None,
    email: str | None = None,
) -> QuerySet[Payer]:
    """Payers of the tenant's state registry, optionally by uuid, mobile number or e-mail (case-insensitive)."""
    queryset = Payer.objects.select_related("tenant").filter(tenant__code=state_code_of(tenant_code))
    if uuids is not None:
        queryset = queryset.filter(uuid__in=list(uuids))
    if mobile_number is not None:
        queryset = queryset.filter(mobile_number=mobile_number)
    if email is not None:
        queryset = queryset.filter(email__iexact=email)
    return queryset.order_by("name", "mobile_number", "uuid")


def payer_find(tenant_code: str, *, name: str, mobile_number: str) -> Payer | None:
    """The payer with this name and mobile number in the tenant's state registry.

    Names compare as the database's unique rule compares them (``LOWER(name)``), after collapsing blanks.
    """
    return (
        payers_for(tenant_code, mobile_number=mobile_number)
        .alias(name_lower=Lower("name"))
        .filter(name_lower=Lower(Value(" ".join(name.split()))))
        .first()
    )


def payers_visible_to(caller: Caller) -> QuerySet[Payer]:
    """Staff see the payers of every state they hold a staff role in; anyone sees the payer linked to their login."""
    queryset = Payer.objects.select_related("tenant")
    if caller.is_superuser:
        return queryset.all()
    states = sorted({state_code_of(code) for code in caller.tenants_with(STAFF_ROLES)})
    own = Q(user_id=caller.user_id) if caller.user_id is not None else Q(pk__in=[])
    return queryset.filter(Q(tenant__code__in=states) | own)


def tax_head_names(tenant_code: str, codes: Iterable[str] | None = None) -> dict[str, str]:
    """Tax head code → name for a tenant (city overrides state): what screens and prints show."""
    return dict(tax_heads_for(tenant_code, codes=codes).values_list("code", "name"))
