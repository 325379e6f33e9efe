"""Create and update master data: business services, tax heads, tax periods, id formats.

Rules (each failure is a ``DomainError`` with a stable code; nothing is written when one is raised):

- the tenant must exist (``TENANT_NOT_FOUND``);
- a natural key is unique per tenant (``DUPLICATE_MASTER``, HTTP 409). The database's unique constraints
  decide — the insert is attempted and a violation is turned into the domain error, so two concurrent
  creates cannot both succeed;
- natural keys and tenants never change on update (business service and tax head ``code``, tax period
  ``(service, code)``, id format ``id_name``): demands and bills refer to them;
- a tax head's or tax period's ``service`` must be a business service of the tenant or of its state
  (``EG_BS_BUSINESSSERVICE_NOTFOUND``, the reference's code);
- a tax head's category is one of ``TaxHeadCategory`` (``INVALID_CATEGORY``);
- a tax period runs forwards, ``from_date <= to_date`` (``INVALID_TAX_PERIOD_RANGE``), and its financial
  year looks like ``2024-25`` (``INVALID_FINANCIAL_YEAR``);
- anything else a field refuses (lengths, URLs, decimals) is ``VALIDATION_ERROR`` with ``fields``.

Who may call these is the interface's business (the REST face requires BILLING_ADMIN of the row's tenant).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypedDict, TypeVar, Unpack

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model

from billing_project.db import is_unique_violation
from billing_project.errors import NOT_FOUND, VALIDATION_ERROR, ConflictError, DomainError, NotFound
from masters.errors import (
    DUPLICATE_MASTER,
    EG_BS_BUSINESSSERVICE_NOTFOUND,
    INVALID_CATEGORY,
    INVALID_FINANCIAL_YEAR,
    INVALID_TAX_PERIOD_RANGE,
    TENANT_NOT_FOUND,
)
from masters.models import BusinessService, IdFormat, TaxHeadCategory, TaxHeadMaster, TaxPeriod, Tenant
from masters.selectors import business_services_for

M = TypeVar("M", bound=Model)

__all__ = [
    "BusinessServiceChanges",
    "BusinessServiceOptions",
    "TaxHeadChanges",
    "TaxHeadOptions",
    "TaxPeriodChanges",
    "business_service_create",
    "business_service_update",
    "id_format_create",
    "id_format_update",
    "tax_head_create",
    "tax_head_update",
    "tax_period_create",
    "tax_period_update",
    "tenant_require",
]

_FINANCIAL_YEAR = re.compile(r"^[0-9]{4}-[0-9]{2}$")


# --- keyword sets ----------------------------------------------------------------------------


class BusinessServiceOptions(TypedDict, total=False):
    collection_modes_not_allowed: list[str]
    part_payment_allowed: bool
    is_advance_allowed: bool
    is_bill_amendment_enabled: bool
    fractional_payment_allowed: bool
    min_amount_payable: Decimal | None
    demand_update_time: int | None
    is_voucher_creation_enabled: bool
    bill_genie_url: str
    type: str
    is_active: bool
    is_citizen: bool
    demand_refresh_url: str
    extra: dict[str, Any]


class BusinessServiceChanges(BusinessServiceOptions, total=False):
    business_service: str


class TaxHeadOptions(TypedDict, total=False):
    order: int
    is_debit: bool
    is_actual_demand: bool
    is_required: bool
    is_bill_amend: bool
    is_discount_applicable: bool
    extra: dict[str, Any]


class TaxHeadChanges(TaxHeadOptions, total=False):
    service: str
    name: str
    category: str


class TaxPeriodChanges(TypedDict, total=False):
    from_date: dt.datetime
    to_date: dt.datetime
    period_cycle: str
    financial_year: str
    extra: dict[str, Any]


# --- shared helpers --------------------------------------------------------------------------


def tenant_require(code: str) -> Tenant:
    """The tenant with this code, or ``TENANT_NOT_FOUND``."""
    tenant = Tenant.objects.filter(code=code).first()
    if tenant is None:
        raise DomainError(TENANT_NOT_FOUND, f"No tenant {code!r}.", fields={"tenant": [f"No tenant {code!r}."]})
    return tenant


def _full_clean(instance: Model) -> None:
    """Field-level validation (lengths, URLs, decimals); uniqueness is left to the database."""
    try:
        instance.full_clean(exclude=["tenant"], validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        fields = {name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}
        raise DomainError(VALIDATION_ERROR, "Invalid master data.", fields=fields) from exc


def _insert(instance: M, *, constraint: str, duplicate: Callable[[], DomainError]) -> M:
    try:
        with transaction.atomic(durable=True):
            instance.save(force_insert=True)
    except IntegrityError as exc:
        if is_unique_violation(exc, type(instance), constraint):
            raise duplicate() from exc
        raise
    return instance


def _locked(model: type[M], pk: int, label: str) -> M:
    """The row with ``pk``, locked for the rest of the caller's transaction (``select_for_update`` evaluated)."""
    found = model._default_manager.select_for_update(of=("self",)).select_related("tenant").filter(pk=pk).first()
    if found is None:
        raise NotFound(NOT_FOUND, f"No {label} with id {pk}.")
    return found


