from __future__ import annotations

import django_filters

from billing_project.api.filters import IsoDateTimeFilter
from billing_project.api.types import FilterSet
from demands.models import Demand, DemandStatus


class DemandFilter(FilterSet):
    tenant = django_filters.CharFilter(field_name="tenant__code")
    consumer_code = django_filters.CharFilter()
    business_service = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=DemandStatus.choices)
    payer = django_filters.UUIDFilter(field_name="payer_id")
    mobile_number = django_filters.CharFilter(field_name="payer__mobile_number")
    period_from = IsoDateTimeFilter(field_name="tax_period_from", lookup_expr="gte")
    period_to = IsoDateTimeFilter(field_name="tax_period_to", lookup_expr="lte")
    is_payment_completed = django_filters.BooleanFilter()

    class Meta:
        model = Demand
        fields = [
            "tenant",
            "consumer_code",
            "business_service",
            "status",
            "payer",
            "mobile_number",
            "period_from",
            "period_to",
            "is_payment_completed",
        ]
