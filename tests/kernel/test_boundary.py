"""The API boundary (billing_project/boundary.py): NULs, deep JSON and oversized bodies are refused before anything
parses them, and every error under an API prefix is JSON in the face's format (issue 11, points 1, 6, 12, 13)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from django.urls import get_resolver
from rest_framework.test import APIClient

from billing_project.boundary import MAX_JSON_DEPTH, json_depth_exceeds
from payments.gateway.models import GatewayCallback

pytestmark = pytest.mark.django_db

DEEP = ("[" * 1000 + "]" * 1000).encode()
DEEP_BODY = b'{"RequestInfo": {}, "x": ' + DEEP + b"}"

NUL_BODY = {
    "ResponseInfo": None,
    "Errors": [
        {
            "code": "MALFORMED_REQUEST",
            "message": "NUL characters are not accepted (found in the body).",
            "description": None,
            "params": None,
        }
    ],
}
DEEP_DIGIT = {
    "ResponseInfo": None,
    "Errors": [
        {
            "code": "MALFORMED_REQUEST",
            "message": "JSON nested deeper than 64 levels of arrays and objects is not accepted.",
            "description": None,
            "params": None,
        }
    ],
}
DEEP_REST = {
    "code": "MALFORMED_REQUEST",
    "message": "JSON nested deeper than 64 levels of arrays and objects is not accepted.",
    "fields": {},
}


def _routes() -> list[str]:
    """Every URL pattern of the API faces as a concrete path (converters filled with a plausible value)."""
    out: list[str] = []

    def walk(resolver: Any, prefix: str) -> None:
        for pattern in resolver.url_patterns:
            text = prefix + str(pattern.pattern)
            if hasattr(pattern, "url_patterns"):
                walk(pattern, text)
            else:
                path = re.sub(r"<(?:\w+:)?\w+>", "1", re.sub(r"\(\?P<\w+>(?:[^()]|\([^()]*\))*\)", "1", text))
                out.append("/" + path.replace("^", "").replace("$", "").replace("\\Z", ""))

    walk(get_resolver(), "")
    return sorted({p for p in out if p.startswith(("/api/v1/", "/billing-service/", "/collection-services/"))})


def _digit_paths() -> list[str]:
    return [p for p in _routes() if p.startswith(("/billing-service/", "/collection-services/"))]


def _rest_paths() -> list[str]:
    return [p for p in _routes() if p.startswith("/api/v1/") and "format" not in p]


def test_the_depth_scan_counts_brackets_outside_strings_only():
    assert not json_depth_exceeds(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert json_depth_exceeds(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    brackets_in_a_string = b'{"a": "' + b"[{" * 500 + b'\\"[[["}'
    assert not json_depth_exceeds(brackets_in_a_string)
    assert json_depth_exceeds(b'{"a": "x\\\\", "b": ' + b"[" * 70 + b"]" * 70 + b"}")


def test_deep_json_is_a_400_on_every_digit_endpoint_before_authentication(caplog):
    caplog.set_level(logging.INFO)
    paths = _digit_paths()
    assert len(paths) >= 20
    for path in paths:
        response = APIClient().post(path, data=DEEP_BODY, content_type="application/json")
        assert (response.status_code, response.json()) == (400, DEEP_DIGIT), path
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert not any(r.exc_info for r in caplog.records)


def test_deep_json_is_a_400_on_every_rest_write(api_client_for, caplog):
    client = api_client_for("admin", {"pb": ["BILLING_ADMIN", "EMPLOYEE", "CASHIER"]})
    caplog.set_level(logging.INFO)
    for path in _rest_paths():
        for method in (client.post, client.put, client.patch):
            response = method(path, data=DEEP_BODY, content_type="application/json")
            assert (response.status_code, response.json()) == (400, DEEP_REST), path
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_shallow_json_with_many_brackets_passes():
    body = b'{"RequestInfo": {}, "x": [' + b"[1]," * 200 + b"[1]]}"
    response = APIClient().post(
        "/billing-service/demand/_search?tenantId=pb.amritsar", body, content_type="application/json"
    )
    assert response.status_code == 401  # reached the view: it asks for a token


def test_nul_in_a_digit_search_query_is_a_400_naming_the_parameter(api_client_for):
    client = api_client_for("emp", {"pb.amritsar": ["EMPLOYEE"]})
    response = client.post(
        "/billing-service/demand/_search?tenantId=pb.amritsar&consumerCode=%00", {"RequestInfo": {}}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "ResponseInfo": None,
        "Errors": [
            {
                "code": "MALFORMED_REQUEST",
                "message": "consumerCode: NUL characters are not accepted.",
                "description": None,
                "params": ["consumerCode"],
            }
        ],
    }


def test_nul_in_a_rest_query_is_a_400_naming_the_parameter(api_client_for):
    client = api_client_for("emp", {"pb.amritsar": ["EMPLOYEE"]})
    response = client.get("/api/v1/demands/?consumer_code=a%00b")
    assert (response.status_code, response.json()) == (
        400,
        {
            "code": "MALFORMED_REQUEST",
            "message": "NUL characters are not accepted (found in the query string).",
            "fields": {"consumer_code": ["NUL characters are not accepted."]},
        },
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"RequestInfo": {}, "Demands": [{"consumerCode": "a\x00b"}]}',
        b'{"RequestInfo": {}, "Demands": [{"consumerCode": "a\\u0000b"}]}',
        b'{"RequestInfo": {"msgId": "\\U0000"}, "x": 1}',
    ],
    ids=["raw", "escaped", "escaped-upper-case"],
)
def test_nul_in_a_digit_body_is_a_400_before_authentication(body):
    response = APIClient().post("/billing-service/demand/_create", data=body, content_type="application/json")
    if b"U0000" in body:  # \U is not a JSON escape: that body is malformed JSON, refused by the parser
        assert response.status_code == 400
        assert response.json()["Errors"][0]["code"] == "MALFORMED_REQUEST"
        return
    assert (response.status_code, response.json()) == (400, NUL_BODY)


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul():
    body = b'{"RequestInfo": {"msgId": "\\\\u0000"}}'
    response = APIClient().post(
        "/billing-service/demand/_search?tenantId=pb.amritsar", body, content_type="application/json"
    )
    assert response.status_code == 401  # reached the view


def test_nul_in_the_gateway_callback_is_a_400_and_not_stored():
    body = b'{"event_id": "evt\\u0000", "status": "SUCCESS"}'
    response = APIClient().post("/api/v1/gateway/callbacks/sandbox/", data=body, content_type="application/json")
    assert (response.status_code, response.json()) == (
        400,
        {"code": "MALFORMED_REQUEST", "message": "NUL characters are not accepted (found in the body).", "fields": {}},
    )
    assert GatewayCallback.objects.count() == 0


def test_nul_in_the_path_and_in_headers_is_a_400(api_client_for):
    client = api_client_for("emp", {"pb.amritsar": ["EMPLOYEE"]})
    response = client.get("/api/v1/payers/a%00b/")
    assert (response.status_code, response.json()) == (
        400,
        {"code": "MALFORMED_REQUEST", "message": "NUL characters are not accepted (found in the path).", "fields": {}},
    )
    response = client.get("/api/v1/demands/", HTTP_X_SOMETHING="a\x00b")
    assert response.status_code == 400
    assert response.json()["message"] == "NUL characters are not accepted (found in the headers)."


def test_nul_in_a_multipart_field_is_a_400(api_client_for):
    client = api_client_for("cashier", {"pb.amritsar": ["CASHIER"]})
    response = client.post("/api/v1/payment-imports/", {"kind": "OFFLINE", "tenant": "pb\x00x"}, format="multipart")
    assert (response.status_code, response.json()) == (
        400,
        {
            "code": "MALFORMED_REQUEST",
            "message": "NUL characters are not accepted (found in the form fields).",
            "fields": {},
        },
    )


def test_nul_in_an_admin_form_is_a_plain_400(client):
    response = client.post(
        "/admin/login/", "username=a%00b&password=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"


def test_a_body_over_the_limit_is_a_413_in_each_face(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = b'{"RequestInfo": {}, "x": "' + b"a" * 2000 + b'"}'
    digit = APIClient().post(
        "/billing-service/demand/_search?tenantId=pb.amritsar", big, content_type="application/json"
    )
    assert (digit.status_code, digit.json()) == (
        413,
        {
            "ResponseInfo": None,
            "Errors": [
                {
                    "code": "REQUEST_TOO_LARGE",
                    "message": "Request bodies are limited to 1000 bytes.",
                    "description": None,
                    "params": None,
                }
            ],
        },
    )
    rest = APIClient().post("/api/v1/payers/", big, content_type="application/json")
    assert (rest.status_code, rest.json()) == (
        413,
        {"code": "REQUEST_TOO_LARGE", "message": "Request bodies are limited to 1000 bytes.", "fields": {}},
    )


def test_a_500_under_the_digit_prefixes_answers_the_digit_envelope(monkeypatch, caplog):
    from billing_project.digit import views

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.DigitAPIView, "initial", boom)
    client = APIClient(raise_request_exception=False)
    for path in ("/billing-service/demand/_search", "/collection-services/payments/_search"):
        response = client.post(path, {"RequestInfo": {}}, format="json")
        assert (response.status_code, response.json()) == (
            500,
            {
                "ResponseInfo": None,
                "Errors": [
                    {
                        "code": "INTERNAL_ERROR",
                        "message": "The server failed to handle the request; it has been logged.",
                        "description": None,
                        "params": None,
                    }
                ],
            },
        )
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)  # a bug is still logged


DIGIT_404 = {
    "ResponseInfo": None,
    "Errors": [{"code": "NOT_FOUND", "message": "No such resource.", "description": None, "params": None}],
}
REST_404 = {"code": "NOT_FOUND", "message": "No such resource.", "fields": {}}


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_unknown_urls_and_bad_ids_answer_json_in_the_face_format(api_client_for, settings, debug):
    settings.DEBUG = debug
    client = api_client_for("emp", {"pb.amritsar": ["EMPLOYEE"]})
    for path in ("/api/v1/no-such-thing/", "/api/v1/bills/not-a-uuid/", "/api/v1/tenants/a/b/c/", "/api/nothing"):
        response = client.get(path)
        assert (response.status_code, response["Content-Type"], response.json()) == (
            404,
            "application/json",
            REST_404,
        ), path
    for path in ("/billing-service/no/_search", "/collection-services/payments/x/y/z", "/billing-service/"):
        response = client.post(path, {"RequestInfo": {}}, format="json")
        assert (response.status_code, response["Content-Type"], response.json()) == (
            404,
            "application/json",
            DIGIT_404,
        ), path


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_a_missing_slash_under_the_api_is_a_json_404_not_a_redirect(api_client_for, settings, debug):
    settings.DEBUG = debug
    client = api_client_for("emp", {"pb.amritsar": ["EMPLOYEE"]})
    assert (client.get("/api/v1/demands").status_code, client.get("/api/v1/demands").json()) == (404, REST_404)
    response = client.post("/api/v1/payers", {"name": "x"}, format="json")
    assert (response.status_code, response.json()) == (404, REST_404)


def test_wrong_methods_answer_json_in_the_face_format(api_client_for):
    client = api_client_for("emp", {"pb.amritsar": ["EMPLOYEE"]})
    digit = client.get("/billing-service/demand/_search?tenantId=pb.amritsar")
    assert digit.status_code == 405
    assert digit.json() == {
        "ResponseInfo": None,
        "Errors": [
            {"code": "MethodNotAllowed", "message": 'Method "GET" not allowed.', "description": None, "params": None}
        ],
    }
    rest = client.delete("/api/v1/demands/")
    assert (rest.status_code, rest.json()) == (
        405,
        {"code": "METHOD_NOT_ALLOWED", "message": 'Method "DELETE" not allowed.', "fields": {}},
    )


def test_html_error_pages_under_the_api_prefixes_become_json(settings):
    """Whatever Django itself answers with a page (here a CSRF failure of the admin's kind) becomes JSON."""
    from django.http import HttpResponseForbidden

    from billing_project.boundary import BoundaryMiddleware

    def page(request: Any) -> Any:
        return HttpResponseForbidden("<h1>Forbidden</h1>", content_type="text/html")

    middleware = BoundaryMiddleware(page)
    from django.test import RequestFactory

    rest = middleware(RequestFactory().get("/api/v1/anything/"))
    assert (rest.status_code, rest["Content-Type"]) == (403, "application/json")
    digit = middleware(RequestFactory().post("/billing-service/x", b"{}", content_type="application/json"))
    assert digit.status_code == 403
    assert digit["Content-Type"] == "application/json"
    assert b'"Errors"' in digit.content
    outside = middleware(RequestFactory().get("/admin/"))
    assert outside["Content-Type"] == "text/html"


def test_the_csrf_failure_view_answers_in_the_face_format():
    from django.test import RequestFactory

    from billing_project.boundary import csrf_failure

    response = csrf_failure(RequestFactory().post("/billing-service/x"), reason="CSRF cookie not set.")
    assert (response.status_code, response.content) == (
        403,
        b'{"ResponseInfo": null, "Errors": [{"code": "CSRF_FAILED", "message": "CSRF verification failed: CSRF '
        b'cookie not set.", "description": null, "params": null}]}',
    )
