"""The one place that reads the wall clock.

Interfaces call ``now()``/``today()`` and pass the value down; domain code receives times as arguments.
Tests freeze time with ``frozen(...)``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """Current aware datetime (UTC)."""
    return _frozen if _frozen is not None else timezone.now()


def billing_zone() -> ZoneInfo:
    """The time zone in which billing days (expiry, financial year) are counted."""
    return ZoneInfo(settings.BILLING_TIME_ZONE)


def today() -> dt.date:
    """Today's date in the billing time zone."""
    return now().astimezone(billing_zone()).date()


@contextlib.contextmanager
def frozen(at: dt.datetime) -> Iterator[dt.datetime]:
    """Freeze ``now()`` at ``at`` (aware) for the duration of the block; for tests and replays."""
    global _frozen
    if timezone.is_naive(at):
        raise ValueError("frozen() needs an aware datetime")
    previous, _frozen = _frozen, at
    try:
        yield at
    finally:
        _frozen = previous
