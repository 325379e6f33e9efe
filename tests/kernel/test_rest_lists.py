"""REST lists: date filters, unknown query parameters and pagination are checked once, in the kernel (issue 11,
points 7 and 14)."""

from __future__ import annotations

from functools import cache
from typing import Any

import django_filters
import pytest
from django.urls import get_resolver
from drf_spectacular.generators import SchemaGenerator

from billing_project.api.filters import IsoDateTimeFilter

pytestmark = pytest.mark.django_db


@cache
def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _list_operations() -> list[tuple[str, list[dict[str, Any]]]]:
    """(path, query parameters) of every REST GET without path parameters (the lists)."""
    out = []
    for path, item in _schema()["paths"].items():
        get = item.get("get")
        if get is None or not path.startswith("/api/v1/") or "{" in path:
            continue
        out.append((path, [p for p in get.get("parameters", []) if p["in"] == "query"]))
    return out


def _date_filters() -> list[tuple[str, str]]:
    return [
        (path, param["name"])
        for path, params in _list_operations()
        for param in params
        if param.get("schema", {}).get("format") == "date-time"
    ]


@pytest.fixture
def root(api_client_for):
    return api_client_for("root", {}, superuser=True)


def test_every_date_filter_of_every_list_is_found():
    found = _date_filters()
    assert len(found) == 15
    assert ("/api/v1/demands/", "period_from") in found


def test_every_datetime_filter_is_the_kernels():
    get_resolver().url_patterns  # noqa: B018  # load every app's urls, hence their filtersets

    def subclasses(klass: type) -> list[type]:
        return [klass, *(s for sub in klass.__subclasses__() for s in subclasses(sub))]

    offenders = [
        f"{filterset.__module__}.{filterset.__name__}.{name}"
        for filterset in subclasses(django_filters.FilterSet)
        if filterset.__module__.split(".")[0] in ("masters", "demands", "amendments", "bills", "payments")
        for name, flt in filterset.base_filters.items()
        if isinstance(flt, django_filters.DateTimeFilter | django_filters.DateFilter)
        and not isinstance(flt, IsoDateTimeFilter)
    ]
    assert offenders == []


@pytest.mark.parametrize(("offset", "expected"), [("%2B16:00", "offset"), ("-16:00", "offset"), ("%2B24:00", "bad")])
def test_an_offset_beyond_15_59_is_a_400_on_every_date_filter(root, offset, expected):
    message = {
        "offset": "The UTC offset must be between -15:59 and +15:59.",
        "bad": "Enter a valid date/time.",
    }[expected]
    for path, name in _date_filters():
        response = root.get(f"{path}?{name}=2020-01-01T00:00:00{offset}")
        assert (response.status_code, response.json()) == (
            400,
            {"code": "VALIDATION_ERROR", "message": "Invalid input.", "fields": {name: [message]}},
        ), (path, name)


def test_a_moment_leaving_the_datetime_range_in_utc_is_a_400(root):
    response = root.get("/api/v1/demands/?period_to=9999-12-31T23:00:00-05:00")
    assert (response.status_code, response.json()) == (
        400,
        {
            "code": "VALIDATION_ERROR",
            "message": "Invalid input.",
            "fields": {"period_to": ["Enter a moment between the years 1 and 9999 (in UTC)."]},
        },
    )


def test_offsets_within_15_59_filter_as_the_same_moment_in_utc(root):
    for path, name in _date_filters():
        response = root.get(f"{path}?{name}=2020-01-01T00:00:00%2B15:59")
        assert response.status_code == 200, (path, name, response.json())
