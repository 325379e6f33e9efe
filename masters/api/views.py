"""REST face of the masters app (``/api/v1/``): tenants, business services, tax heads, tax periods, id formats, payers.

Reads go through ``masters.selectors`` (scoped to what the caller may see: rows outside it are 404),
writes through ``masters.services`` after a serializer has validated the shape of the input.

- Masters: anyone with a role reads the rows of their tenants and of those tenants' states; a BILLING_ADMIN of
  the row's tenant creates and updates (an admin of ``pb`` covers its cities; an admin of ``pb.amritsar``
  cannot change ``pb``'s rows, but may override them for Amritsar). Nothing is deleted through the API.
- Payers: staff (EMPLOYEE, BILLING_ADMIN, CASHIER, ...) see the payer registry of the states they work in; a
  citizen sees only the payer linked to their own login. EMPLOYEE, BILLING_ADMIN and CASHIER register
  payers for their tenant and update those of their state.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from billing_project.api.schema import rest_errors
from billing_project.errors import PERMISSION_DENIED, PermissionDeniedError
from masters import selectors, services
from masters.access import Caller, HasTenantRole, MasterDataPermission, caller_for, require_role
from masters.api import filters
from masters.api import serializers as ser
from masters.models import BusinessService, IdFormat, Payer, Role, TaxHeadMaster, TaxPeriod, Tenant

M = TypeVar("M", BusinessService, TaxHeadMaster, TaxPeriod, IdFormat)

MASTER_WRITERS = (Role.BILLING_ADMIN,)
PAYER_WRITERS = (Role.EMPLOYEE, Role.BILLING_ADMIN, Role.CASHIER)
_METHODS_WITHOUT_DELETE = ["get", "post", "put", "patch", "head", "options"]


def _validated(
    serializer_class: type[serializers.Serializer[Any]], data: Any, *, partial: bool = False
) -> dict[str, Any]:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _caller(request: Any) -> Caller:
    return caller_for(request.user)


def _require_role_in_state(caller: Caller, state_code: str, roles: Iterable[str], action: str) -> None:
    """PERMISSION_DENIED unless the caller holds one of ``roles`` in the state or in one of its cities."""
    wanted = {str(role) for role in roles} | {Role.SUPERUSER}
    if caller.is_superuser or any(selectors.state_code_of(t) == state_code for t in caller.tenants_with(wanted)):
        return
    raise PermissionDeniedError(
        PERMISSION_DENIED,
        f"You need one of the roles {', '.join(sorted(map(str, roles)))} in {state_code} or one of its cities "
        f"to {action}.",
    )


def _master_schema(
    noun: str,
    output: type[serializers.Serializer[Any]],
    create: type[serializers.Serializer[Any]],
    update: type[serializers.Serializer[Any]],
) -> Any:
    return extend_schema_view(
        list=extend_schema(summary=f"List {noun}s", responses={200: output, **rest_errors(400, 403)}),
        retrieve=extend_schema(summary=f"One {noun}", responses={200: output, **rest_errors(403, 404)}),
        create=extend_schema(
            summary=f"Create a {noun} (BILLING_ADMIN of its tenant)",
            request=create,
            responses={201: output, **rest_errors(400, 403, 409)},
        ),
        update=extend_schema(
            summary=f"Update a {noun}: every required field given (BILLING_ADMIN of its tenant)",
            description="The natural key and the tenant never change; optional fields left out keep their values.",
            request=update,
            responses={200: output, **rest_errors(400, 403, 404)},
        ),
        partial_update=extend_schema(
            summary=f"Change some of a {noun}'s fields (BILLING_ADMIN of its tenant)",
            request=update,
            responses={200: output, **rest_errors(400, 403, 404)},
        ),
    )


@extend_schema(tags=["masters"])
@extend_schema_view(
    list=extend_schema(summary="List the tenants you reach", responses={200: ser.TenantSerializer, **rest_errors(403)}),
    retrieve=extend_schema(summary="One tenant", responses={200: ser.TenantSerializer, **rest_errors(403, 404)}),
)
class TenantViewSet(viewsets.ReadOnlyModelViewSet[Tenant]):
    """States and cities the caller holds a role in (a state role reaches every city), and their states."""

    permission_classes = [HasTenantRole]
    serializer_class = ser.TenantSerializer
    filterset_class = filters.TenantFilter
    lookup_field = "code"
    lookup_value_regex = r"[a-z0-9_]+(?:\.[a-z0-9_]+)?"
    ordering_fields = ["code", "name"]
    ordering = ["code"]

    def get_queryset(self) -> QuerySet[Tenant]:
        return selectors.tenants_visible_to(_caller(self.request))


class _MasterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[M], abc.ABC):
    """List/retrieve for anyone with a role; create/update through the catalogue services; no delete."""

    permission_classes = [HasTenantRole, MasterDataPermission]
    http_method_names = _METHODS_WITHOUT_DELETE
    create_serializer_class: ClassVar[type[serializers.Serializer[Any]]]
    update_serializer_class: ClassVar[type[serializers.Serializer[Any]]]

    @abc.abstractmethod
    def create_row(self, tenant_code: str, data: dict[str, Any]) -> M:
        """Call the catalogue's create service."""

    @abc.abstractmethod
    def update_row(self, pk: int, data: dict[str, Any]) -> M:
        """Call the catalogue's update service."""

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _validated(self.create_serializer_class, request.data)
        tenant_code = data.pop("tenant")
        require_role(_caller(self.request), tenant_code, MASTER_WRITERS, "create master data")
        instance = self.create_row(tenant_code, data)
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        row = self.get_object()
        require_role(_caller(self.request), row.tenant.code, MASTER_WRITERS, "change master data")
        data = _validated(self.update_serializer_class, request.data, partial=kwargs.get("partial", False))
        instance = self.update_row(row.pk, data)
        return Response(self.get_serializer(instance).data)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


