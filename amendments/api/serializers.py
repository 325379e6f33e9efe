"""REST serializers of amendments: input validation into service inputs, and output rendering."""

from __future__ import annotations

from rest_framework import serializers

from amendments.models import Amendment, AmendmentDocument, AmendmentReason, AmendmentTaxDetail, AmendmentTransition
from amendments.services import AmendmentInput, DocumentInput, LineInput
from billing_project.api.types import ModelSerializer, Serializer
from billing_project.fields import MoneySerializerField
from billing_project.money import money_sum


class LineWriteSerializer(Serializer):
    tax_head_code = serializers.CharField(max_length=64)
    tax_amount = MoneySerializerField()


class DocumentWriteSerializer(Serializer):
    document_type = serializers.CharField(max_length=128)
    file_store_id = serializers.CharField(max_length=256)
    document_uid = serializers.CharField(max_length=64, required=False, allow_blank=True)
    additional_details = serializers.JSONField(required=False, allow_null=True)


class AmendmentWriteSerializer(Serializer):
    tenant = serializers.CharField(max_length=128)
    consumer_code = serializers.CharField(max_length=250)
    business_service = serializers.CharField(max_length=64)
    reason = serializers.ChoiceField(choices=AmendmentReason.choices)
    reason_document_number = serializers.CharField(max_length=256, required=False, allow_blank=True)
    effective_from = serializers.DateTimeField(required=False, allow_null=True)
    effective_till = serializers.DateTimeField(required=False, allow_null=True)
    details = LineWriteSerializer(many=True, allow_empty=False)
    documents = DocumentWriteSerializer(many=True, required=False)
    additional_details = serializers.JSONField(required=False, allow_null=True)

    def to_input(self) -> AmendmentInput:
        data = self.validated_data
        return AmendmentInput(
            tenant_code=data["tenant"],
            consumer_code=data["consumer_code"],
            business_service=data["business_service"],
            reason=data["reason"],
            reason_document_number=data.get("reason_document_number", ""),
            effective_from=data.get("effective_from"),
            effective_till=data.get("effective_till"),
            additional_details=data.get("additional_details"),
            details=tuple(
                LineInput(tax_head_code=line["tax_head_code"], tax_amount=line["tax_amount"])
                for line in data["details"]
            ),
            documents=tuple(
                DocumentInput(
                    document_type=doc["document_type"],
                    file_store_id=doc["file_store_id"],
                    document_uid=doc.get("document_uid", ""),
                    additional_details=doc.get("additional_details"),
                )
                for doc in data.get("documents", ())
            ),
        )


class TransitionWriteSerializer(Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    additional_details = serializers.JSONField(required=False, allow_null=True)


class LineSerializer(ModelSerializer):
    class Meta:
        model = AmendmentTaxDetail
        fields = ["id", "tax_head_code", "tax_amount"]


class DocumentSerializer(ModelSerializer):
    class Meta:
        model = AmendmentDocument
        fields = ["id", "document_type", "file_store_id", "document_uid", "additional_details"]


class TransitionSerializer(ModelSerializer):
    class Meta:
        model = AmendmentTransition
        fields = ["action", "from_state", "to_state", "status", "actor", "at", "comment", "demand"]


class AmendmentSerializer(ModelSerializer):
    tenant = serializers.CharField(source="tenant.code")
    details = LineSerializer(many=True)
    documents = DocumentSerializer(many=True)
    transitions = TransitionSerializer(many=True)
    total = serializers.SerializerMethodField()

    class Meta:
        model = Amendment
        fields = [
            "id",
            "amendment_id",
            "tenant",
            "consumer_code",
            "business_service",
            "reason",
            "reason_document_number",
            "effective_from",
            "effective_till",
            "state",
            "status",
            "amended_demand",
            "consumed_at",
            "additional_details",
            "details",
            "total",
            "documents",
            "transitions",
            "created_by",
            "created_at",
            "modified_by",
            "modified_at",
        ]

    def get_total(self, amendment: Amendment) -> str:
        return str(money_sum(line.tax_amount for line in amendment.details.all()))
