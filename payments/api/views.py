"""REST face of payments: ``/api/v1/payments/`` (create, list, retrieve, cancel, dishonour).

Reads are scoped to the tenants where the caller holds a payment role (CASHIER, EMPLOYEE, BILLING_ADMIN,
SYSTEM; superusers see all); other payments are 404. Writes go through ``payments.services``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from billing_project import clock
from billing_project.api.schema import rest_errors
from billing_project.api.types import GenericViewSet
from masters.access import HasTenantRole, caller_for
from payments.api.filters import PaymentFilter
from payments.api.serializers import PaymentCreateSerializer, PaymentReasonSerializer, PaymentSerializer
from payments.selectors import payments_visible_to
from payments.services import payment_cancel, payment_create, payment_dishonour

UUID_PATTERN = "[0-9a-fA-F-]{32,36}"


@extend_schema_view(
    list=extend_schema(summary="List payments", responses={200: PaymentSerializer(many=True), **rest_errors(400, 403)}),
    retrieve=extend_schema(
        summary="One payment with its receipts and apportioned account lines",
        responses={200: PaymentSerializer, **rest_errors(403, 404)},
    ),
)
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = PaymentSerializer
    permission_classes = [HasTenantRole]
    filterset_class = PaymentFilter
    lookup_value_regex = UUID_PATTERN
    ordering_fields = ["created_at", "total_amount_paid", "transaction_date", "payment_mode", "status"]
    ordering = ["-created_at"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> Any:
        return payments_visible_to(caller_for(self.request.user))

    @extend_schema(
        summary="Take a payment over one or more current bills (apportioned and written back to the demands)",
        request=PaymentCreateSerializer,
        responses={201: PaymentSerializer, **rest_errors(400, 403, 409)},
    )
    def create(self, request: Request) -> Response:
        serializer = PaymentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = payment_create(caller=caller_for(request.user), payment=serializer.to_input(), at=clock.now())
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel a payment: its write-back to the demands is undone, its bills become CANCELLED",
        request=PaymentReasonSerializer,
        responses={200: PaymentSerializer, **rest_errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        payment = self.get_object()  # 404 for payments the caller may not see
        serializer = PaymentReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        done = payment_cancel(
            caller=caller_for(request.user),
            payment_id=payment.pk,
            reason=serializer.validated_data["reason"],
            at=clock.now(),
        )
        return Response(PaymentSerializer(done).data)

    @extend_schema(
        summary="Record that the instrument (cheque, DD, ...) bounced: the payment's write-back is undone",
        request=PaymentReasonSerializer,
        responses={200: PaymentSerializer, **rest_errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def dishonour(self, request: Request, pk: str | None = None) -> Response:
        payment = self.get_object()
        serializer = PaymentReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        done = payment_dishonour(
            caller=caller_for(request.user),
            payment_id=payment.pk,
            reason=serializer.validated_data["reason"],
            at=clock.now(),
        )
        return Response(PaymentSerializer(done).data)
