"""REST face of bulk billing runs: ``/api/v1/billing-runs/`` (list, retrieve with errors, create).

Reads are scoped by ``bills.selectors.billing_runs_visible_to`` (staff and system clients of the run's tenant);
other runs are 404. ``create`` calls ``billing_run_start``, which records the run and its Celery task
``bills.execute_billing_run`` in one transaction (the kernel's outbox hands the task to the broker after the
commit, or when the broker is back): the answer is 201 with status PENDING — accepted, will run. With no broker
configured the task runs in-process, so the response already shows the finished run.
"""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from billing_project import clock
from billing_project.api.schema import rest_errors
from billing_project.api.types import FilterSet, GenericViewSet, ModelSerializer, Serializer
from bills.models import BillingRun, BillingRunError, RunStatus
from bills.selectors import billing_runs_visible_to
from bills.services import DEFAULT_CHUNK_SIZE, MAX_CHUNK, billing_run_start
from masters.access import HasTenantRole, caller_for


class BillingRunFilter(FilterSet):
    tenant = django_filters.CharFilter(field_name="tenant__code")
    business_service = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = BillingRun
        fields = ["tenant", "business_service", "status"]


class BillingRunErrorSerializer(ModelSerializer):
    class Meta:
        model = BillingRunError
        fields = ["consumer_code", "code", "message", "created_at"]


class BillingRunSerializer(ModelSerializer):
    tenant = serializers.CharField(source="tenant.code", read_only=True)
    progress_percent = serializers.FloatField(read_only=True, help_text="processed / total_consumers, in %")

    class Meta:
        model = BillingRun
        fields = [
            "id",
            "tenant",
            "business_service",
            "consumer_codes",
            "status",
            "chunk_size",
            "total_consumers",
            "processed",
            "progress_percent",
            "bills_created",
            "skipped",
            "failed",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "updated_at",
        ]
        read_only_fields = fields


class BillingRunDetailSerializer(BillingRunSerializer):
    # A declared field leaves ``Serializer.errors`` alone at run time (the metaclass collects it); mypy sees a clash.
    errors = BillingRunErrorSerializer(  # type: ignore[assignment]
        many=True, read_only=True, help_text="The consumers the run could not bill"
    )

    class Meta(BillingRunSerializer.Meta):
        fields = [*BillingRunSerializer.Meta.fields, "errors"]
        read_only_fields = fields


class BillingRunCreateSerializer(Serializer):
    tenant = serializers.CharField(max_length=128)
    business_service = serializers.CharField(max_length=64)
    consumer_codes = serializers.ListField(
        child=serializers.CharField(max_length=250),
        required=False,
        allow_empty=False,
        help_text="Bill only these consumers (default: every consumer of the business service)",
    )
    chunk_size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_CHUNK, default=DEFAULT_CHUNK_SIZE, help_text="Consumers per chunk"
    )


@extend_schema_view(
    list=extend_schema(
        summary="List bulk billing runs",
        responses={200: BillingRunSerializer(many=True), **rest_errors(400, 403)},
    ),
    retrieve=extend_schema(
        summary="One billing run with its per-consumer errors",
        responses={200: BillingRunDetailSerializer, **rest_errors(403, 404)},
    ),
)
class BillingRunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    GenericViewSet,
):
    """Bulk bill generation runs of the tenants the caller reaches."""

    serializer_class = BillingRunSerializer
    permission_classes = [HasTenantRole]
    filterset_class = BillingRunFilter
    lookup_value_regex = "[0-9]+"
    ordering_fields = ["created_at", "started_at", "finished_at", "status", "processed", "bills_created", "failed"]
    ordering = ["-created_at"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> Any:
        queryset = billing_runs_visible_to(caller_for(self.request.user)).order_by("-created_at", "-pk")
        if self.action == "retrieve":
            return queryset.prefetch_related("errors")
        return queryset

    def get_serializer_class(self) -> Any:
        return BillingRunDetailSerializer if self.action == "retrieve" else BillingRunSerializer

    @extend_schema(
        summary="Start a bulk billing run: accepted as PENDING, then run by a worker",
        description=(
            "The run and its job are recorded together: the answer (201, status PENDING) means accepted, will run — "
            "also while the job broker is unreachable (the job is handed over when it is back). Follow the run's "
            "status: PENDING (waiting for a worker), RUNNING, COMPLETED or FAILED."
        ),
        request=BillingRunCreateSerializer,
        responses={201: BillingRunSerializer, **rest_errors(400, 403)},
    )
    def create(self, request: Request) -> Response:
        serializer = BillingRunCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        run = billing_run_start(
            caller=caller_for(request.user),
            tenant_code=data["tenant"],
            business_service=data["business_service"],
            consumer_codes=data.get("consumer_codes"),
            chunk_size=data["chunk_size"],
            at=clock.now(),
        )
        return Response(BillingRunSerializer(run).data, status=status.HTTP_201_CREATED)


__all__ = ["BillingRunViewSet"]
