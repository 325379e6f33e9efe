"""Epoch milliseconds (the DIGIT wire format) <-> aware datetimes (everything inside)."""

from __future__ import annotations

import datetime as dt

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def from_epoch_ms(value: int | str | None) -> dt.datetime | None:
    """Aware UTC datetime for an epoch-millisecond value (``None`` stays ``None``)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    millis = int(value)
    try:
        return _EPOCH + dt.timedelta(milliseconds=millis)
    except OverflowError as exc:
        raise ValueError(f"{value!r} is out of the range of times") from exc


def to_epoch_ms(value: dt.datetime | None) -> int | None:
    """Epoch milliseconds for an aware datetime (``None`` stays ``None``)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("to_epoch_ms needs an aware datetime")
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def duration_to_ms(value: dt.timedelta | None) -> int | None:
    if value is None:
        return None
    return (value.days * 86_400 + value.seconds) * 1000 + value.microseconds // 1000


def ms_to_duration(value: int | str | None) -> dt.timedelta | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a duration")
    try:
        return dt.timedelta(milliseconds=int(value))
    except OverflowError as exc:
        raise ValueError(f"{value!r} is out of the range of durations") from exc
