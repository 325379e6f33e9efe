"""``Idempotency-Key`` for every POST of the API faces (REST ``/api/``, DIGIT ``/billing-service/``,
``/collection-services/``).

A repeat with the same key and the same request gets the stored answer and creates nothing; the same key
with a different request is refused (422); a repeat while the first is still running gets 409. Keys belong
to the caller (a hash of their credentials) and are kept ``IDEMPOTENCY_KEY_TTL`` (24 h by default; the beat
job ``kernel.purge_idempotency_keys`` deletes older ones). Answers with a 5xx status are not stored, so the
client may retry them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from billing_project import clock
from billing_project.digit.envelope import ci_get, error_entry, errors_body
from billing_project.models import IdempotencyKey, IdempotencyStatus

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
DIGIT_PREFIXES = ("/billing-service/", "/collection-services/")
PREFIXES = ("/api/", *DIGIT_PREFIXES)


def _ttl() -> dt.timedelta:
    return dt.timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)


def _owner(request: HttpRequest) -> str | None:
    """Who is asking, as a hash of their credentials (token header, RequestInfo.authToken or session)."""
    credential = request.headers.get("Authorization", "")
    if not credential and request.path.startswith(DIGIT_PREFIXES):
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            body = None
        token = ci_get(ci_get(body, "RequestInfo"), "authToken") if isinstance(body, dict) else None
        credential = f"body:{token}" if isinstance(token, str) and token else ""
    if not credential:
        session = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
        credential = f"session:{session}" if session else ""
    return hashlib.sha256(credential.encode()).hexdigest() if credential else None


def _request_hash(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.path, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(request.body)
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
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyKey.objects.filter(pk=record.pk).delete()
            raise
        if response.status_code >= 500 or getattr(response, "streaming", False):
            IdempotencyKey.objects.filter(pk=record.pk).delete()
            return response
        IdempotencyKey.objects.filter(pk=record.pk).update(
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
    """Insert the key (IN_PROGRESS), or answer from the stored record."""
    existing: IdempotencyKey | None = None
    for _ in range(2):
        try:
            with transaction.atomic(durable=True):
                record = IdempotencyKey.objects.create(
                    owner=owner,
                    key=key,
                    request_hash=request_hash,
                    method=request.method or "POST",
                    path=request.path[:512],
                    created_at=now,
                )
            return record, None
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(owner=owner, key=key).first()
            if existing is None:
                continue  # purged in between: try once more
            if existing.created_at < now - _ttl():
                IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
                continue
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
