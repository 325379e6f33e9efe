"""DIGIT face of bills (reference §6, §7.4–7.6): fetch, search and cancel, and the deprecated bill endpoints.

- ``/bill/v2/_fetchbill`` (GenerateBillCriteria in the query) → 201 ``{"ResposneInfo", "Bill"}`` — the key
  really is misspelt, as in the reference.
- ``/bill/v2/_search`` (BillSearchCriteria in the query) → 200 ``{"ResposneInfo", "Bill"}``: per consumer code
  the latest bill (or, with ``retrieveOldest``, the earliest non-cancelled one); ``status`` is the effective
  status, so a stale ACTIVE bill reads EXPIRED.
- ``/bill/v2/_cancelbill`` (body ``UpdateBillCriteria``) → ``{"ResponseInfo", "Message"}``, HTTP 200 when a
  bill was cancelled, else 400 (the latest bill is paid, or there is no active bill).
- ``/bill/v2/_generate`` and ``/bill/v2/_create`` → 400 ``EG_BS_API_ERROR``; the v1 paths ``/bill/_search``,
  ``/bill/_generate``, ``/bill/_fetchbill``, ``/bill/_create`` → 400 with the reference's lower-case
  ``{"responseInfo", "error"}`` body.

Every endpoint needs an authenticated caller (token in ``RequestInfo.authToken``, the ``auth-token`` header or the
``Authorization`` header), the deprecated ones included; fetch, search and cancel also need a role in some tenant.
With ``DIGIT_OPEN_ENDPOINTS`` (on in DIGIT mode), fetch and search by (tenant, business service, consumer code) only
are open to anyone, as DIGIT's quick pay needs: the payer's name, mobile number, address and e-mail are then masked
for a caller who is neither staff of the bill's tenant nor its payer (``bills.selectors.payer_visible``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from billing_project import clock
from billing_project.digit.criteria import query_bool, query_epoch, query_set, query_value
from billing_project.digit.envelope import response_info
from billing_project.digit.schema import DIGIT_ERROR_RESPONSES, DigitRequestInfoWrapperSerializer
from billing_project.digit.views import DigitAPIView, get_request_info
from billing_project.errors import DomainError
from bills.api.digit_serializers import UpdateBillRequestSerializer, bill_json
from bills.errors import EG_BS_API_ERROR
from bills.models import BillStatus
from bills.selectors import BillSearchCriteria, bill_search, open_lookup, payer_visible
from bills.services import FetchCriteria, bill_cancel, bill_fetch
from masters.access import HasTenantRole, caller_for

GENERATE_DEPRECATED = "The Generate bill API has been deprecated, Access the fetchBill"
CREATE_UNSUPPORTED = (
    "The Create bill API is not supported: bills are generated from the consumer's demands by /bill/v2/_fetchbill"
)
V1_DEPRECATED = "The API you are trying to access has been depricated, Access the V2 API's"
SEARCH_STATUSES = frozenset({*BillStatus.values, "PAYMENT_CANCELLED"})
MOBILE_DIGITS = 10


def _mobile(request: Request) -> str | None:
    value = query_value(request, "mobileNumber")
    if value is not None and not (len(value) == MOBILE_DIGITS and value.isascii() and value.isdigit()):
        raise ValidationError({"mobileNumber": [ErrorDetail("MobileNumber should be 10 digit number", "Pattern")]})
    return value


def _status(request: Request) -> str | None:
    value = query_value(request, "status")
    if value is not None and value not in SEARCH_STATUSES:
        raise ValidationError({"status": [f"'{value}' is not one of {', '.join(sorted(SEARCH_STATUSES))}"]})
    return value


def fetch_criteria(request: Request) -> FetchCriteria:
    """GenerateBillCriteria from the query parameters (names case-insensitive, sets comma-separated or repeated)."""
    return FetchCriteria(
        tenant_id=query_value(request, "tenantId"),
        business_service=query_value(request, "businessService"),
        consumer_codes=tuple(query_set(request, "consumerCode")),
        demand_id=query_value(request, "demandId"),
        mobile_number=query_value(request, "mobileNumber"),
        email=query_value(request, "email"),
        request_info=get_request_info(request).raw,
    )


def search_criteria(request: Request) -> BillSearchCriteria:
    """BillSearchCriteria from the query parameters; ``isActive``, ``isCancelled``, ``size``, ``offset`` are ignored."""
    order_by = query_bool(request, "orderBy")
    if order_by is None:
        order_by = query_bool(request, "isOrderBy")
    return BillSearchCriteria(
        tenant_id=query_value(request, "tenantId"),
        bill_ids=tuple(query_set(request, "billId")),
        consumer_codes=tuple(query_set(request, "consumerCode")),
        service=query_value(request, "service"),
        bill_number=query_value(request, "billNumber"),
        mobile_number=_mobile(request),
        email=query_value(request, "email"),
        status=_status(request),
        from_period=query_epoch(request, "fromPeriod"),
        to_period=query_epoch(request, "toPeriod"),
        retrieve_oldest=bool(query_bool(request, "retrieveOldest")),
        order_by=bool(order_by),
    )


def _fetch_is_open(request: Request) -> bool:
    criteria = fetch_criteria(request)
    others = bool(criteria.demand_id or criteria.mobile_number or criteria.email)
    return open_lookup(consumer_codes=criteria.consumer_codes, service=criteria.business_service, others=others)


def _search_is_open(request: Request) -> bool:
    names = ("billId", "mobileNumber", "email", "billNumber")
    others = any(query_value(request, name) is not None for name in names)
    return open_lookup(
        consumer_codes=tuple(query_set(request, "consumerCode")), service=query_value(request, "service"), others=others
    )


class RoleOrOpenLookup(BasePermission):
    """A role in some tenant, or an open lookup by consumer code (``DIGIT_OPEN_ENDPOINTS``), token or not."""

    message = HasTenantRole.message

    def has_permission(self, request: Any, view: Any) -> bool:
        return HasTenantRole().has_permission(request, view) or bool(view.is_open_lookup(request))


class _BillView(DigitAPIView):
    permission_classes = [RoleOrOpenLookup]
    response_info_key = "ResposneInfo"  # sic: the reference's bill responses misspell it [21]

    def is_open_lookup(self, request: Request) -> bool:
        return False

    def bills_json(self, request: Request, bills: list[Any], now: dt.datetime) -> list[dict[str, Any]]:
        caller = caller_for(request.user)
        return [bill_json(bill, now=now, masked=not payer_visible(caller, bill)) for bill in bills]


class BillFetchView(_BillView):
    success_status = status.HTTP_201_CREATED

    @extend_schema(
        tags=["DIGIT"],
        operation_id="digit_bill_fetch",
        summary="Fetch the consumers' current bills, generating them when missing or stale (GenerateBillCriteria)",
        request=DigitRequestInfoWrapperSerializer,
        parameters=[
            OpenApiParameter("tenantId", OpenApiTypes.STR, required=True),
            OpenApiParameter("businessService", OpenApiTypes.STR, required=True),
            OpenApiParameter("consumerCode", OpenApiTypes.STR, many=True, description="Comma-separated or repeated"),
            OpenApiParameter("demandId", OpenApiTypes.STR),
            OpenApiParameter("mobileNumber", OpenApiTypes.STR, description="10 digits"),
            OpenApiParameter("email", OpenApiTypes.STR),
        ],
        responses={201: OpenApiTypes.OBJECT, **DIGIT_ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        now = clock.now()
        bills = bill_fetch(caller=caller_for(request.user), criteria=fetch_criteria(request), at=now)
        return self.envelope(request, {"Bill": self.bills_json(request, bills, now)})

    def is_open_lookup(self, request: Request) -> bool:
        return _fetch_is_open(request)


class BillSearchView(_BillView):
    @extend_schema(
        tags=["DIGIT"],
        operation_id="digit_bill_search",
        summary="Search bills: the latest (or earliest) bill per consumer code (BillSearchCriteria)",
        request=DigitRequestInfoWrapperSerializer,
        parameters=[
            OpenApiParameter("tenantId", OpenApiTypes.STR, required=True),
            OpenApiParameter("billId", OpenApiTypes.STR, many=True, description="Comma-separated or repeated"),
            OpenApiParameter("consumerCode", OpenApiTypes.STR, many=True, description="Needs service"),
            OpenApiParameter("service", OpenApiTypes.STR, description="Business service code"),
            OpenApiParameter("billNumber", OpenApiTypes.STR),
            OpenApiParameter("mobileNumber", OpenApiTypes.STR, description="10 digits"),
            OpenApiParameter("email", OpenApiTypes.STR),
            OpenApiParameter("status", OpenApiTypes.STR, description="Ignored with retrieveOldest"),
            OpenApiParameter("fromPeriod", OpenApiTypes.INT64, description="Epoch ms, exact match on a bill detail"),
            OpenApiParameter("toPeriod", OpenApiTypes.INT64, description="Epoch ms, exact match on a bill detail"),
            OpenApiParameter("retrieveOldest", OpenApiTypes.BOOL),
            OpenApiParameter("orderBy", OpenApiTypes.BOOL),
        ],
        responses={200: OpenApiTypes.OBJECT, **DIGIT_ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        now = clock.now()
        bills = bill_search(caller=caller_for(request.user), criteria=search_criteria(request))
        return self.envelope(request, {"Bill": self.bills_json(request, bills, now)})

    def is_open_lookup(self, request: Request) -> bool:
        return _search_is_open(request)


class BillCancelView(DigitAPIView):
    permission_classes = [HasTenantRole]

    @extend_schema(
        tags=["DIGIT"],
        operation_id="digit_bill_cancel",
        summary="Cancel the latest ACTIVE bill of one consumer code (UpdateBillCriteria)",
        request=OpenApiTypes.OBJECT,
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description='{"ResponseInfo", "Message"}: bills cancelled'),
            **DIGIT_ERROR_RESPONSES,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = UpdateBillRequestSerializer(data=request.data if isinstance(request.data, dict) else {})
        serializer.is_valid(raise_exception=True)
        criteria = serializer.validated_data["UpdateBillCriteria"]
        outcome = bill_cancel(
            caller=caller_for(request.user),
            tenant_id=criteria["tenantId"],
            consumer_codes=criteria["consumerCodes"],
            business_service=criteria["businessService"],
            additional_details=criteria.get("additionalDetails"),
            at=clock.now(),
        )
        code = status.HTTP_200_OK if outcome.count > 0 else status.HTTP_400_BAD_REQUEST
        return self.envelope(request, {"Message": outcome.message}, http_status=code)


class BillGenerateV2View(DigitAPIView):
    @extend_schema(
        tags=["DIGIT"],
        operation_id="digit_bill_generate_v2",
        summary="Deprecated: use /bill/v2/_fetchbill",
        request=OpenApiTypes.OBJECT,
        responses=DIGIT_ERROR_RESPONSES,
        deprecated=True,
    )
    def post(self, request: Request) -> Response:
        raise DomainError(EG_BS_API_ERROR, GENERATE_DEPRECATED)


class BillCreateV2View(DigitAPIView):
    @extend_schema(
        tags=["DIGIT"],
        operation_id="digit_bill_create_v2",
        summary="Not supported: bills are generated by /bill/v2/_fetchbill",
        request=OpenApiTypes.OBJECT,
        responses=DIGIT_ERROR_RESPONSES,
        deprecated=True,
    )
    def post(self, request: Request) -> Response:
        raise DomainError(EG_BS_API_ERROR, CREATE_UNSUPPORTED)


_V1_RESPONSES = {
    400: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description='Always: {"responseInfo": {...}, "error": {"code": 400, "message": "EG_BS_API_ERROR", '
        '"description": "...", "fields": null}}',
    ),
    401: DIGIT_ERROR_RESPONSES[401],
}


class _DeprecatedV1View(DigitAPIView):
    """The v1 bill endpoints answer the reference's legacy ErrorResponse (lower-case keys)."""

    def deprecated(self, request: Request) -> Response:
        code = status.HTTP_400_BAD_REQUEST
        body = {
            "responseInfo": response_info(get_request_info(request), code, now=clock.now()),
            "error": {"code": code, "message": EG_BS_API_ERROR, "description": V1_DEPRECATED, "fields": None},
        }
        return Response(body, status=code)


def _v1_schema(name: str) -> dict[str, object]:
    return {
        "tags": ["DIGIT"],
        "operation_id": f"digit_bill_{name}_v1",
        "summary": "Deprecated v1 endpoint: use the /bill/v2/ API",
        "request": OpenApiTypes.OBJECT,
        "responses": _V1_RESPONSES,
        "deprecated": True,
    }


class BillSearchV1View(_DeprecatedV1View):
    @extend_schema(**_v1_schema("search"))  # type: ignore[arg-type]
    def post(self, request: Request) -> Response:
        return self.deprecated(request)


class BillGenerateV1View(_DeprecatedV1View):
    @extend_schema(**_v1_schema("generate"))  # type: ignore[arg-type]
    def post(self, request: Request) -> Response:
        return self.deprecated(request)


class BillFetchV1View(_DeprecatedV1View):
    @extend_schema(**_v1_schema("fetch"))  # type: ignore[arg-type]
    def post(self, request: Request) -> Response:
        return self.deprecated(request)


class BillCreateV1View(_DeprecatedV1View):
    @extend_schema(**_v1_schema("create"))  # type: ignore[arg-type]
    def post(self, request: Request) -> Response:
        return self.deprecated(request)
