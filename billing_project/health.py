"""``/healthz``: is the database answering, is the broker reachable."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "down"; the reason is reported
        return {"ok": False, "vendor": connection.vendor, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor}


def _broker() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "in-process"}
    from billing_project.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # unreachable broker: reported, not raised
        return {
            "ok": False,
            "mode": "broker",
            "transport": app.conf.broker_url.split(":", 1)[0],
            "error": type(exc).__name__,
        }
    return {"ok": True, "mode": "broker", "transport": app.conf.broker_url.split(":", 1)[0]}


def healthz(request: HttpRequest) -> JsonResponse:
    database, broker = _database(), _broker()
    healthy = database["ok"] and broker["ok"]
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "database": database, "broker": broker},
        status=200 if healthy else 503,
    )
