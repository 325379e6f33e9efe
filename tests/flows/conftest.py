"""Fixtures of the cross-app journeys: the browser (tests/browser.py) and the seed masters and staff of the
demand and amendment tests (pytest finds fixtures by module attribute)."""

from __future__ import annotations

from tests.browser import browser, page
from tests.demands import conftest as demand_fixtures

seed = demand_fixtures.seed
wc_masters = demand_fixtures.wc_masters
employee_user = demand_fixtures.employee_user
employee = demand_fixtures.employee

__all__ = ["browser", "employee", "employee_user", "page", "seed", "wc_masters"]
