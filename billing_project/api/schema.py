"""OpenAPI pieces shared by the REST face: the one error body ``{"code", "message", "fields"}``, and the schema
generator (``AutoSchema``) that documents the answers every operation can give.

@extend_schema(responses={201: MySerializer, **rest_errors(400, 403, 409)})
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from billing_project.boundary import face_of
from billing_project.digit.schema import DigitErrorResponseSerializer

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


# --- The schema generator: the answers every operation can give, documented once -----------------------------

_DIGIT_DESCRIPTIONS = {
    400: "Invalid request or criteria (Errors[]).",
    401: "No or an invalid auth token.",
    403: "The caller may not act in this tenant.",
    404: "No such resource (Errors[]).",
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, true to what every operation can answer (issue 11, point 15).

    - Every REST and DIGIT operation documents 400 (any input can be refused, e.g. a NUL character or nesting
      too deep, at the boundary); authenticated ones 401 and 403; those with path parameters and paginated lists
      404 (no such row, or a page past the last). Declared responses are kept; missing ones are added in the
      face's error format (``ErrorResponse`` or the DIGIT ``Errors[]`` envelope).
    - A URI or e-mail in an answer may be empty (the columns are blank-able): ``anyOf [format, empty]``.
    - Money as text needs at least one digit (drf-spectacular's pattern also matched ``""``, ``-`` and ``.``).
    """

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        face = face_of(self.path)
        if direction != "response" or face is None:
            return responses
        codes = {400}
        if any(not isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            codes |= {401, 403}
        paginated = self.method == "GET" and self._is_list_view() and self._get_paginator()  # type: ignore[no-untyped-call]
        if "{" in self.path or paginated:
            codes.add(404)
        for code in sorted(codes):
            if str(code) in responses:
                continue
            if face == "digit":
                response = OpenApiResponse(DigitErrorResponseSerializer, description=_DIGIT_DESCRIPTIONS[code])
            else:
                response = OpenApiResponse(ERROR_RESPONSE, description=_DESCRIPTIONS[code])
            responses[str(code)] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                response, str(code), direction=direction
            )
        return responses

    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer_field(  # type: ignore[no-untyped-call]
            field, direction, bypass_extensions
        )
        if schema.get("type") == "string" and schema.get("format") == "decimal" and "pattern" in schema:
            schema["pattern"] = _decimal_pattern(field)
        return schema

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)  # type: ignore[no-untyped-call]
        if direction == "response":
            for prop in schema.get("properties", {}).values():
                if prop.get("type") == "string" and prop.get("format") in ("uri", "email"):
                    prop["anyOf"] = [{"format": prop.pop("format")}, {"maxLength": 0}]
        return schema


def _decimal_pattern(field: serializers.DecimalField) -> str:
    whole, places = field.max_whole_digits, field.decimal_places
    if not whole:
        return rf"^-?0?(?:\.\d{{1,{places}}})?$" if places else r"^-?0$"
    if not places:
        return rf"^-?\d{{1,{whole}}}$"
    return rf"^-?(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"
