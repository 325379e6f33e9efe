"""Domain errors with stable codes.

Services raise ``DomainError`` (or a subclass); both API faces turn it into their own error format.
``code`` is stable and matched on by clients, ``message`` is for people, ``fields`` optionally names
offending input fields (field name -> list of messages).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule refused the request; nothing was written."""

    code: str = "DOMAIN_ERROR"
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
    code = "NOT_FOUND"
    http_status = 404


class PermissionDeniedError(DomainError):
    code = "PERMISSION_DENIED"
    http_status = 403


class ConflictError(DomainError):
    code = "CONFLICT"
    http_status = 409


class ValidationFailed(DomainError):
    """Several rule violations reported together (one entry per code)."""

    code = "VALIDATION_ERROR"

    def __init__(self, errors: list[DomainError]) -> None:
        self.errors = errors
        first = errors[0]
        fields: dict[str, list[str]] = {}
        for error in errors:
            fields.setdefault(error.code, []).append(error.message)
        super().__init__(first.code, first.message, http_status=first.http_status, fields=fields)
