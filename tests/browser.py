"""Browser fixtures: Debian's Chromium driven by Playwright, against pytest-django's live server.

Reusable by any browser test (the back-office here, the citizen pay pages later): import the fixtures into the
test module or a ``conftest.py`` (``from tests.browser import browser, page  # noqa: F401``) and mark the tests
``pytestmark = BROWSER_MARKS`` — a live server needs committed rows, so the database is transactional.

- ``browser`` (per module): ``/usr/bin/chromium`` headless, never a downloaded browser; closed (with Playwright's
  driver) after the module, so no browser process outlives the tests that use it. Missing Chromium or
  Playwright skips the tests on a developer's machine and FAILS them in CI (``CI=true``), like PostgreSQL.
- ``page`` (per test): a fresh context (no cookies) and page, 1280×860, a 10 s timeout for every wait.
- ``login(page, live_server, username, password)``: signs in through the admin's login form.
- ``snap(page, name)``: when ``BROWSER_SCREENSHOTS`` names a folder, saves ``<folder>/<name>.png`` (the
  screenshots of docs/back-office.md are taken this way from the running product); otherwise does nothing.

Playwright's sync API runs an event loop in the test's thread, which Django's ORM takes for an async context:
``DJANGO_ALLOW_ASYNC_UNSAFE`` lets the test itself prepare rows with the services (the live server's own
thread is unaffected).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _unavailable

CHROMIUM = os.environ.get("BROWSER_EXECUTABLE", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 860}
TIMEOUT_MS = 10_000
BROWSER_MARKS = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"needs Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a dev dependency
        _unavailable("needs Playwright for Python (pip install -e '.[dev]')")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, settings: Any) -> Iterator[Any]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    context = browser.new_context(viewport=VIEWPORT, locale="en-IN")
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def login(page: Any, live_server: Any, username: str, password: str) -> None:
    """Sign in through the admin's login form and land on the start page."""
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def snap(page: Any, name: str, *, full_page: bool = False) -> None:
    """Save a screenshot when ``BROWSER_SCREENSHOTS`` is set (for the docs); a no-op otherwise."""
    folder = os.environ.get("BROWSER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)


__all__ = ["BROWSER_MARKS", "CHROMIUM", "CHROMIUM_ARGS", "browser", "login", "page", "snap"]
