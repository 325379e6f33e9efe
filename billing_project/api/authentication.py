"""API tokens: ``Authorization: Token <key>`` or ``Authorization: Bearer <key>``.

A token that is not one of ours may still be valid elsewhere: when ``settings.EXTERNAL_TOKEN_AUTHENTICATOR``
names a callable (a dotted path; in a DIGIT installation ``masters.digit.identity.authenticate_token``), it is
asked about such tokens and answers ``(user, auth)`` or raises ``AuthenticationFailed`` /
``IdentityServiceUnavailable``. The kernel imports no app: the callable is wired in by ``settings.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework import exceptions, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request

# What a token key can look like (DRF keys are 40 hex digits, DIGIT's are UUIDs); anything else is refused before
# a query, so that e.g. a NUL character sent in RequestInfo.authToken is a 401, not a database error.
_PLAUSIBLE_KEY = re.compile(r"[\x21-\x7e]{1,40}")


class IdentityServiceUnavailable(exceptions.APIException):
    """The service that vouches for a token (e.g. DIGIT's egov-user) cannot be asked now: 503, try again."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The identity service cannot validate the token now; try again shortly."
    default_code = "IDENTITY_SERVICE_UNAVAILABLE"


@cache
def _external(path: str) -> Callable[[str], Any]:
    return import_string(path)  # type: ignore[no-any-return]


def external_authenticator() -> Callable[[str], Any] | None:
    path = getattr(settings, "EXTERNAL_TOKEN_AUTHENTICATOR", "")
    return _external(path) if path else None


class BearerTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, also accepting the ``Bearer`` keyword DIGIT clients send."""

    keywords = ("token", "bearer")

    def authenticate(self, request: Request):  # type: ignore[no-untyped-def]
        header = request.META.get("HTTP_AUTHORIZATION", "")
        parts = header.split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) == 1:
            raise exceptions.AuthenticationFailed("Invalid token header. No credentials provided.")
        if len(parts) > 2:
            raise exceptions.AuthenticationFailed("Invalid token header. Token string should not contain spaces.")
        return self.authenticate_credentials(parts[1])

    def authenticate_credentials(self, key: str):  # type: ignore[no-untyped-def]
        if not isinstance(key, str) or not _PLAUSIBLE_KEY.fullmatch(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        try:
            return super().authenticate_credentials(key)
        except exceptions.AuthenticationFailed:
            external = external_authenticator()
            if external is None:
                raise
            return external(key)

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"
