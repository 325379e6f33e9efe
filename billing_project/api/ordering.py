"""``?ordering=`` that refuses unknown fields instead of silently ignoring them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request


class StrictOrderingFilter(OrderingFilter):
    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        params = request.query_params.get(self.ordering_param)
        if params:
            requested = [term.strip() for term in params.split(",") if term.strip()]
            allowed = {item[0] for item in self.get_valid_fields(queryset, view, {"request": request})}
            unknown = [term for term in requested if term.lstrip("-") not in allowed]
            if unknown:
                raise ValidationError(
                    {
                        self.ordering_param: [
                            f"Unknown ordering field(s): {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}."
                        ]
                    }
                )
            return [*requested, "pk"]  # pk last: pages stay stable when the requested keys tie
        default = self.get_default_ordering(view)
        return [*default, "pk"] if default else default

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """``ordering`` documented as what it accepts: a comma-separated list of the view's fields, each
        optionally prefixed with ``-`` (descending)."""
        fields = getattr(view, "ordering_fields", None)
        if not isinstance(fields, list | tuple):
            return list(super().get_schema_operation_parameters(view))
        terms = [term for name in fields for term in (name, f"-{name}")]
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Fields to sort by, comma-separated; a leading - sorts descending. Unknown fields "
                "are refused (400).",
                "schema": {"type": "array", "items": {"type": "string", "enum": terms}},
                "style": "form",
                "explode": False,
            }
        ]
