"""Collection face of payments (``/collection-services/payments/...``, reference collection-services v2).

- ``_create`` (``{"RequestInfo", "Payment"}``) → 200 ``{"ResponseInfo", "Payments": [Payment]}``, each
  detail's ``bill`` as apportioned.
- ``_validate`` (same body) runs ``payment_validate`` only — the same checks as ``_create`` before its
  transaction (the bill lock re-check aside) — and writes nothing; it answers the submitted Payment.
- ``_search`` and ``{moduleName}/_search``: criteria as query parameters (tenantId required).
- ``{moduleName}/_workflow`` (``PaymentWorkflows``): CANCEL → ``payment_cancel``, DISHONOUR →
  ``payment_dishonour``, REMIT → ``payment_remit``. Every workflow entry is checked before any is carried out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import Min, Prefetch, Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from billing_project import clock
from billing_project.digit.criteria import query_epoch, query_long, query_set, query_value
from billing_project.digit.schema import DIGIT_ERROR_RESPONSES
from billing_project.digit.views import DigitAPIView
from billing_project.errors import DomainError, ValidationFailed
from billing_project.uuids import uuid_or_none
from bills.models import BillAccountDetail, BillDetail
from masters.access import Caller, HasTenantRole, caller_for, resolve_search_tenant
from payments.api.digit_serializers import (
    PaymentCreateRequestSerializer,
    PaymentWorkflowRequestSerializer,
    payment_json,
)
from payments.errors import INVALID_BUSINESS_SERVICE, INVALID_TENANT_ID
from payments.models import Payment, PaymentDetail
from payments.selectors import PAYMENT_ROLES, payments_with_details
from payments.services import payment_cancel, payment_create, payment_dishonour, payment_remit, payment_validate

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def payments_for_collection() -> QuerySet[Payment]:
    """Payments with their details, and each detail's bill with its periods and account lines."""
    return payments_with_details().prefetch_related(
        "details__bill__tenant",
        Prefetch(
            "details__bill__details",
            queryset=BillDetail.objects.order_by("from_period", "to_period", "pk").prefetch_related(
                Prefetch("account_details", queryset=BillAccountDetail.objects.order_by("order", "tax_head_code", "pk"))
            ),
        ),
    )


def _payments_json(payments: Iterable[Payment]) -> list[dict[str, Any]]:
    now = clock.now()
    return [payment_json(payment, now=now) for payment in payments]


def _reload(payment: Payment) -> Payment:
    return payments_for_collection().get(pk=payment.pk)


def _body(request: Request) -> dict[str, Any]:
    return request.data if isinstance(request.data, dict) else {}


class _CollectionView(DigitAPIView):
    permission_classes = [HasTenantRole]


_CREATE_SCHEMA: dict[str, Any] = {
    "tags": ["DIGIT"],
    "request": OpenApiTypes.OBJECT,
    "responses": {200: OpenApiTypes.OBJECT, **DIGIT_ERROR_RESPONSES},
}


class PaymentCreateView(_CollectionView):
    @extend_schema(
        operation_id="collection_payment_create",
        summary="Take a payment over one or more current bills ({RequestInfo, Payment})",
        **_CREATE_SCHEMA,
    )
    def post(self, request: Request) -> Response:
        serializer = PaymentCreateRequestSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        payment = payment_create(caller=caller_for(request.user), payment=serializer.to_input(), at=clock.now())
        return self.envelope(request, {"Payments": _payments_json([_reload(payment)])})


class PaymentValidateView(_CollectionView):
    @extend_schema(
        operation_id="collection_payment_validate",
        summary="Run the payment validations only; nothing is written ({RequestInfo, Payment})",
        **_CREATE_SCHEMA,
    )
    def post(self, request: Request) -> Response:
        serializer = PaymentCreateRequestSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        payment_validate(caller=caller_for(request.user), payment=serializer.to_input(), at=clock.now())
        submitted = next((v for k, v in _body(request).items() if k.lower() == "payment"), None)
        return self.envelope(request, {"Payments": [submitted]})


