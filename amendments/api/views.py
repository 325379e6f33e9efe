"""REST face of amendments: ``/api/v1/amendments/`` (list, retrieve, create) and one endpoint per transition:
``approve``, ``reject``, ``send-back``, ``resubmit``, ``withdraw`` (body: ``comment``, ``additional_details``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from amendments.api.filters import AmendmentFilter
from amendments.api.serializers import AmendmentSerializer, AmendmentWriteSerializer, TransitionWriteSerializer
from amendments.domain.workflow import Action
from amendments.errors import EG_BS_AMENDMENT_NOT_FOUND
from amendments.selectors import amendments_visible_to
from amendments.services import amendment_create, amendment_transition
from billing_project import clock
from billing_project.api.schema import rest_errors
from billing_project.api.types import GenericViewSet
from billing_project.uuids import uuid_or_404
from masters.access import HasTenantRole, caller_for

UUID_PATTERN = "[0-9a-fA-F-]{32,36}"
TRANSITION_SCHEMA = extend_schema(
    request=TransitionWriteSerializer, responses={200: AmendmentSerializer, **rest_errors(400, 403, 404, 409)}
)


@extend_schema_view(
    list=extend_schema(summary="List amendments", responses={200: AmendmentSerializer(many=True), **rest_errors(400)}),
    retrieve=extend_schema(
        summary="One amendment with lines, documents and transition history",
        responses={200: AmendmentSerializer, **rest_errors(404)},
    ),
)
class AmendmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Amendments of the tenants where the caller holds a staff role."""

    serializer_class = AmendmentSerializer
    permission_classes = [HasTenantRole]
    filterset_class = AmendmentFilter
    lookup_value_regex = UUID_PATTERN
    ordering_fields = ["created_at", "modified_at", "amendment_id", "consumer_code"]
    ordering = ["-created_at", "amendment_id"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> Any:
        return amendments_visible_to(caller_for(self.request.user)).order_by("-created_at", "amendment_id", "pk")

    @extend_schema(
        summary="Create an amendment (approval pending; ACTIVE and applied at once when the workflow is off)",
        request=AmendmentWriteSerializer,
        responses={201: AmendmentSerializer, **rest_errors(400, 403)},
    )
    def create(self, request: Request) -> Response:
        serializer = AmendmentWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        amendment = amendment_create(caller=caller_for(request.user), data=serializer.to_input(), at=clock.now())
        return Response(AmendmentSerializer(amendment).data, status=status.HTTP_201_CREATED)

    @TRANSITION_SCHEMA
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, pk, Action.APPROVE)

    @TRANSITION_SCHEMA
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, pk, Action.REJECT)

    @TRANSITION_SCHEMA
    @action(detail=True, methods=["post"], url_path="send-back", pagination_class=None, filter_backends=[])
    def send_back(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, pk, Action.SEND_BACK)

    @TRANSITION_SCHEMA
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def resubmit(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, pk, Action.RESUBMIT)

    @TRANSITION_SCHEMA
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, pk, Action.WITHDRAW)

    def _transition(self, request: Request, pk: str | None, wanted: Action) -> Response:
        serializer = TransitionWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        amendment_pk = uuid_or_404(pk, code=EG_BS_AMENDMENT_NOT_FOUND, message=f"No amendment {pk}")
        amendment = amendment_transition(
            caller=caller_for(request.user),
            amendment_pk=amendment_pk,
            action=wanted,
            comment=serializer.validated_data.get("comment", ""),
            additional_details=serializer.validated_data.get("additional_details"),
            at=clock.now(),
        )
        return Response(AmendmentSerializer(amendment).data)
