"""``Idempotency-Key`` for every POST of the API faces (REST ``/api/``, DIGIT ``/billing-service/``,
``/collection-services/``).

A repeat with the same key and the same request gets the stored answer and creates nothing; the same key
with a different request is refused (422); a repeat while the first is still running gets 409. Keys are kept
``IDEMPOTENCY_KEY_TTL`` (24 h by default; the beat job ``kernel.purge_idempotency_keys`` deletes older ones).
Answers with a 5xx status are not stored, so the client may retry them.

- **Owner.** A key belongs to the authenticated user (``user:<id>``), resolved as the endpoint's own DRF
  authentication classes resolve it (the middleware runs before DRF): ``Token X`` and ``Bearer X``, or the DIGIT
  ``RequestInfo.authToken`` and the header, are one owner. A request whose credentials do not authenticate
  keeps the SHA-256 of what it presented (it gets the view's 401, stored under that hash); one with no
  credentials at all is not remembered.
- **Fingerprint.** REST: method, path, query string and body bytes. DIGIT face: method, path, query string and
  the body's business content — the JSON body without its ``RequestInfo`` (matched case-insensitively), keys
  sorted, numbers by their exact text — so a retry with a new ``ts``/``msgId`` is a replay, not a 422.
- **Lease.** A key IN_PROGRESS holds a lease of ``IDEMPOTENCY_LEASE_SECONDS`` (5 min, far above the longest
  request). A request that crashed (worker killed) leaves its key IN_PROGRESS; once the lease has run out a
  retry takes the key over and runs the request again (docs/operations.md says why that is safe); before, a
  retry gets 409.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from billing_project import clock
from billing_project.digit.envelope import ci_get, error_entry, errors_body
from billing_project.models import IdempotencyKey, IdempotencyStatus

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
DIGIT_PREFIXES = ("/billing-service/", "/collection-services/")
PREFIXES = ("/api/", *DIGIT_PREFIXES)


def _ttl() -> dt.timedelta:
    return dt.timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.IDEMPOTENCY_LEASE_SECONDS)


_NO_USER = object()


def _authenticated_user(request: HttpRequest) -> Any | None:
    """The user the endpoint's DRF authentication would authenticate, or None (anonymous, or refused).

    Uses the view's own ``authentication_classes`` and ``parser_classes`` (DIGIT views read
    ``RequestInfo.authToken`` from the body), so the rules live in one place. DRF's ``Request`` sets ``user`` on
    the Django request; the middleware's view of it is put back afterwards."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    view_class = getattr(match.func, "cls", None)
    authentication: Sequence[Any] = getattr(
        view_class, "authentication_classes", api_settings.DEFAULT_AUTHENTICATION_CLASSES
    )
    parsers: Sequence[Any] = getattr(view_class, "parser_classes", api_settings.DEFAULT_PARSER_CLASSES)
    drf_request = Request(request, parsers=[p() for p in parsers], authenticators=[a() for a in authentication])
    saved = request.__dict__.get("user", _NO_USER)
    try:
        user = drf_request.user
    except (APIException, RecursionError, ValueError, UnicodeDecodeError):
        return None  # refused credentials or an unreadable body: the view answers that
    finally:
        if saved is _NO_USER:
            request.__dict__.pop("user", None)
        else:
            request.user = saved
    return user if getattr(user, "is_authenticated", False) else None


def _owner(request: HttpRequest) -> str | None:
    """Who is asking: the authenticated user; else a hash of the credentials presented (token header,
    RequestInfo.authToken or session); None when there are none."""
    user = _authenticated_user(request)
    if user is not None:
        return f"user:{user.pk}"
    credential = request.headers.get("Authorization", "")
    if not credential and request.path.startswith(DIGIT_PREFIXES):
        body = _json_body(request.body)
        token = ci_get(ci_get(body, "RequestInfo"), "authToken") if isinstance(body, dict) else None
        credential = f"body:{token}" if isinstance(token, str) and token else ""
    if not credential:
        session = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
        credential = f"session:{session}" if session else ""
    return hashlib.sha256(credential.encode()).hexdigest() if credential else None


def _json_body(body: bytes) -> Any:
    """The body as JSON with numbers as exact Decimals, or None when it is not JSON."""
    try:
        return json.loads(body or b"null", parse_float=Decimal, parse_int=Decimal)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _business_content(body: bytes) -> bytes:
    """A DIGIT body without ``RequestInfo``: keys sorted, numbers by their text (a body that is not a JSON
    object is taken as it is)."""
    data = _json_body(body)
    if not isinstance(data, dict):
        return body
    content = {key: value for key, value in data.items() if not (isinstance(key, str) and key.lower() == "requestinfo")}
    try:
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return body
    return b"digit-content\0" + canonical.encode()


