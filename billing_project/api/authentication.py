"""API tokens: ``Authorization: Token <key>`` or ``Authorization: Bearer <key>``."""

from __future__ import annotations

import re

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request

# What a token key can look like (DRF keys are 40 hex digits); anything else is refused before a query, so that
# e.g. a NUL character sent in RequestInfo.authToken is a 401, not a database error.
_PLAUSIBLE_KEY = re.compile(r"[\x21-\x7e]{1,40}")


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
        return super().authenticate_credentials(key)

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"
