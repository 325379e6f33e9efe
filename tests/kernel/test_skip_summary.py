"""``make test`` without PostgreSQL or Redis says once, at the end, why tests were skipped (issue 11, point 16)."""

from __future__ import annotations

from tests.conftest import service_skip_summary


def test_one_line_per_missing_service_with_the_count_and_the_remedy():
    reasons = [
        "Skipped: needs PostgreSQL (set DATABASE_URL=postgres://...)",
        "Skipped: needs PostgreSQL (set DATABASE_URL=postgres://...)",
        "Skipped: needs Redis at redis://127.0.0.1:6379/15",
        "Skipped: something else",
    ]
    assert service_skip_summary(reasons) == [
        "2 tests skipped: they need PostgreSQL: set DATABASE_URL=postgres://USER@HOST:5432/DB",
        "1 test skipped: it needs Redis: run redis-server, or set TEST_REDIS_URL=redis://HOST:6379/N",
    ]
    assert service_skip_summary(["Skipped: something else"]) == []
