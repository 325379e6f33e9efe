"""The API boundary: what every request is checked for before anything parses it, and the face of every answer.

One middleware (``BoundaryMiddleware``, first after the request id) refuses, cheaply and before authentication:

- a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (a multipart upload: over ``MULTIPART_MAX_BODY_BYTES``) (413
  ``REQUEST_TOO_LARGE``, not read);
- a NUL character anywhere PostgreSQL would choke on it: the path, the query string, a header or cookie, the
  body (raw ``\\x00``, ``%00`` in a form body, a ``\\u0000`` escape in a JSON string, a multipart field)
  (400 ``MALFORMED_REQUEST``);
- JSON nested deeper than ``MAX_JSON_DEPTH`` arrays/objects, found by a bounded scan of the raw bytes (no
  recursive parse; 400 ``MALFORMED_REQUEST``).

and makes every error answered under an API prefix JSON in that face's format: an HTML page from Django (an
unknown URL or a bad id in DEBUG, a CSRF failure, a 500 page) is replaced by the face's body with the same
status. The faces: ``/api/`` answers ``{"code", "message", "fields"}``; ``/billing-service/`` and
``/collection-services/`` answer DIGIT's ``{"ResponseInfo": null, "Errors": [...]}``.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from typing import Literal

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.common import CommonMiddleware

from billing_project.digit.envelope import error_entry, errors_body

logger = logging.getLogger("billing.boundary")

REST_PREFIXES = ("/api/",)
DIGIT_PREFIXES = ("/billing-service/", "/collection-services/")
API_PREFIXES = (*REST_PREFIXES, *DIGIT_PREFIXES)

# Arrays and objects nested deeper than this are refused. Real payloads (a DIGIT demand with its details and a
# client's additionalDetails) nest below 10; Python's json recursion would fail near 1,000.
MAX_JSON_DEPTH = 64

Face = Literal["rest", "digit"]

# A JSON string (possessive: no backtracking) or one bracket. Strings are skipped whole, so brackets inside them
# do not count.
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]++|\\.)*+"|[\[\]{}]', re.DOTALL)
# ``\u0000`` preceded by an even number of backslashes (``\\u0000`` is a backslash and the text "u0000").
_JSON_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*+\\u0000", re.IGNORECASE)
_PERCENT_NUL = re.compile(rb"%00")

_STATUS_CODES = {
    400: ("BAD_REQUEST", "The request could not be understood."),
    401: ("NOT_AUTHENTICATED", "Authentication credentials were not provided."),
    403: ("PERMISSION_DENIED", "You do not have permission to perform this action."),
    404: ("NOT_FOUND", "No such resource."),
    405: ("METHOD_NOT_ALLOWED", "This method is not allowed here."),
    406: ("NOT_ACCEPTABLE", "The requested answer format is not available."),
    413: ("REQUEST_TOO_LARGE", "The request body is too large."),
    415: ("UNSUPPORTED_MEDIA_TYPE", "This media type is not accepted."),
    500: ("INTERNAL_ERROR", "The server failed to handle the request; it has been logged."),
    503: ("SERVICE_UNAVAILABLE", "The service is temporarily unavailable; try again later."),
}


def face_of(path: str) -> Face | None:
    """The API face a path belongs to, or None outside the APIs (admin, printable pages, /healthz)."""
    if path.startswith(DIGIT_PREFIXES):
        return "digit"
    if path.startswith(REST_PREFIXES):
        return "rest"
    return None


def face_error(
    face: Face | None, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> JsonResponse:
    """An error answer in the face's format (outside the APIs: the REST format)."""
    if face == "digit":
        if fields:
            entries = [
                error_entry(code, f"{name}: {text}", None, [name]) for name, texts in fields.items() for text in texts
            ]
        else:
            entries = [error_entry(code, message)]
        return JsonResponse(errors_body(entries), status=status)
    return JsonResponse({"code": code, "message": message, "fields": fields or {}}, status=status)


def status_error(path: str, status: int, message: str | None = None) -> JsonResponse:
    """The face's error answer for an HTTP status (404, 405, 500, ...), with its stable code."""
    code, default = _STATUS_CODES.get(status, ("ERROR", "The request failed."))
    return face_error(face_of(path), status, code, message or default)


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``body`` nests arrays/objects deeper than ``limit`` (strings are skipped).

    Linear in the body and never recursive; a body with fewer brackets than ``limit`` is not scanned at all.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _JSON_TOKEN.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth = max(depth - 1, 0)
    return False


def _has_nul(text: str) -> bool:
    return "\x00" in text


