"""Fixtures of the cross-app journeys: the browser (tests/browser.py) and the seed masters and staff of the
demand and amendment tests (pytest finds fixtures by module attribute)."""

from __future__ import annotations

from typing import Any

import pytest

from masters.models import Tenant
from tests.browser import browser, page
from tests.demands import conftest as demand_fixtures


@pytest.fixture
def seed(tenant_factory: Any) -> dict[str, Tenant]:
    """The demand tests' seed masters, with the cities' names as staff read them in the header."""
    tenants: dict[str, Tenant] = demand_fixtures.seed.__wrapped__(tenant_factory)  # type: ignore[attr-defined]
    Tenant.objects.filter(code="pb.amritsar").update(name="Amritsar")
    Tenant.objects.filter(code="pb.jalandhar").update(name="Jalandhar")
    return tenants


wc_masters = demand_fixtures.wc_masters
employee_user = demand_fixtures.employee_user
employee = demand_fixtures.employee

__all__ = ["browser", "employee", "employee_user", "page", "seed", "wc_masters"]
