"""DIGIT face of the masters: ``/taxheads/_search``, ``/taxperiods/_search``, ``/businessservices/_search``.

The body is ``{"RequestInfo": {...}}``; criteria are query parameters (reference §6.1), names matched
case-insensitively, sets comma-separated or repeated. Values are matched exactly, as the reference's MDMS
filters match them. Results follow the city → state fallback of ``masters.selectors``; a state-level
``tenantId`` gives the state's own masters.

Refusals, all in the ``Errors[]`` envelope:

- ``tenantId`` missing → HTTP 400, code ``NotNull.tenantId`` (the reference's bean-validation code style,
  ``NotNull.<field>``; message "must not be null"). The reference declares the field NotNull but does not
  enforce it; here it is enforced, because without a tenant there is no master list to search.
- a malformed value (``isDebit=maybe``, ``fromDate=x``) → HTTP 400, code ``invalid.<parameter>``.
- ``tenantId`` the caller does not reach (neither a tenant of theirs, one their state role covers, nor the
  state of one of their tenants) → HTTP 403, code ``ACCESS_DENIED``.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ErrorDetail, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from billing_project.digit.criteria import query_bool, query_epoch, query_set, query_value
from billing_project.digit.schema import DIGIT_ERROR_RESPONSES, DigitRequestInfoWrapperSerializer
from billing_project.digit.views import DigitAPIView
from masters import selectors
from masters.access import HasTenantRole, caller_for
from masters.api import serializers as ser

_TENANT_PARAM = OpenApiParameter(
    "tenantId", OpenApiTypes.STR, required=True, description="Tenant code (required), e.g. pb.amritsar or pb"
)


def _set_param(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, OpenApiTypes.STR, many=True, description=f"{description}; comma-separated or repeated"
    )


class _MasterSearchView(DigitAPIView):
    permission_classes = [HasTenantRole]

    def search_tenant(self, request: Request) -> str:
        """The required ``tenantId``, which the caller must reach (see the module docstring)."""
        tenant_id = query_value(request, "tenantId")
        if tenant_id is None:
            raise ValidationError({"tenantId": [ErrorDetail("must not be null", code="NotNull")]})
        caller = caller_for(request.user)
        readable = caller.master_tenant_codes()
        if readable is not None and tenant_id not in readable and not caller.has_role(tenant_id):
            raise PermissionDenied(f"You have no role reaching tenant {tenant_id}.")
        return tenant_id


class TaxHeadSearchView(_MasterSearchView):
    """``TaxHeadMasterCriteria``: tenantId, service, category, name, code (set), isDebit, isActualDemand, id (set)."""

    @extend_schema(
        operation_id="digit_taxheads_search",
        summary="Search tax heads (TaxHeadMasterCriteria)",
        parameters=[
            _TENANT_PARAM,
            OpenApiParameter("service", OpenApiTypes.STR, description="Business service code"),
            OpenApiParameter("category", OpenApiTypes.STR, description="TAX, FEE, REBATE, ..."),
            OpenApiParameter("name", OpenApiTypes.STR, description="Exact name"),
            _set_param("code", "Tax head codes"),
            OpenApiParameter("isDebit", OpenApiTypes.BOOL),
            OpenApiParameter("isActualDemand", OpenApiTypes.BOOL),
            _set_param("id", "Tax head ids"),
        ],
        request=DigitRequestInfoWrapperSerializer,
        responses={200: ser.DigitTaxHeadSearchResponseSerializer, **DIGIT_ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        tenant_id = self.search_tenant(request)
        codes, ids = query_set(request, "code"), query_set(request, "id")
        tax_heads = selectors.tax_heads_for(
            tenant_id,
            service=query_value(request, "service"),
            category=query_value(request, "category"),
            name=query_value(request, "name"),
            codes=codes or None,
            ids=ids or None,
            is_debit=query_bool(request, "isDebit"),
            is_actual_demand=query_bool(request, "isActualDemand"),
        )
        return self.envelope(request, {"TaxHeadMasters": ser.DigitTaxHeadMasterSerializer(tax_heads, many=True).data})


class TaxPeriodSearchView(_MasterSearchView):
    """``TaxPeriodCriteria``: tenantId, service (set), periodCycle, id (set), code, fromDate, toDate, date.

    ``fromDate`` keeps periods with ``fromDate >= x``, ``toDate`` those with ``toDate <= x`` (epoch ms).
    ``date`` keeps the periods containing ``x`` (the reference compares it with a field periods do not have,
    so it matched nothing; this is the evident intent).
    """

    @extend_schema(
        operation_id="digit_taxperiods_search",
        summary="Search tax periods (TaxPeriodCriteria)",
        parameters=[
            _TENANT_PARAM,
            _set_param("service", "Business service codes"),
            OpenApiParameter("periodCycle", OpenApiTypes.STR, description="MONTH, QUARTER, HALFYEAR, ANNUAL, ..."),
            _set_param("id", "Tax period ids"),
            OpenApiParameter("code", OpenApiTypes.STR, description="Period code, e.g. PTAN2024"),
            OpenApiParameter("fromDate", OpenApiTypes.INT64, description="Epoch ms: periods with fromDate >= this"),
            OpenApiParameter("toDate", OpenApiTypes.INT64, description="Epoch ms: periods with toDate <= this"),
            OpenApiParameter("date", OpenApiTypes.INT64, description="Epoch ms: periods containing this moment"),
        ],
        request=DigitRequestInfoWrapperSerializer,
        responses={200: ser.DigitTaxPeriodSearchResponseSerializer, **DIGIT_ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        tenant_id = self.search_tenant(request)
        services, ids = query_set(request, "service"), query_set(request, "id")
        code = query_value(request, "code")
        periods = selectors.tax_periods_for(
            tenant_id,
            services=services or None,
            codes=[code] if code is not None else None,
            ids=ids or None,
            period_cycle=query_value(request, "periodCycle"),
            from_date_gte=query_epoch(request, "fromDate"),
            to_date_lte=query_epoch(request, "toDate"),
            containing=query_epoch(request, "date"),
        )
        return self.envelope(request, {"TaxPeriods": ser.DigitTaxPeriodSerializer(periods, many=True).data})


class BusinessServiceSearchView(_MasterSearchView):
    """``BusinessServiceDetailCriteria``: tenantId, businessService (set of codes), id (set)."""

    @extend_schema(
        operation_id="digit_businessservices_search",
        summary="Search business services (BusinessServiceDetailCriteria)",
        parameters=[
            _TENANT_PARAM,
            _set_param("businessService", "Business service codes (e.g. PT)"),
            _set_param("id", "Business service ids"),
        ],
        request=DigitRequestInfoWrapperSerializer,
        responses={200: ser.DigitBusinessServiceSearchResponseSerializer, **DIGIT_ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        tenant_id = self.search_tenant(request)
        codes, ids = query_set(request, "businessService"), query_set(request, "id")
        services = selectors.business_services_for(tenant_id, codes=codes or None, ids=ids or None)
        return self.envelope(
            request, {"BusinessServiceDetails": ser.DigitBusinessServiceDetailSerializer(services, many=True).data}
        )
