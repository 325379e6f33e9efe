"""JSON log lines carry the request id; /healthz reports an unreachable or reachable broker."""

from __future__ import annotations

import contextlib
import json
import logging
import os

import pytest
from django.conf import settings as django_settings
from pythonjsonlogger.json import JsonFormatter

from billing_project.logging import RequestIdFilter, request_id_var
from tests.outage import celery_broker


def _formatter() -> JsonFormatter:
    config = django_settings.LOGGING["formatters"]["json"]
    return JsonFormatter(config["fmt"], rename_fields=config["rename_fields"])


def test_log_line_is_json_with_request_id():
    record = logging.LogRecord("billing.test", logging.INFO, __file__, 1, "hello", (), None)
    token = request_id_var.set("req-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(_formatter().format(record))
    assert line["message"] == "hello"
    assert line["level"] == "INFO"
    assert line["logger"] == "billing.test"
    assert line["request_id"] == "req-42"


@pytest.mark.django_db
def test_request_log_records_method_path_status_and_request_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="billing.request"):
        client.get("/healthz", HTTP_X_REQUEST_ID="trace-1")
    [record] = [r for r in caplog.records if r.name == "billing.request"]
    assert (record.method, record.path, record.status) == ("GET", "/healthz", 200)
    assert isinstance(record.duration_ms, float)


@pytest.fixture
def broker():
    """Point Celery at a broker URL (not in-process) for one test, and put it back."""
    with contextlib.ExitStack() as stack:
        yield lambda url: stack.enter_context(celery_broker(url))


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_does_not_answer(client, broker):
    broker("redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert body["broker"]["transport"] == "redis"


@pytest.mark.redis
@pytest.mark.django_db
def test_healthz_is_ok_with_a_reachable_redis_broker(client, broker):
    broker(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == {"ok": True, "mode": "broker", "transport": "redis"}
