"""One REST error body for every failure: ``{"code", "message", "fields"}``.

Validation errors, 404, 403, 401, parse errors and domain errors all come out in this shape; nothing
the client sends produces an HTML page or a 500. Django's handlers (``handler400/403/404/500``) answer in the
face of the path (``billing_project.boundary``): the DIGIT prefixes get ``{"ResponseInfo": null, "Errors": [...]}``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from billing_project.api.authentication import IdentityServiceUnavailable
from billing_project.boundary import status_error
from billing_project.errors import DomainError
from billing_project.outage import RETRY_AFTER_SECONDS, dependency_failure, failure_body, log_failure, outage_response

logger = logging.getLogger(__name__)

_CODES: dict[type[exceptions.APIException], tuple[str, str | None]] = {
    exceptions.ValidationError: ("VALIDATION_ERROR", "Invalid input."),
    exceptions.ParseError: ("MALFORMED_REQUEST", None),
    exceptions.NotAuthenticated: ("NOT_AUTHENTICATED", None),
    exceptions.AuthenticationFailed: ("AUTHENTICATION_FAILED", None),
    exceptions.PermissionDenied: ("PERMISSION_DENIED", None),
    exceptions.NotFound: ("NOT_FOUND", None),
    exceptions.MethodNotAllowed: ("METHOD_NOT_ALLOWED", None),
    exceptions.NotAcceptable: ("NOT_ACCEPTABLE", None),
    exceptions.UnsupportedMediaType: ("UNSUPPORTED_MEDIA_TYPE", None),
    exceptions.Throttled: ("THROTTLED", None),
    IdentityServiceUnavailable: ("IDENTITY_SERVICE_UNAVAILABLE", None),
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": fields or {}}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"a.b.0.c": ["message", ...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                if item:
                    out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


def rest_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.http_status)
    if (failure := dependency_failure(exc)) is not None:  # a database or broker down, silent or busy: 503
        log_failure(exc, failure, getattr(context.get("request"), "path", ""))
        return Response(
            failure_body(failure, digit=False), status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, IntegrityError):
        # A database constraint refused the write (e.g. a concurrent duplicate): the client's conflict, not a crash.
        logger.info("integrity error turned into 409: %s", exc)
        return Response(
            error_body("CONFLICT", "The request conflicts with existing data (a uniqueness rule refused it)."),
            status=status.HTTP_409_CONFLICT,
        )
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django logs it and answers 500 (JSON, see billing_project.urls handlers)
    code, message = "ERROR", None
    for klass in type(exc).__mro__:
        if klass in _CODES:
            code, message = _CODES[klass]
            break
    fields: dict[str, list[str]] = {}
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
    text = message or (str(exc.detail) if not isinstance(exc.detail, (dict, list)) else exc.default_detail)
    response = Response(error_body(code, str(text), fields), status=exc.status_code)
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        response["Retry-After"] = str(int(wait))
    return response


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return status_error(request.path, 404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    if (outage := outage_response(request)) is not None:  # a dependency failed before any view: 503, not 500
        return outage
    return status_error(request.path, 500)


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return status_error(request.path, 400)


def json_forbidden(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return status_error(request.path, 403)
