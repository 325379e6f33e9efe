"""HMAC-SHA256 callback signatures: ``t=<unix seconds>,v1=<hex of HMAC(secret, f"{t}.{raw body}")>``.

Verification compares in constant time and refuses timestamps further than ``tolerance`` seconds from now
(either way: a replayed old callback and a clock far ahead are both refused).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from payments.gateway.errors import SIGNATURE_MALFORMED as MALFORMED
from payments.gateway.errors import SIGNATURE_MISMATCH as MISMATCH
from payments.gateway.errors import SIGNATURE_MISSING as MISSING
from payments.gateway.errors import SIGNATURE_TIMESTAMP_OUT_OF_TOLERANCE as EXPIRED

# ASCII digits only (``str.isdigit`` also accepts "²" or Arabic-Indic digits, which ``int`` then refuses or
# reads), and at most 12 of them (unix seconds until the year 33658).
TIMESTAMP = re.compile(r"[0-9]{1,12}")


def signature_digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The header value a sender puts on ``body`` at ``timestamp``."""
    return f"t={timestamp},v1={signature_digest(secret, timestamp, body)}"


def signature_problem(*, secret: str, header: str | None, body: bytes, now: int, tolerance: int) -> str | None:
    """None when ``header`` is a valid signature of ``body`` within ``tolerance`` seconds of ``now``; else
    the reason (MISSING, MALFORMED, MISMATCH, EXPIRED)."""
    if not header:
        return MISSING
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            return MALFORMED
        parts.setdefault(key, []).append(value)
    stamps = parts.get("t", [])
    if len(stamps) != 1 or not TIMESTAMP.fullmatch(stamps[0]) or not parts.get("v1"):
        return MALFORMED
    timestamp = int(stamps[0])
    expected = signature_digest(secret, timestamp, body)
    # Every v1 candidate is compared (rotation may send two); constant time each.
    matched = False
    for candidate in parts["v1"]:
        matched |= hmac.compare_digest(candidate.encode(), expected.encode())
    if not matched:
        return MISMATCH
    if abs(now - timestamp) > tolerance:
        return EXPIRED
    return None