def _details_q(**lookup: Any) -> Q:
    return Q(pk__in=PaymentDetail.objects.filter(**lookup).values("payment_id"))


def payment_search(request: Request, caller: Caller, module: str | None) -> list[Payment]:
    """The collection search (criteria from the query parameters), scoped to the caller's payment tenants."""
    tenant_id = query_value(request, "tenantId")
    if not tenant_id:
        raise ValidationError({"tenantId": ["tenantId is mandatory"]})
    query = resolve_search_tenant(caller, tenant_id) & caller.tenant_q("tenant__code", PAYMENT_ROLES)
    if ids := query_set(request, "ids"):
        if (payment_ids := _uuids(ids)) is None:
            return []
        query &= Q(pk__in=payment_ids)
    if module:
        query &= _details_q(business_service=module)
    if codes := query_set(request, "consumerCodes"):
        query &= _details_q(bill__consumer_code__in=codes)
    if receipts := query_set(request, "receiptNumbers"):
        query &= _details_q(receipt_number__in=receipts)
    if bill_ids := query_set(request, "billIds"):
        if (bill_keys := _uuids(bill_ids)) is None:
            return []
        query &= _details_q(bill_id__in=bill_keys)
    for name, field in (
        ("status", "status"),
        ("instrumentStatus", "instrument_status"),
        ("paymentModes", "payment_mode"),
    ):
        if values := query_set(request, name):
            query &= Q(**{f"{field}__in": [value.upper() for value in values]})
    if payer_ids := query_set(request, "payerIds"):
        if (payer_keys := _uuids(payer_ids)) is None:
            return []
        query &= Q(payer_id__in=payer_keys)
    if number := query_value(request, "transactionNumber"):
        query &= Q(transaction_number=number)
    if mobile := query_value(request, "mobileNumber"):
        query &= Q(mobile_number=mobile)
    if (start := query_epoch(request, "fromDate")) is not None:
        query &= Q(created_at__gte=start)
    if (end := query_epoch(request, "toDate")) is not None:
        query &= Q(created_at__lte=end)
    size = query_long(request, "pageSize") or DEFAULT_PAGE_SIZE
    page = query_long(request, "pageNumber") or 1
    if size < 1 or page < 1:
        raise ValidationError({"pageSize" if size < 1 else "pageNumber": ["must be 1 or more"]})
    size = min(size, MAX_PAGE_SIZE)
    sort = (query_value(request, "sort") or "+receiptNumber").strip()
    descending = sort.startswith("-")
    key = sort.lstrip("+-")
    if key not in ("receiptNumber", "receiptDate"):
        raise ValidationError({"sort": ["sort by receiptNumber or receiptDate (prefix + or -)"]})
    field = "first_receipt" if key == "receiptNumber" else "created_at"
    ordered = (
        payments_for_collection()
        .filter(query)
        .annotate(first_receipt=Min("details__receipt_number"))
        .order_by(f"-{field}" if descending else field, "pk")
    )
    return list(ordered[(page - 1) * size : page * size])


def _uuids(values: list[str]) -> list[uuid.UUID] | None:
    """The values as ids; None when one is not an id (the search then finds nothing, as the reference's does)."""
    keys = [uuid_or_none(value) for value in values]
    return None if any(key is None for key in keys) else [key for key in keys if key is not None]


