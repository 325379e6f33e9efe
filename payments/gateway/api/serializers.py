"""REST serializers of online payments: the initiate input and the transaction as rendered (with its
attempts and refunds). Never the payment method's token."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from billing_project.api.types import ModelSerializer, Serializer
from billing_project.fields import MoneySerializerField
from payments.gateway.models import GatewayAttempt, GatewayRefund, GatewayTransaction


class OnlinePaymentCreateSerializer(Serializer):
    """Start an online payment of a current bill: a hosted checkout. No payment-method token or id: a saved
    method is charged through ``POST /api/v1/payment-methods/{id}/pay/`` (owner and status checked there)."""

    bill_id = serializers.UUIDField()
    amount = MoneySerializerField()
    return_url = serializers.CharField(max_length=1024, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        sent = sorted(set(self.initial_data) & {"payment_method_token", "payment_method_id"})
        if sent:
            raise serializers.ValidationError(
                {
                    name: ["not accepted here: pay with a saved method at /api/v1/payment-methods/{id}/pay/"]
                    for name in sent
                }
            )
        return attrs

    def to_kwargs(self) -> dict[str, Any]:
        data: dict[str, Any] = self.validated_data
        return {"bill_id": data["bill_id"], "amount": data["amount"], "return_url": data["return_url"]}


class GatewayAttemptSerializer(ModelSerializer):
    class Meta:
        model = GatewayAttempt
        fields = ["kind", "http_status", "outcome", "gateway_status", "error", "duration_ms", "at"]


class GatewayRefundSerializer(ModelSerializer):
    class Meta:
        model = GatewayRefund
        fields = ["id", "reference", "amount", "reason", "status", "gateway_refund_id", "error", "created_at"]


class GatewayTransactionSerializer(ModelSerializer):
    """A gateway transaction; ``redirect_url`` is where to send the payer (the hosted checkout)."""

    tenant = serializers.CharField(source="tenant.code")
    bill = serializers.UUIDField(source="bill_id")
    bill_number = serializers.CharField(source="bill.bill_number")
    payment = serializers.UUIDField(source="payment_id", allow_null=True)
    redirect_url = serializers.CharField(source="checkout_url")

    class Meta:
        model = GatewayTransaction
        fields = [
            "id",
            "merchant_reference",
            "gateway",
            "gateway_transaction_id",
            "kind",
            "tenant",
            "bill",
            "bill_number",
            "consumer_code",
            "business_service",
            "amount",
            "currency",
            "status",
            "failure_code",
            "decline_type",
            "redirect_url",
            "return_url",
            "payment_method_id",
            "payment",
            "verdict_source",
            "settled_at",
            "poll_count",
            "next_poll_at",
            "attempt_count",
            "refunded_amount",
            "needs_attention",
            "attention_reason",
            "attention_note",
            "created_by",
            "created_at",
            "updated_at",
        ]


class GatewayTransactionDetailSerializer(GatewayTransactionSerializer):
    """A transaction with its call history and refunds."""

    attempts = GatewayAttemptSerializer(many=True)
    refunds = GatewayRefundSerializer(many=True)

    class Meta(GatewayTransactionSerializer.Meta):
        fields = [*GatewayTransactionSerializer.Meta.fields, "attempts", "refunds"]


class CallbackAnswerSerializer(Serializer):
    outcome = serializers.CharField()
    detail = serializers.CharField()
