"""OpenAPI pieces of the DIGIT face: envelope serializers, an epoch-ms field, the body-token scheme.

Apps describe their DIGIT endpoints with these shared pieces, so every endpoint documents the same
``RequestInfo``/``ResponseInfo``/``Errors[]`` components (one component name each, no collisions):

    @extend_schema(request=DigitRequestInfoWrapperSerializer,
                   responses={200: MyResponseSerializer, **DIGIT_ERROR_RESPONSES})

``EpochMillisField`` renders aware datetimes as epoch milliseconds (the DIGIT wire format) and parses them back.
``RequestInfoTokenScheme`` tells drf-spectacular how to document ``RequestInfoTokenAuthentication``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from billing_project.digit.timeconv import from_epoch_ms, to_epoch_ms


@extend_schema_field(OpenApiTypes.INT64)
class EpochMillisField(serializers.Field[dt.datetime, Any, int | None, Any]):
    """An aware datetime on the inside, epoch milliseconds on the wire."""

    default_error_messages = {"invalid": "Must be a time in epoch milliseconds."}

    def to_representation(self, value: dt.datetime) -> int | None:
        return to_epoch_ms(value)

    def to_internal_value(self, data: Any) -> dt.datetime:
        if isinstance(data, bool):
            self.fail("invalid")
        try:
            parsed = from_epoch_ms(data)
        except (TypeError, ValueError, OverflowError):
            self.fail("invalid")
        if parsed is None:
            self.fail("invalid")
        return parsed


class DigitUserInfoSerializer(serializers.Serializer[Any]):
    """Echoed only: identity comes from the auth token, never from ``userInfo``."""

    uuid = serializers.CharField(required=False, allow_null=True)
    userName = serializers.CharField(required=False, allow_null=True)
    type = serializers.CharField(required=False, allow_null=True)
    tenantId = serializers.CharField(required=False, allow_null=True)


class DigitRequestInfoSerializer(serializers.Serializer[Any]):
    """The reference's RequestInfo (keys are read case-insensitively; unknown keys are ignored)."""

    apiId = serializers.CharField(required=False, allow_null=True)
    ver = serializers.CharField(required=False, allow_null=True)
    ts = serializers.IntegerField(required=False, allow_null=True, help_text="Epoch milliseconds")
    action = serializers.CharField(required=False, allow_null=True)
    did = serializers.CharField(required=False, allow_null=True)
    key = serializers.CharField(required=False, allow_null=True)
    msgId = serializers.CharField(required=False, allow_null=True)
    authToken = serializers.CharField(
        required=False, allow_null=True, help_text="API token; the Authorization header may be used instead."
    )
    correlationId = serializers.CharField(required=False, allow_null=True)
    userInfo = DigitUserInfoSerializer(required=False, allow_null=True)


class DigitRequestInfoWrapperSerializer(serializers.Serializer[Any]):
    """A body that carries only ``RequestInfo`` (searches: the criteria are query parameters)."""

    RequestInfo = DigitRequestInfoSerializer(required=False)


class DigitResponseInfoSerializer(serializers.Serializer[Any]):
    apiId = serializers.CharField(allow_null=True)
    ver = serializers.CharField(allow_null=True)
    ts = serializers.IntegerField(allow_null=True, help_text="Epoch milliseconds")
    resMsgId = serializers.CharField(allow_null=True)
    msgId = serializers.CharField(allow_null=True)
    status = serializers.CharField(help_text='HTTP status text, e.g. "200 OK"')


class DigitErrorSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    params = serializers.ListField(child=serializers.CharField(), allow_null=True)


class DigitErrorResponseSerializer(serializers.Serializer[Any]):
    """``{"ResponseInfo": null, "Errors": [...]}``."""

    ResponseInfo = DigitResponseInfoSerializer(allow_null=True)
    Errors = DigitErrorSerializer(many=True)


DIGIT_ERROR_RESPONSES: dict[int, OpenApiResponse] = {
    400: OpenApiResponse(DigitErrorResponseSerializer, description="Invalid request or criteria (Errors[])."),
    401: OpenApiResponse(DigitErrorResponseSerializer, description="No or an invalid auth token."),
    403: OpenApiResponse(DigitErrorResponseSerializer, description="The caller may not act in this tenant."),
}


class RequestInfoTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """The token in ``RequestInfo.authToken`` adds no security scheme of its own.

    OpenAPI cannot describe a credential inside the JSON body; it is documented on ``RequestInfo.authToken``,
    and the DIGIT views' other authenticator (the ``Authorization`` header) is listed as ``tokenAuth``.
    Without this extension drf-spectacular would register a second, conflicting ``tokenAuth`` component.
    """

    target_class = "billing_project.digit.views.RequestInfoTokenAuthentication"
    name: list[str] = []
    priority = 1

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return []

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return []


class AuthTokenHeaderScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """The ``auth-token`` header DIGIT's web apps send: an API key in a header."""

    target_class = "billing_project.digit.views.AuthTokenHeaderAuthentication"
    name = "digitAuthTokenHeader"
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "header", "name": "auth-token"}