_SEARCH_PARAMETERS = [
    OpenApiParameter("tenantId", OpenApiTypes.STR, required=True),
    OpenApiParameter("ids", OpenApiTypes.STR, many=True, description="Comma-separated or repeated"),
    OpenApiParameter("consumerCodes", OpenApiTypes.STR, many=True),
    OpenApiParameter("receiptNumbers", OpenApiTypes.STR, many=True),
    OpenApiParameter("billIds", OpenApiTypes.STR, many=True),
    OpenApiParameter("status", OpenApiTypes.STR, many=True, description="Payment status"),
    OpenApiParameter("instrumentStatus", OpenApiTypes.STR, many=True),
    OpenApiParameter("paymentModes", OpenApiTypes.STR, many=True),
    OpenApiParameter("payerIds", OpenApiTypes.STR, many=True),
    OpenApiParameter("transactionNumber", OpenApiTypes.STR),
    OpenApiParameter("mobileNumber", OpenApiTypes.STR),
    OpenApiParameter("fromDate", OpenApiTypes.INT64, description="Epoch ms, taken on or after"),
    OpenApiParameter("toDate", OpenApiTypes.INT64, description="Epoch ms, taken on or before"),
    OpenApiParameter("pageSize", OpenApiTypes.INT, description="Default 20, at most 100"),
    OpenApiParameter("pageNumber", OpenApiTypes.INT, description="Default 1"),
    OpenApiParameter("sort", OpenApiTypes.STR, description="+receiptNumber (default), -receiptNumber, ±receiptDate"),
]


class PaymentSearchView(_CollectionView):
    @extend_schema(
        tags=["DIGIT"],
        operation_id="collection_payment_search",
        summary="Search payments (criteria as query parameters)",
        request=OpenApiTypes.OBJECT,
        parameters=_SEARCH_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, **DIGIT_ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        payments = payment_search(request, caller_for(request.user), None)
        return self.envelope(request, {"Payments": _payments_json(payments)})


class PaymentModuleSearchView(_CollectionView):
    @extend_schema(
        tags=["DIGIT"],
        operation_id="collection_payment_module_search",
        summary="Search the payments of one business service (criteria as query parameters)",
        request=OpenApiTypes.OBJECT,
        parameters=_SEARCH_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, **DIGIT_ERROR_RESPONSES},
    )
    def post(self, request: Request, module: str) -> Response:
        payments = payment_search(request, caller_for(request.user), module)
        return self.envelope(request, {"Payments": _payments_json(payments)})


class PaymentWorkflowView(_CollectionView):
    @extend_schema(
        tags=["DIGIT"],
        operation_id="collection_payment_workflow",
        summary="CANCEL, DISHONOUR or REMIT payments of a business service ({RequestInfo, PaymentWorkflows})",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, **DIGIT_ERROR_RESPONSES},
    )
    def post(self, request: Request, module: str) -> Response:
        serializer = PaymentWorkflowRequestSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        caller, at = caller_for(request.user), clock.now()
        workflows: list[dict[str, Any]] = serializer.validated_data["PaymentWorkflows"]
        errors: list[DomainError] = []
        for workflow in workflows:
            payment = payments_with_details().filter(pk=workflow["paymentId"]).first()
            if payment is None:
                continue  # payment_cancel answers PAYMENT_NOT_FOUND
            if payment.tenant.code != workflow["tenantId"]:
                errors.append(
                    DomainError(INVALID_TENANT_ID, f"Payment {payment.pk} does not belong to {workflow['tenantId']}")
                )
            if any(detail.business_service != module for detail in payment.details.all()):
                errors.append(
                    DomainError(INVALID_BUSINESS_SERVICE, f"Payment {payment.pk} is not a payment of {module}")
                )
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ValidationFailed(errors)
        done: list[Payment] = []
        for workflow in workflows:
            if workflow["action"] == "REMIT":
                done.append(payment_remit(caller=caller, payment_id=workflow["paymentId"], at=at))
                continue
            reverse = payment_cancel if workflow["action"] == "CANCEL" else payment_dishonour
            done.append(
                reverse(caller=caller, payment_id=workflow["paymentId"], reason=workflow.get("reason") or "", at=at)
            )
        return self.envelope(request, {"Payments": _payments_json(_reload(payment) for payment in done)})
