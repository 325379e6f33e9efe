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


def _paginated_lists() -> list[tuple[str, set[str]]]:
    """(path, documented query parameters) of every paginated REST list, detail actions (import rows) included."""
    out = []
    for path, item in _schema()["paths"].items():
        get = item.get("get")
        if get is None or not path.startswith("/api/v1/"):
            continue
        params = [p for p in get.get("parameters", []) if p["in"] == "query"]
        if any(p["name"] == "page" for p in params):
            out.append((path, {p["name"] for p in params}))
    return out


def _concrete(path: str) -> str:
    return path.replace("{id}", "00000000-0000-0000-0000-000000000000")


def test_an_unknown_query_parameter_is_refused_with_what_is_allowed(root):
    response = root.get("/api/v1/demands/?consumercode=PT-1&status=ACTIVE")
    allowed = (
        "business_service, consumer_code, format, is_payment_completed, mobile_number, ordering, page, page_size, "
        "payer, period_from, period_to, status, tenant"
    )
    assert (response.status_code, response.json()) == (
        400,
        {
            "code": "UNKNOWN_QUERY_PARAMETER",
            "message": f"Unknown query parameter(s): consumercode. Allowed: {allowed}.",
            "fields": {"consumercode": [f"Unknown query parameter. Allowed: {allowed}."]},
        },
    )


def test_every_paginated_list_accepts_exactly_its_documented_parameters(root):
    lists = _paginated_lists()
    assert len(lists) >= 14
    for path, documented in lists:
        if "{" in path:
            continue  # a detail action: its run does not exist here (tested below)
        response = root.get(_concrete(path) + "?no_such_filter=1")
        assert response.status_code == 400, path
        body = response.json()
        assert body["code"] == "UNKNOWN_QUERY_PARAMETER", path
        allowed = body["message"].split("Allowed: ", 1)[1].rstrip(".").split(", ")
        assert set(allowed) == documented | {"format"}, path


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("page_size=abc", {"page_size": ["A page size is a whole number from 1 to 500."]}),
        ("page_size=0", {"page_size": ["A page size is a whole number from 1 to 500."]}),
        ("page_size=-5", {"page_size": ["A page size is a whole number from 1 to 500."]}),
        ("page_size=501", {"page_size": ["A page size is a whole number from 1 to 500."]}),
        ("page_size=%D9%A1", {"page_size": ["A page size is a whole number from 1 to 500."]}),
        ("page=0", {"page": ["A page is a whole number from 1."]}),
        ("page=-1", {"page": ["A page is a whole number from 1."]}),
        ("page=two", {"page": ["A page is a whole number from 1."]}),
        (
            "page=0&page_size=x",
            {
                "page": ["A page is a whole number from 1."],
                "page_size": ["A page size is a whole number from 1 to 500."],
            },
        ),
    ],
)
def test_invalid_page_and_page_size_are_a_400(root, query, fields):
    response = root.get(f"/api/v1/tax-heads/?{query}")
    assert (response.status_code, response.json()) == (
        400,
        {"code": "VALIDATION_ERROR", "message": "Invalid input.", "fields": fields},
    )


def test_valid_pages_work_and_a_page_past_the_last_is_a_404(root):
    assert root.get("/api/v1/tax-heads/?page=1&page_size=500").status_code == 200
    assert root.get("/api/v1/tax-heads/?page=last").status_code == 200
    response = root.get("/api/v1/tax-heads/?page=2")
    assert (response.status_code, response.json()) == (
        404,
        {"code": "NOT_FOUND", "message": "Invalid page.", "fields": {}},
    )
