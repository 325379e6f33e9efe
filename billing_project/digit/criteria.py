"""Search criteria of the DIGIT face come as query parameters (Spring ``@ModelAttribute``).

Names are matched case-insensitively; set-valued parameters accept comma-separated or repeated values.
Bad values raise a DRF ValidationError naming the parameter.
"""

from __future__ import annotations

import datetime as dt

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from billing_project.digit.timeconv import from_epoch_ms


def _raw_values(request: Request, name: str) -> list[str]:
    wanted = name.lower()
    values: list[str] = []
    for key in request.query_params:
        if key.lower() == wanted:
            values.extend(request.query_params.getlist(key))
    return values


def query_set(request: Request, name: str) -> list[str]:
    """All values of a set-valued parameter, split on commas, blanks dropped, order kept, no repeats."""
    seen: dict[str, None] = {}
    for raw in _raw_values(request, name):
        for part in raw.split(","):
            part = part.strip()
            if part:
                seen.setdefault(part, None)
    return list(seen)


def query_value(request: Request, name: str) -> str | None:
    values = [v.strip() for v in _raw_values(request, name) if v.strip()]
    return values[-1] if values else None


def query_bool(request: Request, name: str) -> bool | None:
    value = query_value(request, name)
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValidationError({name: [f"'{value}' is not a boolean (true/false)"]})


def query_long(request: Request, name: str) -> int | None:
    value = query_value(request, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError({name: [f"'{value}' is not a whole number"]}) from None


def query_epoch(request: Request, name: str) -> dt.datetime | None:
    """A time given in epoch milliseconds (``fromDate=1554076800000``), as an aware UTC datetime; None when absent."""
    value = query_value(request, name)
    try:
        return from_epoch_ms(value)
    except (ValueError, OverflowError):
        raise ValidationError({name: [f"'{value}' is not a time in epoch milliseconds"]}) from None