class _Refusal(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


def _nul(where: str, fields: dict[str, list[str]] | None = None) -> _Refusal:
    return _Refusal(400, "MALFORMED_REQUEST", f"NUL characters are not accepted (found in the {where}).", fields)


def _check_request(request: HttpRequest) -> None:
    """Raise _Refusal for what no view should ever see."""
    if _has_nul(request.path_info) or _has_nul(request.path):
        raise _nul("path")
    raw_query = request.META.get("QUERY_STRING", "")
    if _has_nul(raw_query) or "%00" in raw_query:
        names = sorted(
            {
                key.replace("\x00", "\\0")
                for key, value in request.GET.lists()
                if _has_nul(key) or any(_has_nul(v) for v in value)
            }
        )
        raise _nul("query string", {name: ["NUL characters are not accepted."] for name in names} or None)
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and _has_nul(value):
            raise _nul("headers")
    if any(_has_nul(name) or _has_nul(value) for name, value in request.COOKIES.items()):
        raise _nul("cookies")
    _check_body(request)


def _declared_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _read_body(request: HttpRequest, limit: int) -> bytes:
    """The whole body, kept on the request so that later readers (the idempotency fingerprint, the parsers) see it.

    ``request.body`` refuses anything over ``DATA_UPLOAD_MAX_MEMORY_SIZE``; an upload may be larger (up to
    ``limit``), so it is read here the way ``HttpRequest.body`` reads it.
    """
    if _declared_length(request) <= (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or limit):
        return request.body
    body = request.read(limit + 1)
    request._body = body  # as HttpRequest.body stores it
    request._stream = io.BytesIO(body)
    return body


def _check_body(request: HttpRequest) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE", "TRACE") and not _declared_length(request):
        return
    content_type = request.META.get("CONTENT_TYPE", "").lower()
    multipart = content_type.startswith("multipart/")
    limit = settings.MULTIPART_MAX_BODY_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    too_large = _Refusal(413, "REQUEST_TOO_LARGE", f"Request bodies are limited to {limit} bytes.")
    if limit is not None and _declared_length(request) > limit:
        raise too_large
    try:
        body = _read_body(request, limit) if multipart else request.body
    except RequestDataTooBig:
        raise too_large from None
    if not body:
        return
    if multipart:
        # Files may be binary (their readers refuse what they cannot read); the form's text fields may not hold NUL.
        try:
            fields = request.POST
            names = [upload.name or "" for _, uploads in request.FILES.lists() for upload in uploads]
        except RequestDataTooBig as exc:
            raise _Refusal(413, "REQUEST_TOO_LARGE", str(exc)) from None
        except (MultiPartParserError, SuspiciousOperation) as exc:
            raise _Refusal(400, "MALFORMED_REQUEST", f"The multipart body could not be read: {exc}") from None
        if any(_has_nul(key) or any(_has_nul(v) for v in values) for key, values in fields.lists()) or any(
            _has_nul(name) for name in names
        ):
            raise _nul("form fields")
        return
    if b"\x00" in body:
        raise _nul("body")
    if content_type.startswith("application/x-www-form-urlencoded"):
        if _PERCENT_NUL.search(body):
            raise _nul("body")
        return
    # Any other body may be JSON (DRF decides by the content type later): look for escaped NULs and nesting.
    if _JSON_NUL_ESCAPE.search(body):
        raise _nul("body")
    if json_depth_exceeds(body):
        raise _Refusal(
            400,
            "MALFORMED_REQUEST",
            f"JSON nested deeper than {MAX_JSON_DEPTH} levels of arrays and objects is not accepted.",
        )


def _is_json(response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


class BoundaryMiddleware:
    """Refuses NULs, deep JSON and oversized bodies up front; keeps every API error JSON in the face's format."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        face = face_of(request.path)
        try:
            _check_request(request)
        except _Refusal as refusal:
            logger.info("request refused at the boundary", extra={"code": refusal.code, "reason": refusal.message})
            if face is None and refusal.status == 400:
                return HttpResponseBadRequest(refusal.message, content_type="text/plain; charset=utf-8")
            return face_error(face, refusal.status, refusal.code, refusal.message, refusal.fields)
        response = self.get_response(request)
        if face is not None and response.status_code >= 400 and not _is_json(response):
            replacement = status_error(request.path, response.status_code)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response


class ApiCommonMiddleware(CommonMiddleware):
    """Django's CommonMiddleware, but no "add a slash" redirect under the API prefixes.

    An API client that misses the slash gets a JSON 404 (a redirect would turn a POST into a GET, and in DEBUG
    Django raises on it).
    """

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        if request.path_info.startswith(API_PREFIXES):
            return False
        return bool(super().should_redirect_with_slash(request))


def csrf_failure(request: HttpRequest, reason: str = "", template_name: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: JSON in the face's format under the APIs, Django's page elsewhere."""
    face = face_of(request.path)
    if face is None:
        from django.views.csrf import csrf_failure as django_csrf_failure

        return django_csrf_failure(request, reason=reason)
    return face_error(face, 403, "CSRF_FAILED", f"CSRF verification failed: {reason}")
