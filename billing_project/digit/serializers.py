"""DRF serializer support for the DIGIT face: request keys are matched case-insensitively (reference §2.1)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from billing_project.api.types import Serializer

_HTML = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")


class CaseInsensitiveKeysMixin:
    """Rename incoming keys to the declared field names, ignoring case; unknown keys stay (and are ignored)."""

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            names = {name.lower(): name for name in self.fields}
            renamed: dict[Any, Any] = {}
            for key, value in data.items():
                target = names.get(key.lower(), key) if isinstance(key, str) else key
                if target not in renamed or key == target:
                    renamed[target] = value
            data = renamed
        return super().to_internal_value(data)  # type: ignore[misc]


class DigitSerializer(CaseInsensitiveKeysMixin, Serializer):
    """Base of every DIGIT request serializer: keys matched ignoring case, unknown keys ignored."""


def no_html(value: str) -> str:
    """The reference's ``@SafeHtml``: text fields may not carry markup."""
    if isinstance(value, str) and _HTML.search(value):
        raise serializers.ValidationError("HTML content is not allowed here.", code="SafeHtml")
    return value


class DigitCharField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validators", []).append(no_html)
        super().__init__(**kwargs)
