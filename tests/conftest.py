"""Shared fixtures. Tests needing PostgreSQL or Redis are skipped elsewhere, and fail in CI (CI=true)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from masters.models import Role, Tenant, UserRole

IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} — required in CI, so this is a failure, not a skip")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _service_markers(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _unavailable("needs PostgreSQL (set DATABASE_URL=postgres://...)")
    if request.node.get_closest_marker("redis"):
        import redis

        url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
        try:
            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        except redis.exceptions.RedisError:
            _unavailable(f"needs Redis at {url}")


@pytest.fixture
def tenant_factory(db: Any) -> Callable[[str], Tenant]:
    def make(code: str) -> Tenant:
        state = None
        if "." in code:
            state, _ = Tenant.objects.get_or_create(code=code.split(".", 1)[0], defaults={"name": code.split(".")[0]})
        tenant, _ = Tenant.objects.get_or_create(code=code, defaults={"name": code, "state": state})
        return tenant

    return make


@pytest.fixture
def user_factory(db: Any, tenant_factory: Callable[[str], Tenant]) -> Callable[..., Any]:
    from django.contrib.auth import get_user_model

    def make(username: str, roles: dict[str, list[str]] | None = None, *, superuser: bool = False) -> Any:
        user_model = get_user_model()
        user = user_model.objects.create_user(
            username=username, password="pw-" + username, is_superuser=superuser, is_staff=superuser
        )
        for tenant_code, role_names in (roles or {}).items():
            tenant = tenant_factory(tenant_code)
            for role in role_names:
                UserRole.objects.create(user=user, tenant=tenant, role=role)
        return user

    return make


@pytest.fixture
def api_client_for(user_factory: Callable[..., Any]) -> Callable[..., APIClient]:
    """An APIClient authenticated with a token for a new user with the given roles."""

    def make(username: str = "employee", roles: dict[str, list[str]] | None = None, **kwargs: Any) -> APIClient:
        user = user_factory(username, roles if roles is not None else {"pb.amritsar": [Role.EMPLOYEE]}, **kwargs)
        token, _ = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        client.user = user  # type: ignore[attr-defined]
        client.token = token.key  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    """Real hashing costs ~0.3 s per user; tests need users, not strong hashes."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def redis_broker() -> Any:
    """The Celery app publishing to the test Redis (TEST_REDIS_URL) instead of running tasks in-process; yields a
    function listing the headers of the tasks queued there (oldest first). Mark the test ``redis``."""
    import json

    import redis

    from tests.outage import celery_broker

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url)
    client.delete("celery")

    def queued() -> list[dict[str, Any]]:
        return [json.loads(raw)["headers"] for raw in reversed(client.lrange("celery", 0, -1))]

    with celery_broker(url):
        yield queued
    client.delete("celery")


_SERVICE_HINTS = {
    "needs PostgreSQL": "PostgreSQL: set DATABASE_URL=postgres://USER@HOST:5432/DB",
    "needs Redis": "Redis: run redis-server, or set TEST_REDIS_URL=redis://HOST:6379/N",
}


def service_skip_summary(reasons: list[str]) -> list[str]:
    """One line per missing service: how many tests it skipped and how to provide it."""
    lines = []
    for marker, hint in _SERVICE_HINTS.items():
        count = sum(1 for reason in reasons if marker in reason)
        if count:
            lines.append(
                f"{count} tests skipped: they need {hint}" if count != 1 else f"1 test skipped: it needs {hint}"
            )
    return lines


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say once, at the end, why tests were skipped (make test on SQLite skips the PostgreSQL ones)."""
    reasons = []
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        if isinstance(longrepr, tuple) and len(longrepr) == 3:
            reasons.append(str(longrepr[2]))
    for line in service_skip_summary(reasons):
        terminalreporter.write_line(line, yellow=True)