def _apply(instance: M, changes: Mapping[str, Any]) -> list[str]:
    for name, value in changes.items():
        setattr(instance, name, value)
    fields = list(changes)
    if fields and any(f.name == "updated_at" for f in instance._meta.concrete_fields):
        fields.append("updated_at")
    return fields


def _require_service(tenant_code: str, service: str) -> None:
    if not business_services_for(tenant_code, codes=[service]).exists():
        raise DomainError(
            EG_BS_BUSINESSSERVICE_NOTFOUND,
            f"No Business Service masters found for give codes {[service]}",
            fields={"service": [f"No business service {service!r} for {tenant_code} or its state."]},
            params=[service],
        )


def _check_collection_modes(modes: object) -> None:
    if not isinstance(modes, list) or not all(isinstance(m, str) and m.strip() for m in modes):
        raise DomainError(
            VALIDATION_ERROR,
            "collection_modes_not_allowed must be a list of mode names.",
            fields={"collection_modes_not_allowed": ["Must be a list of non-blank mode names."]},
        )


def _check_non_negative(name: str, value: Decimal | int | None) -> None:
    if value is not None and value < 0:
        raise DomainError(VALIDATION_ERROR, f"{name} cannot be negative.", fields={name: ["Must not be negative."]})


# --- business services -----------------------------------------------------------------------


def _validate_business_service(instance: BusinessService) -> None:
    _check_collection_modes(instance.collection_modes_not_allowed)
    _check_non_negative("min_amount_payable", instance.min_amount_payable)
    _check_non_negative("demand_update_time", instance.demand_update_time)
    _full_clean(instance)


def business_service_create(
    *, tenant_code: str, code: str, business_service: str, **options: Unpack[BusinessServiceOptions]
) -> BusinessService:
    """A new business service (``code`` unique in the tenant)."""
    tenant = tenant_require(tenant_code)
    instance = BusinessService(tenant=tenant, code=code, business_service=business_service, **options)
    _validate_business_service(instance)
    return _insert(
        instance,
        constraint="masters_businessservice_unique_code",
        duplicate=lambda: ConflictError(
            DUPLICATE_MASTER,
            f"A business service with code {code!r} already exists in {tenant_code}.",
            fields={"code": [f"A business service with code {code!r} already exists in {tenant_code}."]},
        ),
    )


def business_service_update(*, business_service_id: int, **changes: Unpack[BusinessServiceChanges]) -> BusinessService:
    """Change the payment rules or display name of a business service (its code and tenant stay)."""
    with transaction.atomic(durable=True):
        instance = _locked(BusinessService, business_service_id, "business service")
        update_fields = _apply(instance, changes)
        _validate_business_service(instance)
        if update_fields:
            instance.save(update_fields=update_fields)
    return instance


# --- tax heads -------------------------------------------------------------------------------


def _validate_tax_head(instance: TaxHeadMaster, tenant_code: str) -> None:
    if instance.category not in TaxHeadCategory.values:
        raise DomainError(
            INVALID_CATEGORY,
            f"Unknown tax head category {instance.category!r}.",
            fields={"category": [f"Must be one of {', '.join(TaxHeadCategory.values)}."]},
        )
    _full_clean(instance)
    _require_service(tenant_code, instance.service)


def tax_head_create(
    *, tenant_code: str, code: str, service: str, name: str, category: str, **options: Unpack[TaxHeadOptions]
) -> TaxHeadMaster:
    """A new tax head of ``service`` (a business service of the tenant or its state)."""
    tenant = tenant_require(tenant_code)
    instance = TaxHeadMaster(tenant=tenant, code=code, service=service, name=name, category=category, **options)
    _validate_tax_head(instance, tenant_code)
    return _insert(
        instance,
        constraint="masters_taxheadmaster_unique_code",
        duplicate=lambda: ConflictError(
            DUPLICATE_MASTER,
            f"A tax head with code {code!r} already exists in {tenant_code}.",
            fields={"code": [f"A tax head with code {code!r} already exists in {tenant_code}."]},
        ),
    )


