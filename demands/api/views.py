"""REST face of demands: ``/api/v1/demands/`` (list, retrieve, create, update, cancel, history)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from billing_project import clock
from billing_project.api.schema import rest_errors
from billing_project.api.types import GenericViewSet
from billing_project.errors import NOT_FOUND
from billing_project.uuids import uuid_or_404
from demands.api.filters import DemandFilter
from demands.api.serializers import DemandHistorySerializer, DemandSerializer, DemandWriteSerializer
from demands.models import Demand
from demands.selectors import demand_get, demand_history, demands_visible_to
from demands.services import demand_cancel, demand_create, demand_update
from masters.access import HasTenantRole, caller_for


class DemandViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Demands of the tenants the caller reaches (a citizen: their own demands only)."""

    serializer_class = DemandSerializer
    permission_classes = [HasTenantRole]
    filterset_class = DemandFilter
    ordering_fields = ["tax_period_from", "tax_period_to", "consumer_code", "created_at", "modified_at"]
    ordering = ["tax_period_from", "consumer_code"]
    http_method_names = ["get", "post", "put", "head", "options"]

    def get_queryset(self) -> Any:
        return demands_visible_to(caller_for(self.request.user)).order_by("tax_period_from", "consumer_code", "pk")

    @extend_schema(request=DemandWriteSerializer, responses={201: DemandSerializer, **rest_errors(400, 403, 409)})
    def create(self, request: Request) -> Response:
        serializer = DemandWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        demands = demand_create(caller=caller_for(request.user), demands=[serializer.to_input()], at=clock.now())
        return Response(DemandSerializer(demands[0]).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DemandWriteSerializer, responses={200: DemandSerializer, **rest_errors(400, 403, 404, 409)})
    def update(self, request: Request, pk: str | None = None) -> Response:
        demand = demand_get(caller=caller_for(request.user), demand_id=self._pk(pk))
        serializer = DemandWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        updated = demand_update(
            caller=caller_for(request.user), demands=[serializer.to_input(demand.pk)], at=clock.now()
        )
        return Response(DemandSerializer(updated[0]).data)

    @extend_schema(request=None, responses={200: DemandSerializer, **rest_errors(400, 403, 404, 409)})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        demand = demand_cancel(caller=caller_for(request.user), demand_id=self._pk(pk), at=clock.now())
        return Response(DemandSerializer(demand).data)

    @extend_schema(responses={200: DemandHistorySerializer(many=True), **rest_errors(404)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request: Request, pk: str | None = None) -> Response:
        demand = demand_get(caller=caller_for(request.user), demand_id=self._pk(pk))
        return Response(DemandHistorySerializer(demand_history(demand), many=True).data)

    def _pk(self, pk: str | None) -> Any:
        return uuid_or_404(pk, code=NOT_FOUND, message=f"No demand {pk}.")


__all__ = ["Demand", "DemandViewSet"]