def _request_hash(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.path, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(_business_content(request.body) if request.path.startswith(DIGIT_PREFIXES) else request.body)
    return digest.hexdigest()


def _error(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith(DIGIT_PREFIXES):
        return JsonResponse(errors_body([error_entry(code, message)]), status=status)
    return JsonResponse({"code": code, "message": message, "fields": {}}, status=status)


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None or not request.path.startswith(PREFIXES):
            return self.get_response(request)
        if not _KEY.match(key):
            return _error(
                request, 400, "IDEMPOTENCY_KEY_INVALID", "Idempotency-Key must be 1-255 visible ASCII characters"
            )
        owner = _owner(request)
        if owner is None:
            return self.get_response(request)  # unauthenticated: the view answers 401; nothing to remember
        request_hash, now = _request_hash(request), clock.now()
        record, replay = _reserve(owner=owner, key=key, request=request, request_hash=request_hash, now=now)
        if replay is not None:
            return replay
        mine = IdempotencyKey.objects.filter(pk=record.pk, locked_until=record.locked_until)  # while we hold it
        try:
            response = self.get_response(request)
        except BaseException:
            mine.delete()
            raise
        if response.status_code >= 500 or getattr(response, "streaming", False):
            mine.delete()
            return response
        mine.update(
            status=IdempotencyStatus.COMPLETED,
            response_status=response.status_code,
            response_content_type=response.get("Content-Type", ""),
            response_body=bytes(response.content),
            completed_at=clock.now(),
        )
        return response


def _reserve(
    *, owner: str, key: str, request: HttpRequest, request_hash: str, now: dt.datetime
) -> tuple[IdempotencyKey, HttpResponse | None]:
    """Insert the key (IN_PROGRESS, with a lease), take over one whose lease ran out, or answer from the record."""
    for _ in range(3):
        try:
            with transaction.atomic(durable=True):
                record = IdempotencyKey.objects.create(
                    owner=owner,
                    key=key,
                    request_hash=request_hash,
                    method=request.method or "POST",
                    path=request.path[:512],
                    created_at=now,
                    locked_until=now + _lease(),
                )
            return record, None
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(owner=owner, key=key).first()
            if existing is None:
                continue  # purged in between: try once more
            if existing.created_at < now - _ttl():
                IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
                continue
            if (
                existing.status == IdempotencyStatus.IN_PROGRESS
                and existing.request_hash == request_hash
                and (existing.locked_until or existing.created_at + _lease()) <= now
            ):
                # The request that reserved it died (its lease ran out): this retry takes the key over.
                lease = now + _lease()
                taken = IdempotencyKey.objects.filter(
                    pk=existing.pk, status=IdempotencyStatus.IN_PROGRESS, locked_until=existing.locked_until
                ).update(locked_until=lease)
                if taken:
                    existing.locked_until = lease
                    return existing, None
                continue  # another retry took it first: answer from its state
            return existing, _answer(existing, request, request_hash)
    # The key kept changing under us (purged and re-created by a concurrent request): treat it as busy.
    return IdempotencyKey(owner=owner, key=key), _error(
        request, 409, "IDEMPOTENCY_REQUEST_IN_PROGRESS", "A request with this Idempotency-Key is still running"
    )


def _answer(existing: IdempotencyKey, request: HttpRequest, request_hash: str) -> HttpResponse:
    if existing.request_hash != request_hash:
        return _error(request, 422, "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request")
    if existing.status != IdempotencyStatus.COMPLETED:
        return _error(
            request, 409, "IDEMPOTENCY_REQUEST_IN_PROGRESS", "A request with this Idempotency-Key is still running"
        )
    replay = HttpResponse(
        bytes(existing.response_body or b""),
        status=existing.response_status or 200,
        content_type=existing.response_content_type or "application/json",
    )
    replay["Idempotent-Replayed"] = "true"
    return replay


def idempotency_keys_purge(*, at: dt.datetime) -> int:
    """Delete keys older than the TTL; returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=at - _ttl()).delete()
    return deleted


__all__ = ["HEADER", "IdempotencyMiddleware", "idempotency_keys_purge"]
