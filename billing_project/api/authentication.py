"""API tokens: ``Authorization: Token <key>`` or ``Authorization: Bearer <key>``."""

from __future__ import annotations

from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request


class BearerTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, also accepting the ``Bearer`` keyword DIGIT clients send."""

    keywords = ("token", "bearer")

    def authenticate(self, request: Request):  # type: ignore[no-untyped-def]
        header = request.META.get("HTTP_AUTHORIZATION", "")
        parts = header.split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            return super().authenticate(request)  # lets DRF explain the malformed header
        return self.authenticate_credentials(parts[1])

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"
