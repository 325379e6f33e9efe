"""REST face of online payments.

* ``POST /api/v1/online-payments/`` — start an online payment of a bill (201: the transaction with its
  ``redirect_url``); ``Idempotency-Key`` works through the kernel middleware.
* ``GET /api/v1/gateway-transactions/`` and ``/{id}/`` — tenant-scoped like payments (a payment role in the
  transaction's tenant; others get 404).
* ``POST /api/v1/gateway/callbacks/<gateway>/`` — the gateway's server-to-server callback: no user
  authentication (the signature is the authentication), CSRF-exempt, never a 500; a body over
  ``PAYMENT_GATEWAY_CALLBACK_MAX_BYTES`` (by its Content-Length, before it is read) is answered 413, not stored.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_project import clock
from billing_project.api.schema import ERROR_RESPONSE, rest_errors
from billing_project.api.types import GenericViewSet
from masters.access import HasTenantRole, caller_for
from payments.gateway.api.filters import GatewayTransactionFilter
from payments.gateway.api.serializers import (
    CallbackAnswerSerializer,
    GatewayTransactionDetailSerializer,
    GatewayTransactionSerializer,
    OnlinePaymentCreateSerializer,
)
from payments.gateway.selectors import gateway_transactions_visible_to
from payments.gateway.services import gateway_callback_receive, gateway_payment_initiate

logger = logging.getLogger(__name__)
UUID_PATTERN = "[0-9a-fA-F-]{32,36}"


class OnlinePaymentView(APIView):
    permission_classes = [HasTenantRole]

    @extend_schema(
        summary="Start an online payment of a current bill (hosted checkout; saved methods: payment-methods/{id}/pay/)",
        request=OnlinePaymentCreateSerializer,
        responses={201: GatewayTransactionDetailSerializer, **rest_errors(400, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        serializer = OnlinePaymentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        txn = gateway_payment_initiate(caller=caller_for(request.user), at=clock.now(), **serializer.to_kwargs())
        return Response(GatewayTransactionDetailSerializer(txn).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="List gateway transactions",
        responses={200: GatewayTransactionSerializer(many=True), **rest_errors(400, 403)},
    ),
    retrieve=extend_schema(
        summary="One gateway transaction with its attempts and refunds",
        responses={200: GatewayTransactionDetailSerializer, **rest_errors(403, 404)},
    ),
)
class GatewayTransactionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    permission_classes = [HasTenantRole]
    filterset_class = GatewayTransactionFilter
    lookup_value_regex = UUID_PATTERN
    ordering_fields = ["created_at", "amount", "status", "updated_at"]
    ordering = ["-created_at"]

    def get_queryset(self) -> Any:
        return gateway_transactions_visible_to(caller_for(self.request.user))

    def get_serializer_class(self) -> Any:
        return GatewayTransactionDetailSerializer if self.action == "retrieve" else GatewayTransactionSerializer


def _declared_length(request: Request) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


# The view answers {"outcome", "detail"}; what the API boundary refuses first (a NUL, JSON nested too deep, an
# unknown URL) is the REST error body.
_CALLBACK_OR_ERROR = PolymorphicProxySerializer(
    component_name="CallbackRefusal",
    serializers=[CallbackAnswerSerializer, ERROR_RESPONSE],
    resource_type_field_name=None,
)


class GatewayCallbackView(APIView):
    """The gateway's signed callback. The raw body is read before any parsing (the signature covers it)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Gateway callback (server to server; authenticated by its HMAC signature, not a user)",
        request=OpenApiTypes.OBJECT,
        responses={
            200: CallbackAnswerSerializer,
            400: OpenApiResponse(
                _CALLBACK_OR_ERROR, description="Malformed, or amount/currency/id mismatch (or refused at the boundary)"
            ),
            401: OpenApiResponse(CallbackAnswerSerializer, description="Missing or invalid signature"),
            404: OpenApiResponse(_CALLBACK_OR_ERROR, description="No such gateway"),
            413: OpenApiResponse(_CALLBACK_OR_ERROR, description="Body too large (not stored)"),
        },
        auth=[],
    )
    def post(self, request: Request, gateway: str) -> Response:
        limit = int(settings.PAYMENT_GATEWAY_CALLBACK_MAX_BYTES)
        if _declared_length(request) > limit:
            # Refused before the body is read (Django reads no more than Content-Length, so this bounds it).
            logger.warning("gateway callback too large", extra={"gateway": gateway[:32]})
            return Response(
                {"outcome": "TOO_LARGE", "detail": f"callback bodies are limited to {limit} bytes"},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        result = gateway_callback_receive(
            gateway=gateway, body=request.body, headers=dict(request.headers), at=clock.now()
        )
        return Response({"outcome": result.outcome, "detail": result.detail}, status=result.http_status)
