"""Identity from DIGIT's egov-user (issue 14 point 1), against a local egov-user server.

A token that is not ours is validated as DIGIT's gateway validates it (``POST /user/_details?access_token=``); the
user egov-user answers — never the ``userInfo`` the client sent — is the caller, with DIGIT roles mapped to ours.
Answers are cached in Redis under a hash of the token; an egov-user that is down or slow is a 503 within the
configured time; a refused token is a 401 whose text DIGIT's web apps recognise.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
import redis
from django.contrib.auth import get_user_model
from django.urls import path
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from billing_project.digit.views import DigitAPIView
from billing_project.urls import urlpatterns as project_urls
from masters.access import caller_for
from masters.models import DigitUser, Role, UserRole
from tests.digit.conftest import REDIS_URL, Digit, post, request_info
from tests.digit.egov_user import closed_port_url, digit_user


class WhoAmI(DigitAPIView):
    def post(self, request: Request) -> Response:
        caller = caller_for(request.user)
        return self.envelope(
            request,
            {
                "username": caller.username,
                "roles": [list(pair) for pair in caller.roles],
                "payerUuid": caller.payer_uuid,
                "payerMobile": caller.payer_mobile,
            },
        )


class RestWhoAmI(APIView):
    def get(self, request: Request) -> Response:
        return Response({"username": caller_for(request.user).username})


urlpatterns = [path("digit/whoami", WhoAmI.as_view()), path("rest/whoami", RestWhoAmI.as_view()), *project_urls]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db, pytest.mark.redis]


def whoami(token: str | None = None, **headers: str) -> Any:
    return post("/digit/whoami", {"RequestInfo": request_info(token)}, **headers)


def test_the_validated_egov_user_is_the_caller_with_mapped_roles(digit: Digit) -> None:
    forged = {"uuid": "someone-else", "type": "EMPLOYEE", "roles": [{"code": "SUPERUSER", "tenantId": "pb"}]}
    response = post("/digit/whoami", {"RequestInfo": request_info(Digit.TOKENS["employee"], user=forged)})
    assert response.status_code == 200
    body = response.json()
    assert (body["username"], body["payerUuid"], body["payerMobile"]) == (digit.employee["uuid"], None, None)
    # EMPLOYEE -> EMPLOYEE; WS_CEMP and CEMP -> EMPLOYEE + CASHIER; all in pb.amritsar; the forged SUPERUSER is not
    assert body["roles"] == [["pb.amritsar", "CASHIER"], ["pb.amritsar", "EMPLOYEE"]]
    [call] = digit.egov.calls("/user/_details")
    assert call["query"] == {"access_token": [Digit.TOKENS["employee"]]}
    assert call["body"] == {"RequestInfo": {"apiId": "billing-service", "authToken": Digit.TOKENS["employee"]}}
    link = DigitUser.objects.select_related("user").get(uuid=digit.employee["uuid"])
    assert (link.user.username, link.user_type, link.tenant_code, link.user_name, link.mobile_number) == (
        digit.employee["uuid"],
        "EMPLOYEE",
        "pb.amritsar",
        "EMP-ASR-01",
        "9888800001",
    )
    assert not link.user.has_usable_password()
    assert sorted(UserRole.objects.filter(user=link.user).values_list("tenant__code", "role")) == [
        ("pb.amritsar", "CASHIER"),
        ("pb.amritsar", "EMPLOYEE"),
    ]


def test_a_citizen_is_the_payer_of_their_uuid_and_mobile(digit: Digit) -> None:
    body = whoami(Digit.TOKENS["citizen"]).json()
    assert body["username"] == digit.citizen["uuid"]
    assert body["roles"] == [["pb", "CITIZEN"]]
    assert (body["payerUuid"], body["payerMobile"]) == (digit.citizen["uuid"], "9876502708")


def test_answers_are_cached_in_redis_by_a_hash_of_the_token(digit: Digit) -> None:
    for _ in range(3):
        assert whoami(Digit.TOKENS["employee"]).status_code == 200
    assert len(digit.egov.calls("/user/_details")) == 1
    client = redis.Redis.from_url(REDIS_URL)
    keys = [key.decode() for key in client.keys("*test-digit-*")]
    digest = hashlib.sha256(Digit.TOKENS["employee"].encode()).hexdigest()
    assert keys
    assert all(digest in key for key in keys)
    assert not any(Digit.TOKENS["employee"] in key for key in keys)
    # nothing is written again on a cached request: the login and its roles stay as they were
    assert DigitUser.objects.count() == 1


def test_an_unknown_token_is_401_with_digits_invalid_token_text_and_the_refusal_is_cached(digit: Digit) -> None:
    for _ in range(2):
        response = whoami("tok-unknown-0001")
        assert response.status_code == 401
        assert response.json() == {
            "ResponseInfo": None,
            "Errors": [
                {
                    "code": "InvalidAccessTokenException",
                    "message": "InvalidAccessTokenException: the access token is invalid or has expired",
                    "description": "InvalidAccessTokenException: the access token is invalid or has expired",
                    "params": None,
                }
            ],
        }
    assert len(digit.egov.calls("/user/_details")) == 1
    assert DigitUser.objects.count() == 0
    assert get_user_model().objects.count() == 0


@pytest.mark.parametrize("fault", ["down", "http_500", "not_json_contract"])
def test_an_egov_user_that_cannot_answer_is_a_503_and_writes_nothing(digit: Digit, settings: Any, fault: str) -> None:
    if fault == "down":
        settings.DIGIT_USER_SERVICE_URL = closed_port_url()
    elif fault == "http_500":
        digit.egov.status = 500
    else:
        digit.egov.tokens[Digit.TOKENS["employee"]] = {"no": "uuid"}
    response = whoami(Digit.TOKENS["employee"])
    assert response.status_code == 503
    [error] = response.json()["Errors"]
    assert error["code"] == "IDENTITY_SERVICE_UNAVAILABLE"
    assert error["message"].startswith("The user service (egov-user) cannot validate the token now")
    assert DigitUser.objects.count() == 0
    # not cached: the next request asks again
    digit.egov.status = None
    if fault == "not_json_contract":
        digit.egov.tokens[Digit.TOKENS["employee"]] = digit.employee
    settings.DIGIT_USER_SERVICE_URL = digit.egov.url
    assert whoami(Digit.TOKENS["employee"]).status_code == 200


def test_a_slow_egov_user_is_cut_off_within_the_timeout(digit: Digit, settings: Any) -> None:
    settings.DIGIT_USER_SERVICE_TIMEOUT = 0.5
    digit.egov.delay = 30  # far longer than the timeout; released at teardown
    started = time.monotonic()
    response = whoami(Digit.TOKENS["employee"])
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "did not answer within 0.5 s" in response.json()["Errors"][0]["message"]
    assert elapsed < 5  # bounded by the timeout (0.5 s), generously for a loaded machine; never the 30 s


def test_the_token_may_come_in_the_auth_token_or_authorization_header(digit: Digit) -> None:
    by_header = post("/digit/whoami", {"RequestInfo": request_info(None)}, HTTP_AUTH_TOKEN=Digit.TOKENS["citizen"])
    assert by_header.json()["username"] == digit.citizen["uuid"]
    bearer = post(
        "/digit/whoami", {"RequestInfo": request_info(None)}, HTTP_AUTHORIZATION=f"Bearer {Digit.TOKENS['system']}"
    )
    assert bearer.json()["username"] == digit.system["uuid"]
    rest = APIClient().get("/rest/whoami", HTTP_AUTHORIZATION=f"Bearer {Digit.TOKENS['employee']}")
    assert rest.json() == {"username": digit.employee["uuid"]}


def test_our_own_tokens_never_reach_egov_user(digit: Digit, user_factory: Any) -> None:
    user = user_factory("local-clerk", {"pb.amritsar": [Role.EMPLOYEE]})
    key = Token.objects.create(user=user).key
    assert whoami(key).json()["username"] == "local-clerk"
    assert digit.egov.received == []


def test_the_role_table_is_configuration(digit: Digit, settings: Any) -> None:
    settings.DIGIT_ROLE_MAP = {"WS_CEMP": ["BILLING_ADMIN"], "EMPLOYEE": []}
    assert whoami(Digit.TOKENS["employee"]).json()["roles"] == [["pb.amritsar", "BILLING_ADMIN"]]


def test_roles_follow_egov_user_when_the_cache_expires(digit: Digit) -> None:
    assert whoami(Digit.TOKENS["employee"]).json()["roles"] == [["pb.amritsar", "CASHIER"], ["pb.amritsar", "EMPLOYEE"]]
    from django.core.cache import caches

    caches["digit_identity"].clear()
    digit.employee["roles"] = [{"code": "WS_APPROVER", "name": "WS approver", "tenantId": "pb.amritsar"}]
    body = whoami(Digit.TOKENS["employee"]).json()
    assert body["roles"] == [["pb.amritsar", "AMENDMENT_APPROVER"], ["pb.amritsar", "EMPLOYEE"]]
    link = DigitUser.objects.get(uuid=digit.employee["uuid"])
    assert sorted(UserRole.objects.filter(user_id=link.user_id).values_list("role", flat=True)) == [
        "AMENDMENT_APPROVER",
        "EMPLOYEE",
    ]
    assert link.roles == [{"code": "WS_APPROVER", "tenantId": "pb.amritsar"}]


def test_roles_in_tenants_unknown_here_give_nothing(digit: Digit) -> None:
    digit.egov.add(
        "tok-hp-0001",
        digit_user(
            user_name="HP",
            name="Other state",
            mobile="9000000009",
            user_type="EMPLOYEE",
            roles=[("EMPLOYEE", "hp.shimla")],
            tenant="hp.shimla",
        ),
    )
    assert whoami("tok-hp-0001").json()["roles"] == []
    search = post(
        "/billing-service/demand/_search?tenantId=hp.shimla&businessService=PT",
        {"RequestInfo": request_info("tok-hp-0001")},
    )
    assert search.status_code == 403


def test_a_local_account_with_the_uuid_as_name_is_never_taken_over(digit: Digit, user_factory: Any) -> None:
    user_factory(digit.employee["uuid"], {"pb.amritsar": [Role.BILLING_ADMIN]})
    response = whoami(Digit.TOKENS["employee"])
    assert response.status_code == 401
    assert response.json()["Errors"][0]["description"] == (
        f"The DIGIT user {digit.employee['uuid']} cannot sign in: a local account already has that name."
    )
    assert DigitUser.objects.count() == 0


def test_a_disabled_login_is_refused_even_with_a_valid_token(digit: Digit) -> None:
    assert whoami(Digit.TOKENS["employee"]).status_code == 200
    link = DigitUser.objects.select_related("user").get(uuid=digit.employee["uuid"])
    link.user.is_active = False
    link.user.save(update_fields=["is_active"])
    assert whoami(Digit.TOKENS["employee"]).status_code == 401


def test_a_redis_that_is_down_costs_only_the_cache(digit: Digit, settings: Any) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "digit_identity": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": closed_port_url().replace("http", "redis"),
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        },
    }
    for _ in range(2):
        assert whoami(Digit.TOKENS["employee"]).json()["username"] == digit.employee["uuid"]
    assert len(digit.egov.calls("/user/_details")) == 2
