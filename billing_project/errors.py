"""Domain errors with stable codes.

Services raise ``DomainError`` or one of its subclasses below; both API faces turn it into their own error
format. ``code`` is stable and matched on by clients, ``message`` is for people, ``fields`` optionally names
offending input fields (field name -> list of messages), ``params`` are the reference's ``Errors[].params``.

**One way of declaring a domain error** (docs/decisions.md, "Errors"): every code is a constant in its app's
``errors`` module (``masters/errors.py``, ``payments/gateway/errors.py``, …; a code two apps raise lives in the
lower app and the higher one imports it), and a refusal is raised as the class of its HTTP meaning with that
constant — ``DomainError`` (400), ``NotFound`` (404), ``PermissionDeniedError`` (403), ``ConflictError`` (409),
``UpstreamError`` (502):

    raise ConflictError(PAYER_DUPLICATE, f"A payer named {name!r} … is already registered.")

An app declares a subclass of its own only when the error carries behaviour (``IdGenerationError``) or a caller
catches it by type (``MdmsInvalid``); it lives in the app's ``errors`` module too.
"""

from __future__ import annotations

from typing import Any, Final

# The kernel's codes: what a refusal is called when no app gives it a more precise code.
DOMAIN_ERROR: Final = "DOMAIN_ERROR"
NOT_FOUND: Final = "NOT_FOUND"
PERMISSION_DENIED: Final = "PERMISSION_DENIED"
CONFLICT: Final = "CONFLICT"
VALIDATION_ERROR: Final = "VALIDATION_ERROR"


class DomainError(Exception):
    """A business rule refused the request; nothing was written."""

    code: str = DOMAIN_ERROR
    http_status: int = 400

    def __init__(
        self,
        code: str | None = None,
        message: str = "",
        *,
        http_status: int | None = None,
        fields: dict[str, list[str]] | None = None,
        params: list[Any] | None = None,
    ) -> None:
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
        self.message = message or self.code
        self.fields = fields or {}
        self.params = params
        super().__init__(f"{self.code}: {self.message}")


class NotFound(DomainError):
    code = NOT_FOUND
    http_status = 404


class PermissionDeniedError(DomainError):
    code = PERMISSION_DENIED
    http_status = 403


class ConflictError(DomainError):
    code = CONFLICT
    http_status = 409


class UpstreamError(DomainError):
    """A system we called (a module's demand-refresh URL) failed: the request could not be served."""

    http_status = 502


class ValidationFailed(DomainError):
    """Several rule violations reported together (one entry per code)."""

    code = VALIDATION_ERROR

    def __init__(self, errors: list[DomainError]) -> None:
        self.errors = errors
        first = errors[0]
        fields: dict[str, list[str]] = {}
        for error in errors:
            fields.setdefault(error.code, []).append(error.message)
        super().__init__(first.code, first.message, http_status=first.http_status, fields=fields)
