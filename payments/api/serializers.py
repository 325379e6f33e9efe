"""REST serializers of payments: the input of create / cancel / dishonour, and the payment as rendered.

A payment is rendered with its details (one receipt per bill) and, per detail, the account lines the money
was apportioned over (``adjusted_amount``; ``advance_amount`` is overpayment kept as advance).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from billing_project.api.types import ModelSerializer, Serializer
from billing_project.fields import MoneySerializerField
from payments.models import Payment, PaymentAccountLine, PaymentDetail, PaymentMode
from payments.services import PaymentDetailInput, PaymentInput


class PaymentDetailInputSerializer(Serializer):
    bill_id = serializers.UUIDField()
    business_service = serializers.CharField(max_length=64)
    total_due = MoneySerializerField()
    total_amount_paid = MoneySerializerField()
    manual_receipt_number = serializers.CharField(max_length=256, required=False, allow_blank=True, default="")


class PaymentCreateSerializer(Serializer):
    """A counter payment over one or more current bills."""

    tenant = serializers.CharField(max_length=256)
    payment_mode = serializers.ChoiceField(choices=PaymentMode.choices)
    total_due = MoneySerializerField()
    total_amount_paid = MoneySerializerField()
    paid_by = serializers.CharField(max_length=256, required=False, allow_blank=True, default="")
    payer_name = serializers.CharField(max_length=256, required=False, allow_blank=True, default="")
    payer_address = serializers.CharField(max_length=1024, required=False, allow_blank=True, default="")
    payer_email = serializers.CharField(max_length=256, required=False, allow_blank=True, default="")
    mobile_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    instrument_number = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    instrument_date = serializers.DateTimeField(required=False, allow_null=True, default=None)
    ifsc_code = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    transaction_number = serializers.CharField(max_length=256, required=False, allow_blank=True, default="")
    details = PaymentDetailInputSerializer(many=True, allow_empty=False)

    def to_input(self) -> PaymentInput:
        data: dict[str, Any] = self.validated_data
        return PaymentInput(
            tenant_code=data["tenant"],
            payment_mode=data["payment_mode"],
            total_due=data["total_due"],
            total_amount_paid=data["total_amount_paid"],
            details=tuple(
                PaymentDetailInput(
                    bill_id=detail["bill_id"],
                    business_service=detail["business_service"],
                    total_due=detail["total_due"],
                    total_amount_paid=detail["total_amount_paid"],
                    manual_receipt_number=detail["manual_receipt_number"],
                )
                for detail in data["details"]
            ),
            paid_by=data["paid_by"],
            payer_name=data["payer_name"],
            payer_address=data["payer_address"],
            payer_email=data["payer_email"],
            mobile_number=data["mobile_number"],
            instrument_number=data["instrument_number"],
            instrument_date=data["instrument_date"],
            ifsc_code=data["ifsc_code"],
            transaction_number=data["transaction_number"],
        )


class PaymentReasonSerializer(Serializer):
    reason = serializers.CharField(max_length=2048)


class PaymentAccountLineSerializer(ModelSerializer):
    bill_detail = serializers.UUIDField(source="bill_detail_id")
    bill_account_detail = serializers.UUIDField(source="bill_account_detail_id", allow_null=True)

    class Meta:
        model = PaymentAccountLine
        fields = ["tax_head_code", "amount", "adjusted_amount", "advance_amount", "bill_detail", "bill_account_detail"]


class PaymentDetailSerializer(ModelSerializer):
    bill = serializers.UUIDField(source="bill_id")
    bill_number = serializers.CharField(source="bill.bill_number")
    consumer_code = serializers.CharField(source="bill.consumer_code")
    account_lines = PaymentAccountLineSerializer(many=True)

    class Meta:
        model = PaymentDetail
        fields = [
            "id",
            "bill",
            "bill_number",
            "consumer_code",
            "business_service",
            "total_due",
            "total_amount_paid",
            "receipt_number",
            "receipt_date",
            "receipt_type",
            "manual_receipt_number",
            "account_lines",
        ]


class PaymentSerializer(ModelSerializer):
    """A payment with its receipts and how each was apportioned."""

    tenant = serializers.CharField(source="tenant.code")
    payer = serializers.UUIDField(source="payer_id", allow_null=True)
    details = PaymentDetailSerializer(many=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "tenant",
            "payment_mode",
            "status",
            "total_due",
            "total_amount_paid",
            "instrument_number",
            "instrument_date",
            "instrument_status",
            "ifsc_code",
            "transaction_number",
            "transaction_date",
            "paid_by",
            "payer_name",
            "payer_address",
            "payer_email",
            "mobile_number",
            "payer",
            "cancel_reason",
            "cancelled_by",
            "cancelled_at",
            "created_by",
            "created_at",
            "modified_by",
            "modified_at",
            "details",
        ]
