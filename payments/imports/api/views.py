"""REST face of payment imports: ``/api/v1/payment-imports/``.

- ``POST`` (multipart/form-data: ``kind``, ``tenant``, ``file``) checks and stores the run with
  ``import_run_create``, which queues the Celery task ``payments.imports.execute_run`` once the run is
  committed; 201 with the run. With no broker configured the task runs in-process, so the answer may already
  show the finished run. A refused file is 400 with its code (``PAYMENT_IMPORT_*``) and nothing is stored.
- ``GET`` list (filters ``tenant``, ``kind``, ``status``; ``ordering``; paginated) and ``GET {id}/`` — runs of the
  tenants where the caller holds a payment role (CASHIER, EMPLOYEE, BILLING_ADMIN, SYSTEM); others are 404.
- ``GET {id}/rows/?outcome=REJECTED`` — the run's rows in line order, paginated.
"""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from billing_project import clock
from billing_project.api.schema import rest_errors
from billing_project.api.types import FilterSet, GenericViewSet
from masters.access import HasTenantRole, caller_for
from payments.imports.api.serializers import (
    ImportRowSerializer,
    ImportRunCreateSerializer,
    ImportRunSerializer,
    RowFilterSerializer,
)
from payments.imports.models import ImportKind, ImportRun, ImportStatus, RowOutcome
from payments.imports.selectors import import_rows_of, import_runs_visible_to
from payments.imports.services import import_run_create

UUID_PATTERN = "[0-9a-fA-F-]{32,36}"


class ImportRunFilter(FilterSet):
    tenant = django_filters.CharFilter(field_name="tenant__code")
    kind = django_filters.ChoiceFilter(choices=ImportKind.choices)
    status = django_filters.ChoiceFilter(choices=ImportStatus.choices)

    class Meta:
        model = ImportRun
        fields = ["tenant", "kind", "status"]


@extend_schema_view(
    list=extend_schema(
        summary="List payment import runs", responses={200: ImportRunSerializer(many=True), **rest_errors(400, 403)}
    ),
    retrieve=extend_schema(
        summary="One payment import run with its counters",
        responses={200: ImportRunSerializer, **rest_errors(403, 404)},
    ),
)
class ImportRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Batch payment imports (offline collections, settlements) of the tenants the caller reaches."""

    serializer_class = ImportRunSerializer
    permission_classes = [HasTenantRole]
    filterset_class = ImportRunFilter
    lookup_value_regex = UUID_PATTERN
    ordering_fields = ["created_at", "finished_at", "status", "kind", "total_rows", "rejected"]
    ordering = ["-created_at"]
    extra_query_params: tuple[str, ...] = ()  # query parameters read by an action itself (see the paginator)
    http_method_names = ["get", "post", "head", "options"]
    parser_classes = [MultiPartParser, FormParser]  # the upload; reads have no body

    def get_queryset(self) -> Any:
        return import_runs_visible_to(caller_for(self.request.user))

    @extend_schema(
        summary="Upload a CSV file (offline collections or a settlement file): a run is created and queued",
        description=(
            "The run and its job are recorded together: the answer (201, status QUEUED) means accepted, will run — "
            "also while the job broker is unreachable (the job is handed over when it is back). Follow the run's "
            "status: QUEUED (waiting for a worker), RUNNING, DONE or FAILED."
        ),
        request={"multipart/form-data": ImportRunCreateSerializer},
        responses={201: ImportRunSerializer, **rest_errors(400, 403)},
    )
    def create(self, request: Request) -> Response:
        serializer = ImportRunCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        run = import_run_create(
            caller=caller_for(request.user),
            kind=data["kind"],
            tenant_code=data["tenant"].code,
            file_name=str(upload.name or "upload.csv"),
            content=upload.read(),
            at=clock.now(),
        )
        run = import_runs_visible_to(caller_for(request.user)).get(pk=run.pk)
        return Response(ImportRunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The rows of a run in line order, with their outcome (paginated)",
        parameters=[
            OpenApiParameter("outcome", str, enum=RowOutcome.values, description="Only rows with this outcome"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: ImportRowSerializer(many=True), **rest_errors(400, 403, 404)},
    )
    @action(detail=True, methods=["get"], filter_backends=[], extra_query_params=("outcome",))
    def rows(self, request: Request, pk: str | None = None) -> Response:
        run = self.get_object()  # 404 for runs the caller may not see
        criteria = RowFilterSerializer(data=request.query_params)
        criteria.is_valid(raise_exception=True)
        rows = import_rows_of(run.pk, criteria.outcome_value()).select_related("duplicate_of")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ImportRowSerializer(page, many=True).data)
