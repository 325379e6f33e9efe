"""Ids given as text: the one way a UUID is read from a request, a caller or a file.

``uuid_or_none`` answers None for anything that is not a UUID (a search criterion that matches nothing);
``uuid_or_404`` raises ``NotFound`` with the caller's code (an id in a URL or a service argument that names
nothing: not found, never a 500 or a database error).
"""

from __future__ import annotations

import uuid

from billing_project.errors import NotFound


def uuid_or_none(value: object) -> uuid.UUID | None:
    """``value`` as a UUID (a UUID, or its text in any form ``uuid.UUID`` reads); None when it is not one."""
    if isinstance(value, uuid.UUID):
        return value
    if value is None or isinstance(value, bool):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def uuid_or_404(value: object, *, code: str, message: str) -> uuid.UUID:
    """``value`` as a UUID, or ``NotFound(code, message)``."""
    key = uuid_or_none(value)
    if key is None:
        raise NotFound(code, message)
    return key
