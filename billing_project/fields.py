"""Money fields: the one column and wire type of amounts (``Decimal``, 14 digits, 2 places)."""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import serializers


class MoneyField(models.DecimalField):  # type: ignore[type-arg]
    """``DecimalField(max_digits=14, decimal_places=2)`` — every stored amount."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs


class MoneySerializerField(serializers.DecimalField):
    """An amount in a request or response: at most two places, refused (not rounded) beyond that."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)
