"""Authentication on both faces, against test-only views (this module is the URLconf of its tests)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import path
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from billing_project import clock
from billing_project.digit.timeconv import to_epoch_ms
from billing_project.digit.views import DigitAPIView
from masters.access import caller_for
from masters.models import Role


class WhoAmI(APIView):
    """A REST view with the project's default authentication and permission classes."""

    def get(self, request: Request) -> Response:
        return Response({"username": caller_for(request.user).username})


class Echo(DigitAPIView):
    def post(self, request: Request) -> Response:
        return self.envelope(request, {"Echo": caller_for(request.user).username})


urlpatterns = [
    path("rest/whoami", WhoAmI.as_view()),
    path("digit/echo", Echo.as_view()),
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

REQUEST_INFO = {
    "apiId": "Rainmaker",
    "ver": ".01",
    "ts": 1_700_000_000_123,
    "action": "_create",
    "did": "1",
    "key": "",
    "msgId": "20170310130900|en_IN",
}
NOW = dt.datetime(2026, 5, 1, 6, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(user_factory: Any) -> tuple[Any, str]:
    user = user_factory("alice", {"pb.amritsar": [Role.EMPLOYEE]})
    return user, Token.objects.create(user=user).key


@pytest.fixture
def bob(user_factory: Any) -> tuple[Any, str]:
    user = user_factory("bob", {"pb.jalandhar": [Role.CASHIER]})
    return user, Token.objects.create(user=user).key


def whoami(**headers: str) -> Any:
    return APIClient().get("/rest/whoami", **headers)


def echo(body: Any = None, *, raw: str | None = None, **headers: str) -> Any:
    client = APIClient()
    if raw is not None:
        return client.post("/digit/echo", data=raw, content_type="application/json", **headers)
    return client.post("/digit/echo", data=body, format="json", **headers)


# --- REST face -------------------------------------------------------------------------------


@pytest.mark.parametrize("keyword", ["Token", "Bearer", "bearer", "TOKEN"])
def test_rest_accepts_token_and_bearer_keywords(alice, keyword):
    _, key = alice
    response = whoami(HTTP_AUTHORIZATION=f"{keyword} {key}")
    assert (response.status_code, response.json()) == (200, {"username": "alice"})


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Token 0123456789abcdef0123456789abcdef01234567", "Invalid token."),
        ("Bearer nope", "Invalid token."),
        ("Bearer", "Invalid token header. No credentials provided."),
        ("Token", "Invalid token header. No credentials provided."),
        ("Bearer one two", "Invalid token header. Token string should not contain spaces."),
        ("Bearer " + "a" * 41, "Invalid token."),
    ],
)
def test_rest_refuses_a_bad_token_with_401(alice, header, message):
    response = whoami(HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json() == {"code": "AUTHENTICATION_FAILED", "message": message, "fields": {}}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_rest_refuses_the_token_of_an_inactive_user(alice):
    user, key = alice
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = whoami(HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    assert response.json() == {"code": "AUTHENTICATION_FAILED", "message": "User inactive or deleted.", "fields": {}}


@pytest.mark.parametrize("headers", [{}, {"HTTP_AUTHORIZATION": "Basic YWxpY2U6cHc="}])
def test_rest_without_a_token_is_401_not_authenticated(alice, headers):
    response = whoami(**headers)
    assert response.status_code == 401
    assert response.json() == {
        "code": "NOT_AUTHENTICATED",
        "message": "Authentication credentials were not provided.",
        "fields": {},
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_rest_accepts_a_session(alice, client):
    client.force_login(alice[0])
    response = client.get("/rest/whoami")
    assert (response.status_code, response.json()) == (200, {"username": "alice"})


# --- DIGIT face ------------------------------------------------------------------------------


def test_digit_token_in_request_info_and_response_info_echo(alice):
    _, key = alice
    response = echo({"RequestInfo": {**REQUEST_INFO, "authToken": key}, "Demands": []})
    assert response.status_code == 200
    assert response.json() == {
        "ResponseInfo": {
            "apiId": "Rainmaker",
            "ver": ".01",
            "ts": 1_700_000_000_123,
            "resMsgId": None,
            "msgId": "20170310130900|en_IN",
            "status": "200 OK",
        },
        "Echo": "alice",
    }


@pytest.mark.parametrize(
    "body",
    [
        {"requestinfo": {"authtoken": "KEY"}},
        {"REQUESTINFO": {"AuthToken": "KEY"}},
        {"RequestInfo": {"authtoken": "KEY"}, "requestinfo": {"authToken": "ignored"}},
    ],
    ids=["lower-case", "upper-case", "exact-key-preferred"],
)
def test_digit_request_info_keys_are_case_insensitive(alice, body):
    _, key = alice
    body = {name: {k: (key if v == "KEY" else v) for k, v in value.items()} for name, value in body.items()}
    response = echo(body)
    assert (response.status_code, response.json()["Echo"]) == (200, "alice")


@pytest.mark.parametrize("keyword", ["Bearer", "Token"])
def test_digit_token_in_authorization_header(alice, keyword):
    _, key = alice
    response = echo({"RequestInfo": REQUEST_INFO}, HTTP_AUTHORIZATION=f"{keyword} {key}")
    assert (response.status_code, response.json()["Echo"]) == (200, "alice")


def test_digit_empty_body_with_header_gets_a_response_info_stamped_now(alice):
    _, key = alice
    with clock.frozen(NOW):
        response = echo(raw="", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert response.json() == {
        "ResponseInfo": {
            "apiId": None,
            "ver": None,
            "ts": to_epoch_ms(NOW),
            "resMsgId": None,
            "msgId": None,
            "status": "200 OK",
        },
        "Echo": "alice",
    }


def test_digit_user_info_never_decides_identity(alice, bob):
    _, key = alice
    user_info = {
        "id": bob[0].pk,
        "uuid": "11111111-2222-3333-4444-555555555555",
        "userName": "bob",
        "type": "SYSTEM",
        "roles": [{"code": "SUPERUSER", "tenantId": "pb"}],
        "tenantId": "pb",
    }
    response = echo({"RequestInfo": {**REQUEST_INFO, "authToken": key, "userInfo": user_info}})
    assert (response.status_code, response.json()["Echo"]) == (200, "alice")
    # and a userInfo with no token is no identity at all
    response = echo({"RequestInfo": {**REQUEST_INFO, "userInfo": user_info}})
    assert response.status_code == 401


def test_digit_request_info_token_is_checked_before_the_header(alice, bob):
    _, alice_key = alice
    _, bob_key = bob
    response = echo({"RequestInfo": {"authToken": bob_key}}, HTTP_AUTHORIZATION=f"Bearer {alice_key}")
    assert (response.status_code, response.json()["Echo"]) == (200, "bob")
    response = echo({"RequestInfo": {"authToken": "stale"}}, HTTP_AUTHORIZATION=f"Bearer {alice_key}")
    assert response.status_code == 401
    assert response.json()["Errors"][0]["code"] == "InvalidAccessTokenException"


@pytest.mark.parametrize("body", [{"RequestInfo": REQUEST_INFO}, {}, None, {"RequestInfo": {"authToken": ""}}])
def test_digit_missing_token_is_401_in_the_errors_envelope(alice, body):
    response = echo(body) if body is not None else echo(raw="")
    assert response.status_code == 401
    assert response.json() == {
        "ResponseInfo": None,
        "Errors": [
            {
                "code": "AUTHENTICATION_REQUIRED",
                "message": "An auth token is required in RequestInfo.authToken or the Authorization header",
                "description": None,
                "params": None,
            }
        ],
    }


@pytest.mark.parametrize(
    ("request_info", "headers"),
    [
        ({"authToken": "not-a-token"}, {}),
        ({"authToken": "x" * 500}, {}),
        ({}, {"HTTP_AUTHORIZATION": "Bearer not-a-token"}),
    ],
    ids=["unknown", "long", "header"],
)
def test_digit_invalid_token_is_401_in_the_errors_envelope(alice, request_info, headers):
    response = echo({"RequestInfo": request_info}, **headers)
    assert response.status_code == 401
    assert response.json() == {
        "ResponseInfo": None,
        "Errors": [
            {
                # DIGIT's web apps look for this text (code or message) to send the user back to the login page
                "code": "InvalidAccessTokenException",
                "message": "InvalidAccessTokenException: the access token is invalid or has expired",
                "description": "Invalid token.",
                "params": None,
            }
        ],
    }


def test_a_nul_in_the_token_is_refused_at_the_boundary_before_authentication(alice):
    # billing_project/boundary.py refuses every NUL before a view runs (this test URL is outside the API prefixes,
    # so the refusal is plain text; under them it is MALFORMED_REQUEST in the face's format).
    response = echo({"RequestInfo": {"authToken": "nul\u0000byte"}})
    assert (response.status_code, response.content) == (400, b"NUL characters are not accepted (found in the body).")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            '{"RequestInfo": ',
            "The request body is not valid JSON: JSON parse error - Expecting value: line 1 column 17 (char 16)",
        ),
        (
            "{'RequestInfo': {}}",
            "The request body is not valid JSON: JSON parse error - "
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        ("[1, 2]", "The request body must be a JSON object"),
        ('{"RequestInfo": "token"}', "RequestInfo must be a JSON object"),
        ('{"RequestInfo": {"ts": "yesterday"}}', "RequestInfo.ts must be epoch milliseconds"),
        ('{"RequestInfo": {"authToken": {"key": "x"}}}', "RequestInfo.authToken must be a text value"),
    ],
)
def test_digit_malformed_request_is_400_before_authentication(alice, raw, message):
    _, key = alice
    for headers in ({}, {"HTTP_AUTHORIZATION": f"Bearer {key}"}):
        response = echo(raw=raw, **headers)
        assert response.status_code == 400
        assert response.json() == {
            "ResponseInfo": None,
            "Errors": [{"code": "MALFORMED_REQUEST", "message": message, "description": None, "params": None}],
        }


def test_digit_face_is_post_only(alice):
    _, key = alice
    response = APIClient().get("/digit/echo", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 405
    assert response.json() == {
        "ResponseInfo": None,
        "Errors": [
            {"code": "MethodNotAllowed", "message": 'Method "GET" not allowed.', "description": None, "params": None}
        ],
    }
