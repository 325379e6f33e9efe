"""Logs never carry a credential sent in a query string, each line is written once, and the API docs are public
but hold no tenant data (issue 11, point 16)."""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from billing_project.logging import RedactSecretsFilter, redact_query

SECRET = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"/x?access_token={SECRET}", "/x?access_token=[REDACTED]"),
        (f"GET /x?a=1&authToken={SECRET}&b=2 HTTP/1.1", "GET /x?a=1&authToken=[REDACTED]&b=2 HTTP/1.1"),
        (f"token={SECRET}&x=1", "token=[REDACTED]&x=1"),
        (f"/x?API_KEY={SECRET}", "/x?API_KEY=[REDACTED]"),
        ("/x?tenantId=pb&consumerCode=PT-1", "/x?tenantId=pb&consumerCode=PT-1"),
        ("/x?mytoken=kept", "/x?mytoken=kept"),
        ("no query at all", "no query at all"),
    ],
)
def test_redact_query(text, expected):
    assert redact_query(text) == expected


@pytest.fixture
def console_lines() -> Iterator[io.StringIO]:
    """What the configured console handler writes (JSON lines), captured."""
    [handler] = [h for h in logging.getLogger().handlers if any(isinstance(f, RedactSecretsFilter) for f in h.filters)]
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


@pytest.mark.django_db
def test_a_token_in_the_query_string_is_refused_and_not_logged(console_lines):
    digit = APIClient().post(
        f"/billing-service/demand/_search?tenantId=pb.amritsar&access_token={SECRET}", {}, format="json"
    )
    rest = APIClient().get(f"/api/v1/no-such-list/?token={SECRET}")
    assert (digit.status_code, rest.status_code) == (401, 404)
    written = console_lines.getvalue()
    lines = [json.loads(line) for line in written.splitlines()]
    assert any("access_token=[REDACTED]" in line.get("request", "") for line in lines), written
    assert any("token=[REDACTED]" in line.get("request", "") for line in lines), written
    assert SECRET not in written


def test_django_loggers_write_through_the_one_json_handler_only():
    """Django's own config gave "django" and "django.server" handlers of their own: every line came out twice
    (plain text and JSON) in the dev server."""
    for name in ("django", "django.server", "django.request"):
        logger = logging.getLogger(name)
        assert (logger.handlers, logger.propagate) == ([], True), name
    assert [type(h).__name__ for h in logging.getLogger().handlers if h.filters] == ["StreamHandler"]


def test_gunicorn_access_log_atoms_are_redacted_and_its_own_errors_are_json():
    from gunicorn import util

    from billing_project import gunicorn_conf

    req = type(
        "Req",
        (),
        {
            "method": "GET",
            "uri": f"/api/v1/x/?access_token={SECRET}",
            "query": f"access_token={SECRET}",
            "version": (1, 1),
            "headers": [],
            "path": "/api/v1/x/",
        },
    )()
    resp = type("Resp", (), {"status": "200 OK", "headers": [], "response_length": 0, "sent": 0})()
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/api/v1/x/?access_token={SECRET}",
        "QUERY_STRING": f"access_token={SECRET}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    logger = gunicorn_conf.RedactingLogger.__new__(gunicorn_conf.RedactingLogger)
    logger.cfg = type("Cfg", (), {"logconfig_dict": None})()
    import datetime as dt

    atoms = logger.atoms(resp, req, environ, dt.timedelta(seconds=0))
    assert SECRET not in atoms["r"]
    assert atoms["q"] == "access_token=[REDACTED]"

    left, right = socket.socketpair()
    try:
        util.write_error(left, 400, "Bad Request", "Request Line is too large (8192 > 4094)")
        answer = right.recv(65536).decode()
    finally:
        left.close()
        right.close()
    head, body = answer.split("\r\n\r\n", 1)
    assert "Content-Type: application/json" in head
    message = "Request Line is too large (8192 > 4094)"
    assert json.loads(body) == {
        "code": "BAD_REQUEST",
        "message": message,
        "fields": {},
        "ResponseInfo": None,
        "Errors": [{"code": "BAD_REQUEST", "message": message, "description": None, "params": None}],
    }


@pytest.mark.django_db
def test_the_api_schema_and_docs_are_public_and_hold_no_tenant_data(tenant_factory):
    tenant_factory("pb.secretcity")
    schema = APIClient().get("/api/schema/")
    assert schema.status_code == 200
    assert b"secretcity" not in schema.content
    assert APIClient().get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_the_api_docs_can_be_closed(monkeypatch):
    import os
    import subprocess
    import sys

    from drf_spectacular.views import SpectacularAPIView
    from rest_framework.permissions import IsAuthenticated

    closed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from billing_project import settings; print(settings.SPECTACULAR_SETTINGS['SERVE_PERMISSIONS'])",
        ],
        env=os.environ | {"API_DOCS_PUBLIC": "false"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert closed.stdout.strip() == "['rest_framework.permissions.IsAuthenticated']"
    monkeypatch.setattr(SpectacularAPIView, "permission_classes", [IsAuthenticated])  # what that setting gives
    response = APIClient().get("/api/schema/")
    assert (response.status_code, response.json()) == (
        401,
        {"code": "NOT_AUTHENTICATED", "message": "Authentication credentials were not provided.", "fields": {}},
    )
