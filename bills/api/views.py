"""REST face of bills: ``/api/v1/bills/`` (list with full history, retrieve, fetch, cancel).

Reads are scoped by ``bills.selectors.bills_visible_to``: staff and system clients see their tenants' bills, a
citizen the bills of consumers whose demands they owe; other bills are 404. Writes go through the services:
``bill_fetch`` (the consumers' current bills, generated when missing or stale) and ``bill_cancel_one``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from billing_project import clock
from billing_project.api.schema import rest_errors
from billing_project.api.types import GenericViewSet
from bills.api.filters import BillFilter
from bills.api.serializers import BillCancelSerializer, BillFetchSerializer, BillSerializer, BillSummarySerializer
from bills.selectors import bills_visible_to
from bills.services import bill_cancel_one, bill_fetch
from masters.access import HasTenantRole, caller_for

UUID_PATTERN = "[0-9a-fA-F-]{32,36}"


@extend_schema_view(
    list=extend_schema(
        summary="List bills (full history)",
        responses={200: BillSummarySerializer(many=True), **rest_errors(400, 403)},
    ),
    retrieve=extend_schema(
        summary="One bill with its periods and tax-head lines",
        responses={200: BillSerializer, **rest_errors(403, 404)},
    ),
)
class BillViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Bills of the tenants the caller reaches (a citizen: the bills of their own consumers)."""

    serializer_class = BillSerializer
    permission_classes = [HasTenantRole]
    filterset_class = BillFilter
    lookup_value_regex = UUID_PATTERN
    ordering_fields = ["bill_date", "total_amount", "expiry_date", "consumer_code", "bill_number", "created_at"]
    ordering = ["-bill_date", "bill_number"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> Any:
        queryset = bills_visible_to(caller_for(self.request.user)).order_by("-bill_date", "bill_number", "pk")
        if self.action == "list":
            return queryset.prefetch_related(None)  # the list shows no periods
        return queryset

    def get_serializer_class(self) -> Any:
        return BillSummarySerializer if self.action == "list" else BillSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": clock.now()}

    @extend_schema(
        summary="The consumers' current bills, generated when missing or stale",
        request=BillFetchSerializer,
        responses={200: BillSerializer(many=True), **rest_errors(400, 403)},
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def fetch(self, request: Request) -> Response:
        serializer = BillFetchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        now = clock.now()
        bills = bill_fetch(caller=caller_for(request.user), criteria=serializer.to_criteria(), at=now)
        return Response(BillSerializer(bills, many=True, context={"now": now}).data)

    @extend_schema(
        summary="Cancel an ACTIVE bill (its demands stay open; the next fetch builds a new bill)",
        request=BillCancelSerializer,
        responses={200: BillSerializer, **rest_errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        bill = self.get_object()  # 404 for bills the caller may not see
        serializer = BillCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        now = clock.now()
        cancelled = bill_cancel_one(
            caller=caller_for(request.user),
            bill_id=bill.pk,
            reason=serializer.validated_data["reason"],
            reason_message=serializer.validated_data["reason_message"],
            description=serializer.validated_data["description"],
            at=now,
        )
        return Response(BillSerializer(cancelled, context={"now": now}).data)
