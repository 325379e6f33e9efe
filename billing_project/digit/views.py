"""Base view of the DIGIT-compatible face.

Every endpoint is a POST whose body carries ``RequestInfo``; criteria come as query parameters.
Identity comes from a token — ``RequestInfo.authToken``, the ``auth-token`` header DIGIT's web apps send, or the
``Authorization`` header — never from ``RequestInfo.userInfo``. Every failure is answered with the reference's
``Errors[]`` envelope; an invalid token's error names ``InvalidAccessTokenException`` in its code and message, which
DIGIT's web apps look for to send the user back to the login page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import IntegrityError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_project import clock
from billing_project.api.authentication import BearerTokenAuthentication, IdentityServiceUnavailable
from billing_project.api.parsers import DecimalJSONParser
from billing_project.digit.envelope import (
    RequestInfo,
    RequestInfoError,
    error_entry,
    errors_body,
    parse_request_info,
    response_info,
)
from billing_project.digit.renderers import DigitJSONRenderer
from billing_project.errors import DomainError, ValidationFailed
from billing_project.outage import RETRY_AFTER_SECONDS, dependency_failure, failure_body, log_failure

logger = logging.getLogger(__name__)


class MalformedRequestInfo(exceptions.ParseError):
    """The body is JSON but not an object, or its RequestInfo is not well formed."""


class RequestInfoTokenAuthentication(BearerTokenAuthentication):
    """Token from ``RequestInfo.authToken`` in the JSON body."""

    def authenticate(self, request: Request):  # type: ignore[no-untyped-def]
        info = get_request_info(request)
        if not info.auth_token:
            return None
        return self.authenticate_credentials(info.auth_token)


class AuthTokenHeaderAuthentication(BearerTokenAuthentication):
    """Token from the ``auth-token`` header (DIGIT's web apps send it on some calls, its gateway reads it)."""

    def authenticate(self, request: Request):  # type: ignore[no-untyped-def]
        token = request.META.get("HTTP_AUTH_TOKEN", "").strip()
        if not token:
            return None
        return self.authenticate_credentials(token)


INVALID_TOKEN_CODE = "InvalidAccessTokenException"
INVALID_TOKEN_MESSAGE = "InvalidAccessTokenException: the access token is invalid or has expired"


def get_request_info(request: Request) -> RequestInfo:
    """Parse (once) and return the request's RequestInfo."""
    cached = getattr(request, "_digit_request_info", None)
    if isinstance(cached, RequestInfo):
        return cached
    body = request.data if request.body else {}
    try:
        info = parse_request_info(body)
    except RequestInfoError as exc:
        raise MalformedRequestInfo(str(exc)) from exc
    request._digit_request_info = info  # type: ignore[attr-defined]
    return info


def _errors_for_validation(detail: Any, prefix: str = "") -> list[dict[str, Any]]:
    if isinstance(detail, Mapping):
        out: list[dict[str, Any]] = []
        for key, value in detail.items():
            out.extend(_errors_for_validation(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list):
        out = []
        for index, item in enumerate(detail):
            if isinstance(item, Mapping | list):
                out.extend(_errors_for_validation(item, f"{prefix}[{index}]"))
            else:
                out.extend(_errors_for_validation(item, prefix))
        return out
    code = getattr(detail, "code", "invalid")
    return [error_entry(f"{code}.{prefix}" if prefix else str(code), str(detail), None, [prefix] if prefix else None)]


def digit_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn any refusal into ``{"ResponseInfo": null, "Errors": [...]}``."""
    if (failure := dependency_failure(exc)) is not None:  # a database or broker down, silent or busy: 503
        log_failure(exc, failure, getattr(context.get("request"), "path", ""))
        return Response(
            failure_body(failure, digit=True), status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )
    if isinstance(exc, ValidationFailed):
        errors = [error_entry(e.code, e.message, None, e.params) for e in exc.errors]
        return Response(errors_body(errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DomainError):
        # The reference answers every business refusal with 400; identity failures and an unavailable dependency
        # (503, e.g. egov-user) keep their status.
        http = exc.http_status if exc.http_status in (401, 403, 503) else status.HTTP_400_BAD_REQUEST
        return Response(errors_body([error_entry(exc.code, exc.message, None, exc.params)]), status=http)
    if isinstance(exc, IntegrityError):
        logger.info("integrity error answered as a conflict: %s", exc)
        return Response(
            errors_body(
                [error_entry("CONFLICT", "The request conflicts with existing data (a uniqueness rule refused it).")]
            ),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        return Response(errors_body(_errors_for_validation(exc.detail)), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ParseError):
        message = (
            str(exc.detail)
            if isinstance(exc, MalformedRequestInfo)
            else f"The request body is not valid JSON: {exc.detail}"
        )
        return Response(errors_body([error_entry("MALFORMED_REQUEST", message)]), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.AuthenticationFailed):
        return Response(
            errors_body([error_entry(INVALID_TOKEN_CODE, INVALID_TOKEN_MESSAGE, str(exc.detail))]),
            status=status.HTTP_401_UNAUTHORIZED,
        )
    if isinstance(exc, exceptions.NotAuthenticated):
        message = "An auth token is required in RequestInfo.authToken or the Authorization header"
        return Response(
            errors_body([error_entry("AUTHENTICATION_REQUIRED", message)]), status=status.HTTP_401_UNAUTHORIZED
        )
    if isinstance(exc, IdentityServiceUnavailable):
        return Response(
            errors_body([error_entry(str(exc.default_code), str(exc.detail))]),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, exceptions.PermissionDenied):
        return Response(errors_body([error_entry("ACCESS_DENIED", str(exc.detail))]), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, exceptions.APIException):
        return Response(
            errors_body([error_entry(type(exc).__name__, str(exc.detail))]),
            status=exc.status_code if exc.status_code != 404 else status.HTTP_400_BAD_REQUEST,
        )
    return None


@extend_schema(tags=["DIGIT"], request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
class DigitAPIView(APIView):
    """POST-only view answering in the DIGIT envelope."""

    http_method_names = ["post", "options"]
    parser_classes = [DecimalJSONParser]
    renderer_classes = [DigitJSONRenderer]
    authentication_classes = [RequestInfoTokenAuthentication, AuthTokenHeaderAuthentication, BearerTokenAuthentication]
    success_status: int = status.HTTP_200_OK
    response_info_key = "ResponseInfo"

    def get_exception_handler(self):  # type: ignore[no-untyped-def]
        return digit_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        get_request_info(request)  # malformed JSON / RequestInfo is refused before anything else
        super().initial(request, *args, **kwargs)

    def envelope(self, request: Request, payload: dict[str, Any], *, http_status: int | None = None) -> Response:
        code = http_status or self.success_status
        body = {self.response_info_key: response_info(get_request_info(request), code, now=clock.now())}
        body.update(payload)
        return Response(body, status=code)