@extend_schema(tags=["masters"])
@_master_schema(
    "business service",
    ser.BusinessServiceSerializer,
    ser.BusinessServiceCreateSerializer,
    ser.BusinessServiceUpdateSerializer,
)
class BusinessServiceViewSet(_MasterViewSet[BusinessService]):
    serializer_class = ser.BusinessServiceSerializer
    create_serializer_class = ser.BusinessServiceCreateSerializer
    update_serializer_class = ser.BusinessServiceUpdateSerializer
    filterset_class = filters.BusinessServiceFilter
    ordering_fields = ["id", "code", "business_service", "tenant__code", "updated_at"]
    ordering = ["tenant__code", "code"]

    def get_queryset(self) -> QuerySet[BusinessService]:
        return selectors.business_services_visible_to(_caller(self.request))

    def create_row(self, tenant_code: str, data: dict[str, Any]) -> BusinessService:
        return services.business_service_create(tenant_code=tenant_code, **data)

    def update_row(self, pk: int, data: dict[str, Any]) -> BusinessService:
        return services.business_service_update(business_service_id=pk, **data)


@extend_schema(tags=["masters"])
@_master_schema("tax head", ser.TaxHeadMasterSerializer, ser.TaxHeadCreateSerializer, ser.TaxHeadUpdateSerializer)
class TaxHeadViewSet(_MasterViewSet[TaxHeadMaster]):
    serializer_class = ser.TaxHeadMasterSerializer
    create_serializer_class = ser.TaxHeadCreateSerializer
    update_serializer_class = ser.TaxHeadUpdateSerializer
    filterset_class = filters.TaxHeadFilter
    ordering_fields = ["id", "code", "service", "order", "name", "category", "tenant__code", "updated_at"]
    ordering = ["tenant__code", "service", "order", "code"]

    def get_queryset(self) -> QuerySet[TaxHeadMaster]:
        return selectors.tax_heads_visible_to(_caller(self.request))

    def create_row(self, tenant_code: str, data: dict[str, Any]) -> TaxHeadMaster:
        return services.tax_head_create(tenant_code=tenant_code, **data)

    def update_row(self, pk: int, data: dict[str, Any]) -> TaxHeadMaster:
        return services.tax_head_update(tax_head_id=pk, **data)


