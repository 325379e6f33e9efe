"""REST serializers of payment methods, autopay mandates and autopay charges.

A payment method is rendered without its gateway token (the token is write-only: whoever holds it can charge
the card at the gateway).
"""

from __future__ import annotations

from rest_framework import serializers

from billing_project.api.types import ModelSerializer, Serializer
from billing_project.fields import MoneySerializerField
from payments.methods.models import AutopayCharge, AutopayMandate, PaymentMethod


class PaymentMethodCreateSerializer(Serializer):
    """What the gateway's tokenisation page gave the payer: a token and a masked label (never a card number)."""

    payer = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="Staff: the payer; citizens: omit (their own)."
    )
    gateway_token = serializers.CharField(max_length=256, trim_whitespace=False)
    label = serializers.CharField(max_length=64, help_text="Masked, e.g. VISA •••• 4242")  # type: ignore[assignment]
    brand = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    last4 = serializers.CharField(max_length=4, required=False, allow_blank=True, default="")
    expiry_month = serializers.IntegerField(min_value=1, max_value=12)
    expiry_year = serializers.IntegerField(min_value=2000, max_value=9999)
    make_default = serializers.BooleanField(required=False, default=False)


class PaymentMethodSerializer(ModelSerializer):
    payer = serializers.UUIDField(source="payer_id")
    tenant = serializers.CharField(source="tenant.code")

    class Meta:
        model = PaymentMethod
        fields = [
            "id",
            "payer",
            "tenant",
            "gateway",
            "label",
            "brand",
            "last4",
            "expiry_month",
            "expiry_year",
            "status",
            "is_default",
            "flagged_at",
            "flag_reason",
            "created_by",
            "created_at",
            "updated_at",
            "revoked_at",
        ]


class PaymentMethodPaySerializer(Serializer):
    """Pay a current bill now with this saved payment method (a direct charge of its token at the gateway)."""

    bill_id = serializers.UUIDField()
    amount = MoneySerializerField()


class MandateCreateSerializer(Serializer):
    tenant = serializers.CharField(max_length=128)
    business_service = serializers.CharField(max_length=64)
    consumer_code = serializers.CharField(max_length=250)
    payment_method = serializers.IntegerField(min_value=1)
    max_amount = MoneySerializerField(required=False, allow_null=True, default=None)


class MandateSerializer(ModelSerializer):
    payer = serializers.UUIDField(source="payer_id")
    tenant = serializers.CharField(source="tenant.code")
    payment_method = serializers.IntegerField(source="payment_method_id")
    payment_method_label = serializers.CharField(source="payment_method.label")

    class Meta:
        model = AutopayMandate
        fields = [
            "id",
            "payer",
            "tenant",
            "business_service",
            "consumer_code",
            "payment_method",
            "payment_method_label",
            "max_amount",
            "active",
            "created_by",
            "created_at",
            "revoked_by",
            "revoked_at",
        ]


class ChargeSerializer(ModelSerializer):
    mandate = serializers.IntegerField(source="mandate_id")
    bill = serializers.UUIDField(source="bill_id")
    bill_number = serializers.CharField(source="bill.bill_number")
    consumer_code = serializers.CharField(source="bill.consumer_code")
    superseded_by = serializers.UUIDField(source="superseded_by_id", allow_null=True)
    gateway_transaction = serializers.UUIDField(source="gateway_transaction_id", allow_null=True)

    class Meta:
        model = AutopayCharge
        fields = [
            "id",
            "mandate",
            "bill",
            "bill_number",
            "consumer_code",
            "amount",
            "attempt",
            "status",
            "next_retry_at",
            "gateway_transaction",
            "failure_code",
            "failure_message",
            "superseded_by",
            "created_at",
            "updated_at",
            "last_attempt_at",
            "finished_at",
        ]
