"""REST serializers of bills: input of fetch and cancel, and output rendering.

``status`` is the stored status; ``effective_status`` is what a reader should act on (an ACTIVE bill past its
expiry or behind its consumer account is EXPIRED). Both are plain strings in the schema (BillStatus values).
"""

from __future__ import annotations

import datetime as dt

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing_project import clock
from billing_project.api.types import ModelSerializer, Serializer
from bills.models import Bill, BillAccountDetail, BillDetail
from bills.selectors import effective_status
from bills.services import FetchCriteria


class BillFetchSerializer(Serializer):
    """What to bill: consumer codes, a demand, or a payer's mobile number / e-mail, within a business service."""

    tenant = serializers.CharField(max_length=256)
    business_service = serializers.CharField(max_length=256)
    consumer_codes = serializers.ListField(child=serializers.CharField(max_length=250), required=False, default=list)
    demand_id = serializers.UUIDField(required=False, allow_null=True)
    mobile_number = serializers.CharField(required=False, allow_null=True, help_text="10 digits")
    email = serializers.CharField(required=False, allow_null=True, max_length=254)

    def to_criteria(self) -> FetchCriteria:
        data = self.validated_data
        demand_id = data.get("demand_id")
        return FetchCriteria(
            tenant_id=data["tenant"],
            business_service=data["business_service"],
            consumer_codes=tuple(dict.fromkeys(data.get("consumer_codes") or [])),
            demand_id=str(demand_id) if demand_id else None,
            mobile_number=data.get("mobile_number") or None,
            email=data.get("email") or None,
        )


class BillCancelSerializer(Serializer):
    reason = serializers.CharField(max_length=256)
    reason_message = serializers.CharField(max_length=1024)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2048, default="")


class BillAccountDetailSerializer(ModelSerializer):
    demand_detail = serializers.UUIDField(source="demand_detail_id")

    class Meta:
        model = BillAccountDetail
        fields = ["id", "tax_head_code", "order", "amount", "adjusted_amount", "demand_detail"]


class BillDetailSerializer(ModelSerializer):
    demand = serializers.UUIDField(source="demand_id")
    account_details = BillAccountDetailSerializer(many=True)

    class Meta:
        model = BillDetail
        fields = [
            "id",
            "demand",
            "from_period",
            "to_period",
            "expiry_date",
            "amount",
            "amount_paid",
            "additional_details",
            "account_details",
        ]


class _BillBase(ModelSerializer):
    tenant = serializers.CharField(source="tenant.code")
    status = serializers.CharField(help_text="Stored status: ACTIVE, EXPIRED, CANCELLED, PAID or PARTIALLY_PAID")
    effective_status = serializers.SerializerMethodField(
        help_text="The status to act on: an ACTIVE bill past its expiry or behind its consumer's demands is EXPIRED"
    )
    payer = serializers.UUIDField(source="payer_id", allow_null=True)

    def _now(self) -> dt.datetime:
        now = self.context.get("now")
        return now if isinstance(now, dt.datetime) else clock.now()

    @extend_schema_field(OpenApiTypes.STR)
    def get_effective_status(self, bill: Bill) -> str:
        return effective_status(bill, self._now())


_SUMMARY_FIELDS = [
    "id",
    "tenant",
    "business_service",
    "consumer_code",
    "bill_number",
    "bill_date",
    "expiry_date",
    "status",
    "effective_status",
    "total_amount",
    "payer",
    "payer_name",
    "mobile_number",
    "created_at",
    "modified_at",
]


class BillSummarySerializer(_BillBase):
    """A bill in the list (without its periods)."""

    class Meta:
        model = Bill
        fields = _SUMMARY_FIELDS


class BillSerializer(_BillBase):
    """A bill with its periods (one per billed demand) and their tax-head lines."""

    details = BillDetailSerializer(many=True)

    class Meta:
        model = Bill
        fields = [
            *_SUMMARY_FIELDS,
            "payer_address",
            "payer_email",
            "additional_details",
            "file_store_id",
            "revision",
            "run",
            "created_by",
            "modified_by",
            "details",
        ]
