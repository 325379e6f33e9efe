"""Filters shared by the REST lists: one date-time filter that every date filter of every list uses.

``IsoDateTimeFilter`` parses ISO 8601 as django-filter's does and then refuses what PostgreSQL cannot compare
with: a UTC offset beyond ±15:59 (Python accepts up to ±23:59; no real time zone is past ±14:00) and a moment
that leaves the range of datetimes once moved to UTC. The value reaching the query is in UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField as _LibraryIsoDateTimeField

MAX_UTC_OFFSET = dt.timedelta(hours=15, minutes=59)


class IsoDateTimeField(_LibraryIsoDateTimeField):  # type: ignore[misc]  # django-filter is untyped
    default_error_messages = {
        "offset": "The UTC offset must be between -15:59 and +15:59.",
        "range": "Enter a moment between the years 1 and 9999 (in UTC).",
    }

    def to_python(self, value: Any) -> dt.datetime | None:
        parsed: dt.datetime | None = super().to_python(value)
        if parsed is None:
            return None
        offset = parsed.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise forms.ValidationError(self.error_messages["offset"], code="offset")
        try:
            return parsed.astimezone(dt.UTC) if offset is not None else parsed
        except OverflowError:
            raise forms.ValidationError(self.error_messages["range"], code="range") from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):  # type: ignore[misc]
    """django-filter's ISO 8601 filter with the offset and range checks of ``IsoDateTimeField``."""

    field_class = IsoDateTimeField
