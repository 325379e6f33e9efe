"""Page-number pagination for every REST list, and the one check of a list's query parameters.

``?page=N&page_size=M``: ``page`` is a whole number from 1 (or ``last``), ``page_size`` a whole number from 1
to 500; anything else is a 400 naming the parameter (DRF would silently use the default size, or answer 404
for ``page=0``). A page past the last one is a 404 ``NOT_FOUND`` "Invalid page.", as DRF answers it.

Every paginated list also refuses query parameters it does not know, with 400 ``UNKNOWN_QUERY_PARAMETER`` and
the list of those it accepts: its filterset's filters, ``ordering``, ``page``, ``page_size``, ``format`` and
what the view declares in ``extra_query_params``. A client that misspells a filter learns it instead of
believing it filtered. (The DIGIT face keeps the reference's leniency: it ignores unknown keys.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from billing_project.errors import DomainError

UNKNOWN_QUERY_PARAMETER = "UNKNOWN_QUERY_PARAMETER"


def _filter_names(backend: Any, queryset: QuerySet[Any], view: Any) -> Iterable[str]:
    """The query parameters a filter backend reads for ``view``."""
    get_filterset_class = getattr(backend, "get_filterset_class", None)
    if get_filterset_class is not None:  # django-filter
        filterset_class = get_filterset_class(view, queryset)
        if filterset_class is not None:
            for name, flt in filterset_class.base_filters.items():
                suffixes = getattr(flt.field_class.widget, "suffixes", None)
                if suffixes:
                    yield from (f"{name}_{suffix}" if suffix else name for suffix in suffixes)
                else:
                    yield name
    for attribute in ("ordering_param", "search_param"):
        name = getattr(backend, attribute, None)
        if isinstance(name, str):
            yield name


def allowed_query_params(view: Any, queryset: QuerySet[Any], paginator: Any) -> set[str]:
    allowed: set[str] = set(getattr(view, "extra_query_params", ()))
    for backend_class in getattr(view, "filter_backends", ()):
        allowed.update(_filter_names(backend_class(), queryset, view))
    for attribute in ("page_query_param", "page_size_query_param"):
        name = getattr(paginator, attribute, None)
        if name:
            allowed.add(name)
    format_param = settings.REST_FRAMEWORK.get("URL_FORMAT_OVERRIDE", "format")
    if isinstance(format_param, str) and format_param:
        allowed.add(format_param)
    return allowed


def check_query_params(request: Request, view: Any, queryset: QuerySet[Any], paginator: Any) -> None:
    allowed = allowed_query_params(view, queryset, paginator)
    unknown = sorted(name for name in request.query_params if name not in allowed)
    if unknown:
        listed = ", ".join(sorted(allowed))
        raise DomainError(
            UNKNOWN_QUERY_PARAMETER,
            f"Unknown query parameter(s): {', '.join(unknown)}. Allowed: {listed}.",
            fields={name: [f"Unknown query parameter. Allowed: {listed}."] for name in unknown},
        )


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        if view is not None:
            check_query_params(request, view, queryset, self)
        errors: dict[str, list[str]] = {}
        page = request.query_params.get(self.page_query_param)
        if page is not None and page not in self.last_page_strings and not _whole(page, 1, None):
            errors[self.page_query_param] = ["A page is a whole number from 1."]
        size = request.query_params.get(self.page_size_query_param or "")
        if size is not None and not _whole(size, 1, self.max_page_size):
            errors[str(self.page_size_query_param)] = [f"A page size is a whole number from 1 to {self.max_page_size}."]
        if errors:
            raise ValidationError(errors)
        return super().paginate_queryset(queryset, request, view)


def _whole(text: str, low: int, high: int | None) -> bool:
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return False
    value = int(text)
    return value >= low and (high is None or value <= high)
