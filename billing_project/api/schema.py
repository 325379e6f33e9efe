"""OpenAPI pieces shared by the REST face: the one error body ``{"code", "message", "fields"}``.

@extend_schema(responses={201: MySerializer, **rest_errors(400, 403, 409)})
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

# Built once (one component identity); a declared class could not name a field ``fields``.
ERROR_RESPONSE = inline_serializer(
    name="ErrorResponse",
    fields={
        "code": serializers.CharField(help_text="Stable machine-readable code, e.g. VALIDATION_ERROR, NOT_FOUND"),
        "message": serializers.CharField(help_text="For people"),
        "fields": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text="Offending input fields (dotted paths) and their messages; empty when not about fields",
        ),
    },
)

_DESCRIPTIONS = {
    400: "Invalid input (VALIDATION_ERROR with fields, MALFORMED_REQUEST, or a business rule's code).",
    401: "Not authenticated.",
    403: "Not allowed (PERMISSION_DENIED).",
    404: "No such resource, or not visible to the caller (NOT_FOUND).",
    409: "Conflicts with existing data (e.g. a duplicate).",
}


def rest_errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error responses for ``extend_schema(responses=...)``; 401 is always included."""
    return {
        status: OpenApiResponse(ERROR_RESPONSE, description=_DESCRIPTIONS[status])
        for status in sorted({401, *statuses})
    }