def tax_head_update(*, tax_head_id: int, **changes: Unpack[TaxHeadChanges]) -> TaxHeadMaster:
    """Change a tax head (its code and tenant stay)."""
    with transaction.atomic(durable=True):
        instance = _locked(TaxHeadMaster, tax_head_id, "tax head")
        update_fields = _apply(instance, changes)
        _validate_tax_head(instance, instance.tenant.code)
        if update_fields:
            instance.save(update_fields=update_fields)
    return instance


# --- tax periods -----------------------------------------------------------------------------


def _validate_tax_period(instance: TaxPeriod, tenant_code: str) -> None:
    for name in ("from_date", "to_date"):
        value = getattr(instance, name)
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            raise DomainError(
                VALIDATION_ERROR, f"{name} needs a time zone.", fields={name: ["Must be timezone-aware."]}
            )
    _full_clean(instance)
    if instance.from_date > instance.to_date:
        raise DomainError(
            INVALID_TAX_PERIOD_RANGE,
            "A tax period cannot end before it starts.",
            fields={"to_date": ["Must not be before from_date."]},
        )
    if not _FINANCIAL_YEAR.match(instance.financial_year):
        raise DomainError(
            INVALID_FINANCIAL_YEAR,
            f"Financial year {instance.financial_year!r} is not like 2024-25.",
            fields={"financial_year": ["Must look like 2024-25."]},
        )
    _require_service(tenant_code, instance.service)


def tax_period_create(
    *,
    tenant_code: str,
    service: str,
    code: str,
    from_date: dt.datetime,
    to_date: dt.datetime,
    period_cycle: str,
    financial_year: str,
    extra: dict[str, Any] | None = None,
) -> TaxPeriod:
    """A new tax period of ``service``; ``(service, code)`` is unique in the tenant."""
    tenant = tenant_require(tenant_code)
    instance = TaxPeriod(
        tenant=tenant,
        service=service,
        code=code,
        from_date=from_date,
        to_date=to_date,
        period_cycle=period_cycle,
        financial_year=financial_year,
        extra=extra or {},
    )
    _validate_tax_period(instance, tenant_code)
    return _insert(
        instance,
        constraint="masters_taxperiod_unique_code",
        duplicate=lambda: ConflictError(
            DUPLICATE_MASTER,
            f"A tax period {code!r} of {service} already exists in {tenant_code}.",
            fields={"code": [f"A tax period {code!r} of {service} already exists in {tenant_code}."]},
        ),
    )


def tax_period_update(*, tax_period_id: int, **changes: Unpack[TaxPeriodChanges]) -> TaxPeriod:
    """Change a tax period's dates, cycle or financial year (its service, code and tenant stay)."""
    with transaction.atomic(durable=True):
        instance = _locked(TaxPeriod, tax_period_id, "tax period")
        update_fields = _apply(instance, changes)
        _validate_tax_period(instance, instance.tenant.code)
        if update_fields:
            instance.save(update_fields=update_fields)
    return instance


# --- id formats ------------------------------------------------------------------------------


def id_format_create(*, tenant_code: str, id_name: str, format: str) -> IdFormat:
    """A new id format (``id_name`` unique in the tenant); a city's format overrides its state's."""
    tenant = tenant_require(tenant_code)
    instance = IdFormat(tenant=tenant, id_name=id_name, format=format)
    _full_clean(instance)
    return _insert(
        instance,
        constraint="masters_idformat_unique_name",
        duplicate=lambda: ConflictError(
            DUPLICATE_MASTER,
            f"An id format {id_name!r} already exists in {tenant_code}.",
            fields={"id_name": [f"An id format {id_name!r} already exists in {tenant_code}."]},
        ),
    )


def id_format_update(*, id_format_id: int, format: str | None = None) -> IdFormat:
    """Change the template of an id format (its name and tenant stay); ``format=None`` changes nothing."""
    with transaction.atomic(durable=True):
        instance = _locked(IdFormat, id_format_id, "id format")
        if format is not None:
            instance.format = format
            _full_clean(instance)
            instance.save(update_fields=["format"])
    return instance
