"""DIGIT face of demands: ``/demand/_create``, ``/demand/_update``, ``/demand/_search`` (reference §6, §7.1–7.3)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from billing_project import clock
from billing_project.digit.criteria import query_bool, query_epoch, query_set, query_value
from billing_project.digit.schema import DIGIT_ERROR_RESPONSES
from billing_project.digit.views import DigitAPIView
from billing_project.uuids import uuid_or_none
from demands.api.digit_serializers import DemandRequestSerializer, demand_input, demand_json
from demands.selectors import DemandCriteria, demand_search
from demands.services import demand_create, demand_update
from masters.access import HasTenantRole, caller_for


def _demands_from(request: Request) -> list[Any]:
    body = request.data if isinstance(request.data, dict) else {}
    serializer = DemandRequestSerializer(data=body)
    serializer.is_valid(raise_exception=True)
    return [demand_input(item) for item in serializer.validated_data["Demands"]]


class _DemandWriteView(DigitAPIView):
    permission_classes = [HasTenantRole]
    success_status: int = status.HTTP_201_CREATED  # the reference answers 201 to create and update alike


class DemandCreateView(_DemandWriteView):
    @extend_schema(
        tags=["DIGIT"],
        operation_id="digit_demand_create",
        summary="Create demands",
        request=OpenApiTypes.OBJECT,
        responses={201: OpenApiTypes.OBJECT, **DIGIT_ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        demands = demand_create(caller=caller_for(request.user), demands=_demands_from(request), at=clock.now())
        return self.envelope(request, {"Demands": [demand_json(d) for d in demands], "CollectedReceipt": None})


class DemandUpdateView(_DemandWriteView):
    @extend_schema(
        tags=["DIGIT"],
        operation_id="digit_demand_update",
        summary="Update demands",
        request=OpenApiTypes.OBJECT,
        responses={201: OpenApiTypes.OBJECT, **DIGIT_ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        demands = demand_update(caller=caller_for(request.user), demands=_demands_from(request), at=clock.now())
        return self.envelope(request, {"Demands": [demand_json(d) for d in demands], "CollectedReceipt": None})


def _uuids(request: Request, name: str) -> tuple[Any, ...]:
    values = []
    for raw in query_set(request, name):
        key = uuid_or_none(raw)
        if key is None:
            raise ValidationError({name: [f"'{raw}' is not a valid id"]})
        values.append(key)
    return tuple(values)


class DemandSearchView(DigitAPIView):
    permission_classes = [HasTenantRole]

    @extend_schema(
        tags=["DIGIT"],
        operation_id="digit_demand_search",
        summary="Search demands (DemandCriteria)",
        request=OpenApiTypes.OBJECT,
        parameters=[
            OpenApiParameter("tenantId", OpenApiTypes.STR, required=True),
            OpenApiParameter("demandId", OpenApiTypes.STR, many=True),
            OpenApiParameter("consumerCode", OpenApiTypes.STR, many=True),
            OpenApiParameter("payer", OpenApiTypes.STR, many=True),
            OpenApiParameter("businessService", OpenApiTypes.STR),
            OpenApiParameter("periodFrom", OpenApiTypes.INT64),
            OpenApiParameter("periodTo", OpenApiTypes.INT64),
            OpenApiParameter("mobileNumber", OpenApiTypes.STR),
            OpenApiParameter("email", OpenApiTypes.STR),
            OpenApiParameter("status", OpenApiTypes.STR),
            OpenApiParameter("isPaymentCompleted", OpenApiTypes.BOOL),
        ],
        responses={200: OpenApiTypes.OBJECT, **DIGIT_ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        criteria = DemandCriteria(
            tenant_id=query_value(request, "tenantId"),
            demand_ids=_uuids(request, "demandId"),
            payer_uuids=_uuids(request, "payer"),
            consumer_codes=tuple(query_set(request, "consumerCode")),
            business_service=query_value(request, "businessService"),
            period_from=query_epoch(request, "periodFrom"),
            period_to=query_epoch(request, "periodTo"),
            mobile_number=query_value(request, "mobileNumber"),
            email=query_value(request, "email"),
            status=query_value(request, "status"),
            is_payment_completed=query_bool(request, "isPaymentCompleted"),
            ignored_present=frozenset(
                name for name in ("demandFrom", "demandTo", "type") if query_value(request, name) is not None
            ),
        )
        demands = demand_search(caller=caller_for(request.user), criteria=criteria)
        # The reference's DemandResponse (shared by create, update and search) carries a legacy null receipt.
        return self.envelope(request, {"Demands": [demand_json(d) for d in demands], "CollectedReceipt": None})
