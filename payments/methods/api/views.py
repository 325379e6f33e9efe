"""REST face of payment methods and autopay (mounted under /api/v1/).

* ``/payment-methods/`` — register (token + masked label), list, retrieve, ``{id}/revoke/``,
  ``{id}/set-default/``, ``{id}/pay/`` (pay a bill now with the saved method: the only way to charge a saved
  token through the API);
* ``/autopay-mandates/`` — opt in, list, retrieve, ``{id}/revoke/`` (opt out);
* ``/autopay-charges/`` — read only, with ``next_retry_at``.

Reads are scoped by ``payments.methods.selectors`` (citizens: their own payer's rows; staff: their tenants);
rows the caller may not see are 404. Writes go through ``payments.methods.services``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from billing_project import clock
from billing_project.api.schema import rest_errors
from billing_project.api.types import FilterSet, GenericViewSet
from masters.access import HasTenantRole, caller_for
from payments.gateway.api.serializers import GatewayTransactionDetailSerializer
from payments.methods.api.serializers import (
    ChargeSerializer,
    MandateCreateSerializer,
    MandateSerializer,
    PaymentMethodCreateSerializer,
    PaymentMethodPaySerializer,
    PaymentMethodSerializer,
)
from payments.methods.models import AutopayCharge, AutopayMandate, ChargeStatus, MethodStatus, PaymentMethod
from payments.methods.selectors import charges_visible_to, mandates_visible_to, payment_methods_visible_to
from payments.methods.services import (
    autopay_mandate_create,
    autopay_mandate_revoke,
    payment_method_pay,
    payment_method_register,
    payment_method_revoke,
    payment_method_set_default,
)

UUID_PATTERN = "[0-9a-fA-F-]{32,36}"


class PaymentMethodFilter(FilterSet):
    payer = django_filters.UUIDFilter(field_name="payer_id")
    status = django_filters.ChoiceFilter(choices=MethodStatus.choices)

    class Meta:
        model = PaymentMethod
        fields = ["payer", "status"]


class MandateFilter(FilterSet):
    payer = django_filters.UUIDFilter(field_name="payer_id")
    tenant = django_filters.CharFilter(field_name="tenant__code")
    business_service = django_filters.CharFilter()
    consumer_code = django_filters.CharFilter()
    active = django_filters.BooleanFilter()

    class Meta:
        model = AutopayMandate
        fields = ["payer", "tenant", "business_service", "consumer_code", "active"]


class ChargeFilter(FilterSet):
    mandate = django_filters.NumberFilter(field_name="mandate_id")
    status = django_filters.ChoiceFilter(choices=ChargeStatus.choices)
    consumer_code = django_filters.CharFilter(field_name="bill__consumer_code")

    class Meta:
        model = AutopayCharge
        fields = ["mandate", "status", "consumer_code"]


@extend_schema_view(
    list=extend_schema(
        summary="List saved payment methods", responses={200: PaymentMethodSerializer(many=True), **rest_errors(400)}
    ),
    retrieve=extend_schema(
        summary="One saved payment method", responses={200: PaymentMethodSerializer, **rest_errors(404)}
    ),
)
class PaymentMethodViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = PaymentMethodSerializer
    permission_classes = [HasTenantRole]
    filterset_class = PaymentMethodFilter
    lookup_value_regex = "[0-9]+"
    ordering_fields = ["created_at", "status"]
    ordering = ["-created_at"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> Any:
        return payment_methods_visible_to(caller_for(self.request.user)).order_by("-created_at", "-pk")

    @extend_schema(
        summary="Register a tokenised payment method (gateway token + masked label; card numbers are refused)",
        request=PaymentMethodCreateSerializer,
        responses={201: PaymentMethodSerializer, **rest_errors(400, 404, 409)},
    )
    def create(self, request: Request) -> Response:
        serializer = PaymentMethodCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        method = payment_method_register(
            caller=caller_for(request.user),
            payer_id=data["payer"],
            gateway_token=data["gateway_token"],
            label=data["label"],
            brand=data["brand"],
            last4=data["last4"],
            expiry_month=data["expiry_month"],
            expiry_year=data["expiry_year"],
            make_default=data["make_default"],
            at=clock.now(),
        )
        return Response(PaymentMethodSerializer(method).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke a payment method (its autopay mandates are switched off)",
        request=None,
        responses={200: PaymentMethodSerializer, **rest_errors(404)},
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        method = self.get_object()
        done = payment_method_revoke(caller=caller_for(request.user), method_id=method.pk, at=clock.now())
        return Response(
            PaymentMethodSerializer(payment_methods_visible_to(caller_for(request.user)).get(pk=done.pk)).data
        )

    @extend_schema(
        summary="Make a payment method its payer's default",
        request=None,
        responses={200: PaymentMethodSerializer, **rest_errors(404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="set-default", pagination_class=None, filter_backends=[])
    def set_default(self, request: Request, pk: str | None = None) -> Response:
        method = self.get_object()
        done = payment_method_set_default(caller=caller_for(request.user), method_id=method.pk, at=clock.now())
        return Response(
            PaymentMethodSerializer(payment_methods_visible_to(caller_for(request.user)).get(pk=done.pk)).data
        )

    @extend_schema(
        summary="Pay a current bill now with this saved payment method (its owner, or staff for the owner's bills)",
        request=PaymentMethodPaySerializer,
        responses={201: GatewayTransactionDetailSerializer, **rest_errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def pay(self, request: Request, pk: str | None = None) -> Response:
        serializer = PaymentMethodPaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        txn = payment_method_pay(
            caller=caller_for(request.user),
            method_id=pk or "",
            bill_id=serializer.validated_data["bill_id"],
            amount=serializer.validated_data["amount"],
            at=clock.now(),
        )
        return Response(GatewayTransactionDetailSerializer(txn).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="List autopay mandates", responses={200: MandateSerializer(many=True), **rest_errors(400)}
    ),
    retrieve=extend_schema(summary="One autopay mandate", responses={200: MandateSerializer, **rest_errors(404)}),
)
class MandateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = MandateSerializer
    permission_classes = [HasTenantRole]
    filterset_class = MandateFilter
    lookup_value_regex = "[0-9]+"
    ordering_fields = ["created_at", "consumer_code"]
    ordering = ["-created_at"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> Any:
        return mandates_visible_to(caller_for(self.request.user)).order_by("-created_at", "-pk")

    @extend_schema(
        summary="Opt a consumer in to automatic payment of its new bills with a saved payment method",
        request=MandateCreateSerializer,
        responses={201: MandateSerializer, **rest_errors(400, 403, 404, 409)},
    )
    def create(self, request: Request) -> Response:
        serializer = MandateCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        mandate = autopay_mandate_create(
            caller=caller_for(request.user),
            tenant_code=data["tenant"],
            business_service=data["business_service"],
            consumer_code=data["consumer_code"],
            payment_method_id=data["payment_method"],
            max_amount=data["max_amount"],
            at=clock.now(),
        )
        return Response(MandateSerializer(mandate).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Opt out: switch the mandate off (charges not yet in flight are cancelled)",
        request=None,
        responses={200: MandateSerializer, **rest_errors(404)},
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        mandate = self.get_object()
        done = autopay_mandate_revoke(caller=caller_for(request.user), mandate_id=mandate.pk, at=clock.now())
        return Response(MandateSerializer(mandates_visible_to(caller_for(request.user)).get(pk=done.pk)).data)


@extend_schema_view(
    list=extend_schema(
        summary="List autopay charges (with their next retry date)",
        responses={200: ChargeSerializer(many=True), **rest_errors(400)},
    ),
    retrieve=extend_schema(summary="One autopay charge", responses={200: ChargeSerializer, **rest_errors(404)}),
)
class ChargeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = ChargeSerializer
    permission_classes = [HasTenantRole]
    filterset_class = ChargeFilter
    lookup_value_regex = UUID_PATTERN
    ordering_fields = ["created_at", "next_retry_at", "status"]
    ordering = ["-created_at"]

    def get_queryset(self) -> Any:
        return charges_visible_to(caller_for(self.request.user)).order_by("-created_at", "-pk")
