"""Filters of ``/api/v1/payments/``. Filters over the details (consumer code, business service, receipt
number) match a payment when one of its details matches, without duplicating rows."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from billing_project.api.filters import IsoDateTimeFilter
from billing_project.api.types import FilterSet
from payments.models import Payment, PaymentDetail, PaymentMode, PaymentStatus


def _by_detail(queryset: QuerySet[Payment], **lookup: Any) -> QuerySet[Payment]:
    return queryset.filter(pk__in=PaymentDetail.objects.filter(**lookup).values("payment_id"))


class PaymentFilter(FilterSet):
    tenant = django_filters.CharFilter(field_name="tenant__code")
    consumer_code = django_filters.CharFilter(method="filter_consumer_code", help_text="Consumer code of a paid bill")
    business_service = django_filters.CharFilter(method="filter_business_service")
    receipt_number = django_filters.CharFilter(method="filter_receipt_number")
    payment_mode = django_filters.ChoiceFilter(choices=PaymentMode.choices)
    status = django_filters.ChoiceFilter(choices=PaymentStatus.choices)
    mobile_number = django_filters.CharFilter()
    created_from = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Taken on or after (ISO 8601)"
    )
    created_to = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lte", help_text="Taken on or before (ISO 8601)"
    )

    class Meta:
        model = Payment
        fields = [
            "tenant",
            "consumer_code",
            "business_service",
            "receipt_number",
            "payment_mode",
            "status",
            "mobile_number",
            "created_from",
            "created_to",
        ]

    def filter_consumer_code(self, queryset: QuerySet[Payment], name: str, value: str) -> QuerySet[Payment]:
        return _by_detail(queryset, bill__consumer_code=value)

    def filter_business_service(self, queryset: QuerySet[Payment], name: str, value: str) -> QuerySet[Payment]:
        return _by_detail(queryset, business_service=value)

    def filter_receipt_number(self, queryset: QuerySet[Payment], name: str, value: str) -> QuerySet[Payment]:
        return _by_detail(queryset, receipt_number=value)
