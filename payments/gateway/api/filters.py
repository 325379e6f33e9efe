"""Filters of ``/api/v1/gateway-transactions/``."""

from __future__ import annotations

import django_filters

from billing_project.api.types import FilterSet
from payments.gateway.models import GatewayTransaction, TransactionStatus


class GatewayTransactionFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=TransactionStatus.choices)
    tenant = django_filters.CharFilter(field_name="tenant__code")
    consumer_code = django_filters.CharFilter()
    business_service = django_filters.CharFilter()
    needs_attention = django_filters.BooleanFilter()
    gateway = django_filters.CharFilter()
    merchant_reference = django_filters.CharFilter()

    class Meta:
        model = GatewayTransaction
        fields = [
            "status",
            "tenant",
            "consumer_code",
            "business_service",
            "needs_attention",
            "gateway",
            "merchant_reference",
        ]
