"""Callback signatures of the sandbox: HMAC-SHA256 over ``f"{timestamp}.{raw_body}"``.

Header: ``X-Sandbox-Signature: t=<unix seconds>,v1=<hex digest>`` (see docs/payment-gateway-sandbox.md).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Sandbox-Signature"


def signature_digest(*, secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` under ``secret``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    """The value of the ``X-Sandbox-Signature`` header for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={signature_digest(secret=secret, timestamp=timestamp, body=body)}"
