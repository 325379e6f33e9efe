"""FilterSets of the masters REST face (``?tenant=pb&code=PT,WS&...``).

``tenant`` matches the row's own tenant. ``effective_for`` applies the city → state fallback of
``masters.selectors``: ``?effective_for=pb.amritsar`` lists what a demand of Amritsar would use (the
city's rows plus the state's rows the city does not override).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters as filters
from django.db.models import QuerySet

from billing_project.api.filters import IsoDateTimeFilter
from billing_project.api.types import FilterSet
from masters import selectors
from masters.models import (
    BusinessService,
    IdFormat,
    Payer,
    PayerType,
    TaxHeadCategory,
    TaxHeadMaster,
    TaxPeriod,
    Tenant,
)


class CharInFilter(filters.BaseInFilter, filters.CharFilter):  # type: ignore[misc]  # django-filter is untyped
    """Comma-separated values: ``?code=PT,WS``."""


def _tenant_filter() -> filters.CharFilter:
    return filters.CharFilter(field_name="tenant__code", help_text="Tenant code of the row (exact)")


def _effective_for_filter() -> filters.CharFilter:
    return filters.CharFilter(
        method="filter_effective_for",
        help_text="Tenant code: only the masters in force there (the city's rows, then its state's for keys the city "
        "does not define).",
    )


class TenantFilter(FilterSet):
    code = CharInFilter(field_name="code", help_text="Tenant codes, comma-separated")
    state = filters.CharFilter(field_name="state__code", help_text="Cities of this state")
    is_active = filters.BooleanFilter()

    class Meta:
        model = Tenant
        fields: list[str] = []


class BusinessServiceFilter(FilterSet):
    tenant = _tenant_filter()
    effective_for = _effective_for_filter()
    code = CharInFilter(field_name="code", help_text="Business service codes, comma-separated")
    name = filters.CharFilter(field_name="business_service", lookup_expr="icontains", help_text="Display name contains")
    type = filters.CharFilter(field_name="type")
    is_active = filters.BooleanFilter()
    updated_after = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = IsoDateTimeFilter(field_name="updated_at", lookup_expr="lte")

    class Meta:
        model = BusinessService
        fields: list[str] = []

    def filter_effective_for(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(pk__in=selectors.business_services_for(value).values("pk"))


class TaxHeadFilter(FilterSet):
    tenant = _tenant_filter()
    effective_for = _effective_for_filter()
    service = CharInFilter(field_name="service", help_text="Business service codes, comma-separated")
    code = CharInFilter(field_name="code", help_text="Tax head codes, comma-separated")
    category = filters.ChoiceFilter(choices=TaxHeadCategory.choices)
    name = filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="Name contains")
    is_debit = filters.BooleanFilter()
    is_actual_demand = filters.BooleanFilter()

    class Meta:
        model = TaxHeadMaster
        fields: list[str] = []

    def filter_effective_for(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(pk__in=selectors.tax_heads_for(value).values("pk"))


class TaxPeriodFilter(FilterSet):
    tenant = _tenant_filter()
    effective_for = _effective_for_filter()
    service = CharInFilter(field_name="service", help_text="Business service codes, comma-separated")
    code = CharInFilter(field_name="code", help_text="Period codes, comma-separated")
    period_cycle = filters.CharFilter(field_name="period_cycle")
    financial_year = filters.CharFilter(field_name="financial_year", help_text="e.g. 2024-25")
    from_date_after = IsoDateTimeFilter(field_name="from_date", lookup_expr="gte", help_text="from_date >= x")
    from_date_before = IsoDateTimeFilter(field_name="from_date", lookup_expr="lte", help_text="from_date <= x")
    to_date_after = IsoDateTimeFilter(field_name="to_date", lookup_expr="gte", help_text="to_date >= x")
    to_date_before = IsoDateTimeFilter(field_name="to_date", lookup_expr="lte", help_text="to_date <= x")
    date = IsoDateTimeFilter(method="filter_date", help_text="Periods containing this moment")

    class Meta:
        model = TaxPeriod
        fields: list[str] = []

    def filter_effective_for(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(pk__in=selectors.tax_periods_for(value).values("pk"))

    def filter_date(self, queryset: QuerySet[Any], name: str, value: dt.datetime) -> QuerySet[Any]:
        return queryset.filter(from_date__lte=value, to_date__gte=value)


class IdFormatFilter(FilterSet):
    tenant = _tenant_filter()
    effective_for = _effective_for_filter()
    id_name = CharInFilter(field_name="id_name", help_text="Id names, comma-separated")

    class Meta:
        model = IdFormat
        fields: list[str] = []

    def filter_effective_for(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(pk__in=selectors.id_formats_for(value).values("pk"))


class PayerFilter(FilterSet):
    tenant = filters.CharFilter(method="filter_tenant", help_text="Tenant code; a city means its state's registry")
    name = filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="Name contains")
    mobile_number = filters.CharFilter(field_name="mobile_number")
    email = filters.CharFilter(field_name="email", lookup_expr="iexact")
    type = filters.ChoiceFilter(choices=PayerType.choices)
    active = filters.BooleanFilter()
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Payer
        fields: list[str] = []

    def filter_tenant(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(tenant__code=selectors.state_code_of(value))
