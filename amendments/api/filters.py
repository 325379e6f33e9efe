from __future__ import annotations

import django_filters

from amendments.models import Amendment, AmendmentReason, AmendmentState, AmendmentStatus
from billing_project.api.types import FilterSet


class AmendmentFilter(FilterSet):
    tenant = django_filters.CharFilter(field_name="tenant__code")
    consumer_code = django_filters.CharFilter()
    business_service = django_filters.CharFilter()
    amendment_id = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=AmendmentStatus.choices)
    state = django_filters.ChoiceFilter(choices=AmendmentState.choices)
    reason = django_filters.ChoiceFilter(choices=AmendmentReason.choices)
    amended_demand = django_filters.UUIDFilter(field_name="amended_demand_id")

    class Meta:
        model = Amendment
        fields = [
            "tenant",
            "consumer_code",
            "business_service",
            "amendment_id",
            "status",
            "state",
            "reason",
            "amended_demand",
        ]
