from __future__ import annotations

import django_filters

from billing_project.api.filters import IsoDateTimeFilter
from billing_project.api.types import FilterSet
from bills.models import Bill, BillStatus


class BillFilter(FilterSet):
    tenant = django_filters.CharFilter(field_name="tenant__code")
    consumer_code = django_filters.CharFilter()
    business_service = django_filters.CharFilter()
    bill_number = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=BillStatus.choices, help_text="Stored status")
    mobile_number = django_filters.CharFilter(help_text="The payer's mobile number on the bill")
    created_from = IsoDateTimeFilter(
        field_name="bill_date", lookup_expr="gte", help_text="Bill date on or after (ISO 8601)"
    )
    created_to = IsoDateTimeFilter(
        field_name="bill_date", lookup_expr="lte", help_text="Bill date on or before (ISO 8601)"
    )

    class Meta:
        model = Bill
        fields = [
            "tenant",
            "consumer_code",
            "business_service",
            "bill_number",
            "status",
            "mobile_number",
            "created_from",
            "created_to",
        ]
