"""REST serializers of demands: input validation into service inputs, and output rendering."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from billing_project.api.types import ModelSerializer, Serializer
from billing_project.fields import MoneySerializerField
from billing_project.money import ZERO, money_sum
from demands.models import Demand, DemandDetail, DemandDetailHistory, DemandHistory
from demands.selectors import HistoryEntry
from demands.services import DemandInput, DetailInput, PayerInput


class PayerRefSerializer(Serializer):
    uuid = serializers.UUIDField(required=False, allow_null=True)
    name = serializers.CharField(required=False, allow_blank=True, max_length=256)
    mobile_number = serializers.RegexField(r"^[0-9]{10}$", required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("uuid") and not (attrs.get("name") and attrs.get("mobile_number")):
            raise serializers.ValidationError("Give the payer's uuid, or name and mobile_number.")
        return attrs


class DetailWriteSerializer(Serializer):
    id = serializers.UUIDField(required=False, allow_null=True)
    tax_head_code = serializers.CharField(max_length=64)
    tax_amount = MoneySerializerField()
    collection_amount = MoneySerializerField(required=False, allow_null=True)
    additional_details = serializers.JSONField(required=False, allow_null=True)


class DemandWriteSerializer(Serializer):
    tenant = serializers.CharField(max_length=128)
    consumer_code = serializers.CharField(max_length=250)
    consumer_type = serializers.CharField(max_length=250)
    business_service = serializers.CharField(max_length=64)
    payer = PayerRefSerializer(required=False, allow_null=True)
    tax_period_from = serializers.DateTimeField()
    tax_period_to = serializers.DateTimeField()
    bill_expiry_time = serializers.DurationField(required=False, allow_null=True)
    fixed_bill_expiry_date = serializers.DateTimeField(required=False, allow_null=True)
    minimum_amount_payable = MoneySerializerField(required=False, min_value=Decimal(0))
    additional_details = serializers.JSONField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=["ACTIVE", "CANCELLED", "ADJUSTED"], required=False)
    details = DetailWriteSerializer(many=True, allow_empty=False)

    def to_input(self, demand_id: Any = None) -> DemandInput:
        data = self.validated_data
        payer = data.get("payer")
        return DemandInput(
            id=demand_id,
            tenant_code=data["tenant"],
            consumer_code=data["consumer_code"],
            consumer_type=data["consumer_type"],
            business_service=data["business_service"],
            payer=PayerInput(
                uuid=payer.get("uuid"),
                name=payer.get("name") or None,
                mobile_number=payer.get("mobile_number") or None,
                email=payer.get("email") or None,
            )
            if payer
            else None,
            tax_period_from=data["tax_period_from"],
            tax_period_to=data["tax_period_to"],
            bill_expiry_time=data.get("bill_expiry_time"),
            fixed_bill_expiry_date=data.get("fixed_bill_expiry_date"),
            minimum_amount_payable=data.get("minimum_amount_payable", ZERO),
            additional_details=data.get("additional_details"),
            status=data.get("status"),
            details=tuple(
                DetailInput(
                    id=line.get("id"),
                    tax_head_code=line["tax_head_code"],
                    tax_amount=line["tax_amount"],
                    collection_amount=line.get("collection_amount"),
                    additional_details=line.get("additional_details"),
                )
                for line in data["details"]
            ),
        )


class PayerSummarySerializer(Serializer):
    uuid = serializers.UUIDField()
    name = serializers.CharField()
    mobile_number = serializers.CharField()
    email = serializers.CharField()


class DetailSerializer(ModelSerializer):
    class Meta:
        model = DemandDetail
        fields = [
            "id",
            "tax_head_code",
            "tax_amount",
            "collection_amount",
            "additional_details",
            "created_by",
            "created_at",
            "modified_by",
            "modified_at",
        ]


class DemandSerializer(ModelSerializer):
    tenant = serializers.CharField(source="tenant.code")
    payer = PayerSummarySerializer(allow_null=True)
    details = DetailSerializer(many=True)
    total_tax = serializers.SerializerMethodField()
    total_collected = serializers.SerializerMethodField()
    total_due = serializers.SerializerMethodField()

    class Meta:
        model = Demand
        fields = [
            "id",
            "tenant",
            "consumer_code",
            "consumer_type",
            "business_service",
            "payer",
            "tax_period_from",
            "tax_period_to",
            "bill_expiry_time",
            "fixed_bill_expiry_date",
            "minimum_amount_payable",
            "additional_details",
            "is_payment_completed",
            "status",
            "details",
            "total_tax",
            "total_collected",
            "total_due",
            "created_by",
            "created_at",
            "modified_by",
            "modified_at",
        ]

    def _lines(self, demand: Demand) -> list[DemandDetail]:
        return list(demand.details.all())

    def get_total_tax(self, demand: Demand) -> str:
        return str(money_sum(line.tax_amount for line in self._lines(demand)))

    def get_total_collected(self, demand: Demand) -> str:
        return str(money_sum(line.collection_amount for line in self._lines(demand)))

    def get_total_due(self, demand: Demand) -> str:
        return str(money_sum(line.tax_amount - line.collection_amount for line in self._lines(demand)))


class DetailHistorySerializer(ModelSerializer):
    detail_id = serializers.UUIDField()

    class Meta:
        model = DemandDetailHistory
        fields = ["detail_id", "tax_head_code", "tax_amount", "collection_amount", "additional_details"]


class DemandHistoryRowSerializer(ModelSerializer):
    class Meta:
        model = DemandHistory
        fields = [
            "revision",
            "action",
            "changed_by",
            "changed_at",
            "status",
            "payer_id",
            "consumer_type",
            "tax_period_from",
            "tax_period_to",
            "bill_expiry_time",
            "fixed_bill_expiry_date",
            "minimum_amount_payable",
            "additional_details",
            "is_payment_completed",
        ]


class DemandHistorySerializer(DemandHistoryRowSerializer):
    """One revision of a demand as answered: the demand's row with its lines under ``details``."""

    details = DetailHistorySerializer(many=True)

    class Meta(DemandHistoryRowSerializer.Meta):
        fields = [*DemandHistoryRowSerializer.Meta.fields, "details"]

    def to_representation(self, instance: HistoryEntry) -> dict[str, Any]:
        row = DemandHistoryRowSerializer(instance.demand).data
        row["details"] = DetailHistorySerializer(instance.details, many=True).data
        return row
