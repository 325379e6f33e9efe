"""Outages with real sockets (issue 11 point 2): a database and a Redis that accept connections and never answer,
and ports where nothing listens. The service runs in a separate process pointed at them (the suite's own database
connection keeps working); every answer arrives within the configured timeouts, in the face's own error format.
Upper bounds are generous (a loaded CI machine); nothing here sleeps."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.db import OperationalError, connection, transaction

from billing_project.outage import dependency_failure
from tests.outage import closed_port, silent_server

ROOT = Path(__file__).resolve().parents[2]
#: DATABASE_CONNECT_TIMEOUT (2 s, libpq's minimum) and HEALTHZ_TIMEOUT_SECONDS (1.5 s), with room for a busy CI.
DB_BOUND = 8.0
HEALTH_BOUND = 5.0


@contextmanager
def service(**env: str) -> Iterator[str]:
    """The service in a child process with ``env``; yields its base URL."""
    child_env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_ENV": "development",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.outage_server"],
            cwd=ROOT,
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()  # blocks until the child listens (or dies)
            if not line.startswith("PORT "):
                log.seek(0)
                raise AssertionError(f"the service did not start: {line!r} {log.read()[-2000:]!r}")
            yield f"http://127.0.0.1:{int(line.split()[1])}"
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(scope="module", params=["silent", "refusing"])
def broken(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """The service with its database and its broker both silent (accept, never answer) or both refusing."""
    with ExitStack() as stack:
        if request.param == "silent":
            db_port = stack.enter_context(silent_server())
            redis_port = stack.enter_context(silent_server())
        else:
            db_port, redis_port = closed_port(), closed_port()
        url = stack.enter_context(
            service(
                DATABASE_URL=f"postgres://postgres@127.0.0.1:{db_port}/billing",
                CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_port}/0",
            )
        )
        yield request.param, url


def _timed(method: str, url: str, **kwargs: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.request(method, url, timeout=60, **kwargs)
    return response, time.monotonic() - started


def test_healthz_reports_both_dependencies_down_within_its_deadline(broken: tuple[str, str]) -> None:
    kind, url = broken
    response, elapsed = _timed("GET", f"{url}/healthz")
    assert elapsed < HEALTH_BOUND
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert (body["database"]["ok"], body["broker"]["ok"]) == (False, False)
    if kind == "silent":  # nothing answered before the deadline
        assert (body["database"]["error"], body["broker"]["error"]) == ("timeout", "timeout")
    else:  # refused at once: the real reason
        assert body["database"]["error"] == "OperationalError"
        assert body["broker"]["error"] == "OperationalError"


def test_a_rest_request_fails_fast_with_a_503_in_the_rest_format(broken: tuple[str, str]) -> None:
    _, url = broken
    response, elapsed = _timed("GET", f"{url}/api/v1/demands/", headers={"Authorization": "Token " + "a" * 40})
    assert elapsed < DB_BOUND
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Retry-After"] == "5"
    assert response.json() == {
        "code": "DATABASE_UNAVAILABLE",
        "message": "The database is unavailable; nothing was changed. Try again later.",
        "fields": {},
    }


def test_a_failure_in_a_middleware_before_any_view_is_a_503_too(broken: tuple[str, str]) -> None:
    """The Idempotency-Key middleware reaches the database before the view: still a 503 with a code."""
    _, url = broken
    response, elapsed = _timed(
        "POST",
        f"{url}/api/v1/billing-runs/",
        json={"tenant": "pb.amritsar", "business_service": "PT"},
        headers={"Authorization": "Token " + "a" * 40, "Idempotency-Key": "k-1"},
    )
    assert elapsed < DB_BOUND
    assert (response.status_code, response.json()["code"]) == (503, "DATABASE_UNAVAILABLE")


def test_a_digit_request_fails_fast_with_a_503_in_the_digit_envelope(broken: tuple[str, str]) -> None:
    _, url = broken
    response, elapsed = _timed(
        "POST",
        f"{url}/billing-service/demand/_search?tenantId=pb.amritsar",
        json={"RequestInfo": {"apiId": "Rainmaker", "authToken": "b" * 40}},
    )
    assert elapsed < DB_BOUND
    assert response.status_code == 503
    assert response.json() == {
        "ResponseInfo": None,
        "Errors": [
            {
                "code": "DATABASE_UNAVAILABLE",
                "message": "The database is unavailable; nothing was changed. Try again later.",
                "description": None,
                "params": None,
            }
        ],
    }


# --- in this process: a statement timeout and a lock timeout on the real test database ------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_cancelled_statement_is_a_database_timeout() -> None:
    def slow_statement() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = '50ms'")
            cursor.execute("SELECT pg_sleep(5)")

    with pytest.raises(OperationalError) as caught:
        slow_statement()
    failure = dependency_failure(caught.value)
    assert failure is not None
    assert failure.code == "DATABASE_TIMEOUT"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_request_that_waits_on_a_lock_past_the_lock_timeout_is_a_503_database_busy(api_client_for) -> None:
    """Another transaction holds the consumer's account: the demand write waits on it, the lock timeout ends the
    wait, and the answer is a 503 with a code — nothing written."""
    import io

    from django.core.management import call_command

    from demands.models import ConsumerAccount, Demand
    from tests.concurrency import rows_locked_elsewhere

    call_command("load_mdms", "masters/fixtures/mdms", stdout=io.StringIO())
    client = api_client_for("clerk", {"pb.amritsar": ["EMPLOYEE"]})
    body = {
        "tenant": "pb.amritsar",
        "consumer_code": "PT-LOCK-1",
        "consumer_type": "B",
        "business_service": "PT",
        "tax_period_from": "2018-04-01T00:00:00Z",
        "tax_period_to": "2019-03-30T00:00:00Z",
        "details": [{"tax_head_code": "PT_TAX", "tax_amount": "10.00"}],
    }
    assert client.post("/api/v1/demands/", body, format="json").status_code == 201
    later = {**body, "tax_period_from": "2019-04-01T00:00:00Z", "tax_period_to": "2020-03-30T00:00:00Z"}
    with rows_locked_elsewhere(ConsumerAccount.objects.filter(consumer_code="PT-LOCK-1"), lock_timeout="200ms"):
        response = client.post("/api/v1/demands/", later, format="json")
    assert response.status_code == 503, response.content
    assert response.json() == {
        "code": "DATABASE_BUSY",
        "message": "The database is busy with a conflicting change. Try again.",
        "fields": {},
    }
    assert response["Retry-After"] == "5"
    assert Demand.objects.filter(consumer_code="PT-LOCK-1").count() == 1


def test_the_database_and_broker_timeouts_are_configured() -> None:
    from django.conf import settings

    from billing_project.celery import app

    options = connection.settings_dict["OPTIONS"]
    if connection.vendor == "postgresql":
        assert options["connect_timeout"] == settings.DATABASE_CONNECT_TIMEOUT == 2
        assert "-c statement_timeout=30000" in options["options"]
        assert "-c idle_in_transaction_session_timeout=300000" in options["options"]
        assert (options["keepalives"], options["tcp_user_timeout"]) == (1, 10_000)
    transport = app.conf.broker_transport_options
    assert (transport["socket_connect_timeout"], transport["socket_timeout"], transport["max_retries"]) == (1.0, 2.0, 1)
    assert app.conf.broker_connection_timeout == 1.0
    assert app.conf.task_publish_retry_policy["max_retries"] == 1
