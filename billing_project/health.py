"""``/healthz``: is the database answering, is the broker reachable — within ``HEALTHZ_TIMEOUT_SECONDS``.

Both probes run at once, each in a thread of its own, and the answer waits for them at most
``HEALTHZ_TIMEOUT_SECONDS`` (1.5 s by default): a dependency that is down fails its probe within its connect
timeout, and one that is silent is reported ``"error": "timeout"`` when the deadline passes — the answer never
waits for it. A probe still hanging from an earlier call is not started again (reported as timed out), so a
silent dependency does not pile up threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse

_running: dict[str, Future[dict[str, Any]]] = {}  # the last probe of each dependency (broker: per URL)
_lock = threading.Lock()


def _database() -> dict[str, Any]:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "down"; the reason is reported
        return {"ok": False, "vendor": connection.vendor, "error": type(exc).__name__}
    finally:
        connection.close()  # the probe's own connection, in its own thread
    return {"ok": True, "vendor": connection.vendor}


def _transport() -> str:
    from billing_project.celery import app

    return str(app.conf.broker_url).split(":", 1)[0]


def _broker() -> dict[str, Any]:
    from billing_project.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=settings.HEALTHZ_TIMEOUT_SECONDS)
    except Exception as exc:  # unreachable broker: reported, not raised
        return {"ok": False, "mode": "broker", "transport": _transport(), "error": type(exc).__name__}
    return {"ok": True, "mode": "broker", "transport": _transport()}


def _start(name: str, probe: Callable[[], dict[str, Any]]) -> Future[dict[str, Any]]:
    """Run ``probe`` in a daemon thread (unless the previous one is still running: that one is returned)."""
    with _lock:
        running = _running.get(name)
        if running is not None and not running.done():
            return running
        future: Future[dict[str, Any]] = Future()

        def run() -> None:
            try:
                future.set_result(probe())
            except BaseException as exc:  # pragma: no cover - the probes catch their errors
                future.set_exception(exc)

        _running[name] = future
        threading.Thread(target=run, name=f"healthz-{name}", daemon=True).start()
        return future


def _outcome(future: Future[dict[str, Any]], timeout: float, timed_out: dict[str, Any]) -> dict[str, Any]:
    try:
        return future.result(timeout=max(timeout, 0.0))
    except TimeoutError:
        return timed_out


def healthz(request: HttpRequest) -> JsonResponse:
    from billing_project.celery import app

    deadline = time.monotonic() + settings.HEALTHZ_TIMEOUT_SECONDS
    database_probe = _start("database", _database)
    broker: dict[str, Any]
    if app.conf.task_always_eager:
        broker = {"ok": True, "mode": "in-process"}
        broker_probe = None
    else:
        broker_probe = _start(f"broker {app.conf.broker_url}", _broker)
    database = _outcome(
        database_probe,
        deadline - time.monotonic(),
        {"ok": False, "vendor": connections["default"].vendor, "error": "timeout"},
    )
    if broker_probe is not None:
        broker = _outcome(
            broker_probe,
            deadline - time.monotonic(),
            {"ok": False, "mode": "broker", "transport": _transport(), "error": "timeout"},
        )
    healthy = database["ok"] and broker["ok"]
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "database": database, "broker": broker},
        status=200 if healthy else 503,
    )
