"""DIGIT face of amendments: ``/amendment/_create``, ``/amendment/_update``, ``/amendment/_search`` (§7.10)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from amendments.api.digit_serializers import (
    AmendmentRequestSerializer,
    AmendmentUpdateRequestSerializer,
    amendment_input,
    amendment_json,
)
from amendments.errors import EG_BS_AMENDMENT_UPDATE_WF_ERROR, WORKFLOW_DISABLED_MESSAGE
from amendments.selectors import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    AmendmentCriteria,
    amendment_by_number,
    amendment_search,
)
from amendments.services import amendment_create, amendment_transition, workflow_enabled
from billing_project import clock
from billing_project.digit.criteria import query_long, query_set, query_value
from billing_project.digit.envelope import ci_get
from billing_project.digit.schema import DIGIT_ERROR_RESPONSES
from billing_project.digit.views import DigitAPIView
from billing_project.errors import DomainError
from masters.access import HasTenantRole, caller_for

WF_FIELDS = ("action", "businessId", "businessService", "moduleName")


def _body(request: Request) -> dict[str, Any]:
    return request.data if isinstance(request.data, dict) else {}


class AmendmentCreateView(DigitAPIView):
    permission_classes = [HasTenantRole]
    success_status = status.HTTP_201_CREATED

    @extend_schema(
        tags=["DIGIT"],
        operation_id="digit_amendment_create",
        summary="Create an amendment (enters the approval workflow, or is applied at once with it off)",
        request=OpenApiTypes.OBJECT,
        responses={201: OpenApiTypes.OBJECT, **DIGIT_ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        serializer = AmendmentRequestSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        amendment = amendment_create(
            caller=caller_for(request.user),
            data=amendment_input(serializer.validated_data["Amendment"]),
            at=clock.now(),
        )
        return self.envelope(request, {"Amendments": [amendment_json(amendment)]})


class AmendmentUpdateView(DigitAPIView):
    """Workflow actions only (reference §7.10.3): APPROVE, REJECT, SEND_BACK, RESUBMIT (RE-SUBMIT), WITHDRAW."""

    permission_classes = [HasTenantRole]

    @extend_schema(
        tags=["DIGIT"],
        operation_id="digit_amendment_update",
        summary="Perform a workflow action on an amendment",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, **DIGIT_ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        if not workflow_enabled():
            raise DomainError(EG_BS_AMENDMENT_UPDATE_WF_ERROR, WORKFLOW_DISABLED_MESSAGE)
        serializer = AmendmentUpdateRequestSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data["AmendmentUpdate"]
        caller = caller_for(request.user)
        stored = amendment_by_number(caller=caller, tenant_code=data["tenantId"], amendment_id=data["amendmentId"])
        workflow = data.get("workflow")
        workflow = workflow if isinstance(workflow, dict) else {}
        values = {name: ci_get(workflow, name) for name in (*WF_FIELDS, "comment")}
        if any(not isinstance(values[name], str) or not values[name].strip() for name in WF_FIELDS):
            raise DomainError(
                EG_BS_AMENDMENT_UPDATE_WF_ERROR,
                "Mandatory workflow fileds missing in the update request, Please add all the following fields "
                "workflow.action, workflow.businessId, workflow.moduleName, workflow.businessService",
            )
        comment = values["comment"] if isinstance(values["comment"], str) else ""
        amendment = amendment_transition(
            caller=caller,
            amendment_pk=stored.pk,
            action=values["action"],
            comment=comment,
            additional_details=data.get("additionalDetails"),
            at=clock.now(),
        )
        return self.envelope(request, {"Amendments": [amendment_json(amendment)]})


class AmendmentSearchView(DigitAPIView):
    permission_classes = [HasTenantRole]

    @extend_schema(
        tags=["DIGIT"],
        operation_id="digit_amendment_search",
        summary="Search amendments (AmendmentCriteria); amendments without documents are found too",
        request=OpenApiTypes.OBJECT,
        parameters=[
            OpenApiParameter("tenantId", OpenApiTypes.STR, required=True),
            OpenApiParameter("businessService", OpenApiTypes.STR, required=True),
            OpenApiParameter("consumerCode", OpenApiTypes.STR, many=True),
            OpenApiParameter("amendmentId", OpenApiTypes.STR, many=True),
            OpenApiParameter("status", OpenApiTypes.STR, many=True),
            OpenApiParameter("mobileNumber", OpenApiTypes.STR),
            OpenApiParameter("offset", OpenApiTypes.INT),
            OpenApiParameter("limit", OpenApiTypes.INT),
        ],
        responses={200: OpenApiTypes.OBJECT, **DIGIT_ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        offset = query_long(request, "offset")
        limit = query_long(request, "limit")
        if limit is not None and limit < 0:
            # DIGIT's inbox asks for ``limit=-1`` ("all of these ids"): the largest page.
            limit = MAX_LIMIT
        criteria = AmendmentCriteria(
            tenant_id=query_value(request, "tenantId"),
            business_service=query_value(request, "businessService"),
            consumer_codes=tuple(query_set(request, "consumerCode")),
            amendment_ids=tuple(query_set(request, "amendmentId")),
            statuses=tuple(query_set(request, "status")),
            mobile_number=query_value(request, "mobileNumber"),
            offset=offset if offset is not None else 0,
            limit=limit if limit is not None else DEFAULT_LIMIT,
        )
        amendments = amendment_search(caller=caller_for(request.user), criteria=criteria)
        return self.envelope(request, {"Amendments": [amendment_json(a) for a in amendments]})