@extend_schema(tags=["masters"])
@_master_schema("tax period", ser.TaxPeriodSerializer, ser.TaxPeriodCreateSerializer, ser.TaxPeriodUpdateSerializer)
class TaxPeriodViewSet(_MasterViewSet[TaxPeriod]):
    serializer_class = ser.TaxPeriodSerializer
    create_serializer_class = ser.TaxPeriodCreateSerializer
    update_serializer_class = ser.TaxPeriodUpdateSerializer
    filterset_class = filters.TaxPeriodFilter
    ordering_fields = ["id", "service", "code", "from_date", "to_date", "financial_year", "tenant__code", "updated_at"]
    ordering = ["tenant__code", "service", "from_date", "code"]

    def get_queryset(self) -> QuerySet[TaxPeriod]:
        return selectors.tax_periods_visible_to(_caller(self.request))

    def create_row(self, tenant_code: str, data: dict[str, Any]) -> TaxPeriod:
        return services.tax_period_create(tenant_code=tenant_code, **data)

    def update_row(self, pk: int, data: dict[str, Any]) -> TaxPeriod:
        return services.tax_period_update(tax_period_id=pk, **data)


@extend_schema(tags=["masters"])
@_master_schema("id format", ser.IdFormatSerializer, ser.IdFormatCreateSerializer, ser.IdFormatUpdateSerializer)
class IdFormatViewSet(_MasterViewSet[IdFormat]):
    serializer_class = ser.IdFormatSerializer
    create_serializer_class = ser.IdFormatCreateSerializer
    update_serializer_class = ser.IdFormatUpdateSerializer
    filterset_class = filters.IdFormatFilter
    ordering_fields = ["id", "id_name", "tenant__code"]
    ordering = ["tenant__code", "id_name"]

    def get_queryset(self) -> QuerySet[IdFormat]:
        return selectors.id_formats_visible_to(_caller(self.request))

    def create_row(self, tenant_code: str, data: dict[str, Any]) -> IdFormat:
        return services.id_format_create(tenant_code=tenant_code, **data)

    def update_row(self, pk: int, data: dict[str, Any]) -> IdFormat:
        return services.id_format_update(id_format_id=pk, **data)


@extend_schema(tags=["payers"])
@extend_schema_view(
    list=extend_schema(
        summary="List the payers you may see", responses={200: ser.PayerSerializer, **rest_errors(400, 403)}
    ),
    retrieve=extend_schema(summary="One payer", responses={200: ser.PayerSerializer, **rest_errors(403, 404)}),
    create=extend_schema(
        summary="Register a payer (EMPLOYEE, BILLING_ADMIN or CASHIER of the tenant; kept in the state's registry)",
        request=ser.PayerCreateSerializer,
        responses={201: ser.PayerSerializer, **rest_errors(400, 403, 409)},
    ),
    update=extend_schema(
        summary="Update a payer: name and mobile number given, optional details left out keep their values",
        request=ser.PayerUpdateSerializer,
        responses={200: ser.PayerSerializer, **rest_errors(400, 403, 404, 409)},
    ),
    partial_update=extend_schema(
        summary="Change some of a payer's details",
        request=ser.PayerUpdateSerializer,
        responses={200: ser.PayerSerializer, **rest_errors(400, 403, 404, 409)},
    ),
)
class PayerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Payer]):
    permission_classes = [HasTenantRole]
    http_method_names = _METHODS_WITHOUT_DELETE
    serializer_class = ser.PayerSerializer
    filterset_class = filters.PayerFilter
    lookup_field = "uuid"
    ordering_fields = ["name", "mobile_number", "email", "created_at", "updated_at"]
    ordering = ["name", "mobile_number"]

    def get_queryset(self) -> QuerySet[Payer]:
        return selectors.payers_visible_to(_caller(self.request))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _validated(ser.PayerCreateSerializer, request.data)
        tenant_code = data.pop("tenant")
        require_role(_caller(self.request), tenant_code, PAYER_WRITERS, "register payers")
        payer = services.payer_register(tenant_code=tenant_code, **data)
        return Response(self.get_serializer(payer).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payer = self.get_object()
        _require_role_in_state(_caller(self.request), payer.tenant.code, PAYER_WRITERS, "change payers")
        data = _validated(ser.PayerUpdateSerializer, request.data, partial=kwargs.get("partial", False))
        payer = services.payer_update(payer_uuid=payer.uuid, **data)
        return Response(self.get_serializer(payer).data)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)
