"""A dependency that is down or too slow: which failures they are, and the 503 each API face answers with.

A request whose database (or broker) is unreachable, silent or overloaded fails fast — within the timeouts of
``settings.py`` (docs/operations.md) — and answers in its face's own error format, never an HTML 500 or a hang:

- REST: ``503 {"code": <code>, "message": ..., "fields": {}}`` with ``Retry-After``;
- DIGIT face: ``503 {"ResponseInfo": null, "Errors": [{"code": <code>, ...}]}`` with ``Retry-After``.

Codes: ``DATABASE_UNAVAILABLE`` (no connection, or it was lost), ``DATABASE_TIMEOUT`` (a statement ran past
``DATABASE_STATEMENT_TIMEOUT_MS`` and was cancelled), ``DATABASE_BUSY`` (a lock wait timed out, a deadlock, a
serialization failure: try again), ``BROKER_UNAVAILABLE`` (the job broker refused or timed out — requests do not
normally talk to it: jobs go through the outbox).

The DRF exception handlers of both faces call ``dependency_failure``; ``handler500`` (a failure in a middleware,
before any view) calls ``outage_response``.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger("billing.outage")

DIGIT_PREFIXES = ("/billing-service/", "/collection-services/")
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class DependencyFailure:
    code: str
    message: str


def _psycopg_kind(exc: BaseException) -> str | None:
    try:
        from psycopg import errors
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return None
    cause = exc.__cause__ or exc
    if isinstance(cause, errors.QueryCanceled):
        return "timeout"
    if isinstance(cause, errors.LockNotAvailable | errors.DeadlockDetected | errors.SerializationFailure):
        return "busy"
    return None


def dependency_failure(exc: BaseException) -> DependencyFailure | None:
    """What ``exc`` says about a dependency, or None when it is not a dependency's failure."""
    if isinstance(exc, OperationalError | InterfaceError):
        kind = _psycopg_kind(exc)
        if kind == "timeout":
            return DependencyFailure(
                "DATABASE_TIMEOUT", "The database did not answer in time; nothing was changed. Try again later."
            )
        if kind == "busy":
            return DependencyFailure("DATABASE_BUSY", "The database is busy with a conflicting change. Try again.")
        if isinstance(exc, OperationalError) and "database is locked" in str(exc):  # SQLite's lock timeout
            return DependencyFailure("DATABASE_BUSY", "The database is busy with a conflicting change. Try again.")
        return DependencyFailure(
            "DATABASE_UNAVAILABLE", "The database is unavailable; nothing was changed. Try again later."
        )
    if isinstance(exc, DatabaseError):
        return None  # integrity, data and programming errors are answered elsewhere (or are bugs)
    if _is_broker_error(exc):
        return DependencyFailure("BROKER_UNAVAILABLE", "The job broker is unavailable. Try again later.")
    return None


def _is_broker_error(exc: BaseException) -> bool:
    try:
        from kombu.exceptions import OperationalError as KombuOperationalError
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - celery[redis] is a dependency
        return False
    return isinstance(exc, KombuOperationalError | RedisConnectionError | RedisTimeoutError)


def is_digit_path(path: str) -> bool:
    return path.startswith(DIGIT_PREFIXES)


def failure_body(failure: DependencyFailure, *, digit: bool) -> dict[str, object]:
    if digit:
        entry = {"code": failure.code, "message": failure.message, "description": None, "params": None}
        return {"ResponseInfo": None, "Errors": [entry]}
    return {"code": failure.code, "message": failure.message, "fields": {}}


def log_failure(exc: BaseException, failure: DependencyFailure, path: str) -> None:
    logger.warning(
        "dependency failure answered 503", extra={"code": failure.code, "path": path, "error": f"{type(exc).__name__}"}
    )


def outage_response(request: HttpRequest) -> JsonResponse | None:
    """For ``handler500``: the 503 of the exception being handled, when it is a dependency's failure."""
    exc = sys.exc_info()[1]
    failure = dependency_failure(exc) if exc is not None else None
    if failure is None:
        return None
    response = JsonResponse(failure_body(failure, digit=is_digit_path(request.path)), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
