"""Template filters of the back-office pages and prints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

register = template.Library()


@register.filter
def lookup(mapping: Mapping[str, Any] | None, key: str) -> Any:
    """``{{ names|lookup:code }}``: the value under ``key``, or "" (so ``|default:`` can follow)."""
    return (mapping or {}).get(key, "")
