"""Idempotency-Key on POSTs of both faces: replay, reuse with another body, in progress, 5xx not stored."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from billing_project import clock
from billing_project.idempotency import idempotency_keys_purge
from billing_project.models import IdempotencyKey, IdempotencyStatus
from demands.models import Demand

DEMAND = {
    "tenantId": "pb.amritsar",
    "consumerCode": "PT-IDEM-1",
    "consumerType": "BUILTUP",
    "businessService": "PT",
    "taxPeriodFrom": 1554076799000,
    "taxPeriodTo": 1585679399000,
    "demandDetails": [{"taxHeadMasterCode": "PT_TAX", "taxAmount": 1000}],
}


@pytest.fixture
def employee(db, api_client_for):
    call_command("load_mdms", "masters/fixtures/mdms", stdout=io.StringIO())
    return api_client_for("clerk", {"pb.amritsar": ["EMPLOYEE"]})


def _create(client, key, body=None):
    return client.post(
        "/billing-service/demand/_create",
        body or {"RequestInfo": {"apiId": "x"}, "Demands": [DEMAND]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_repeat_with_same_key_and_body_returns_the_stored_answer_and_creates_nothing(employee):
    first = _create(employee, "k-1")
    second = _create(employee, "k-1")
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert Demand.objects.count() == 1
    record = IdempotencyKey.objects.get()
    assert (record.key, record.status, record.response_status, record.path) == (
        "k-1",
        IdempotencyStatus.COMPLETED,
        201,
        "/billing-service/demand/_create",
    )


def test_same_key_with_another_body_is_refused_with_422(employee):
    assert _create(employee, "k-2").status_code == 201
    other = {"Demands": [{**DEMAND, "consumerCode": "PT-IDEM-2"}]}
    response = _create(employee, "k-2", other)
    assert response.status_code == 422
    assert response.json() == {
        "ResponseInfo": None,
        "Errors": [
            {
                "code": "IDEMPOTENCY_KEY_REUSED",
                "message": "This Idempotency-Key was used with a different request",
                "description": None,
                "params": None,
            }
        ],
    }
    assert Demand.objects.count() == 1


def test_repeat_while_the_first_is_running_gets_409(employee):
    # A key reserved by a request that has not finished yet.
    first = _create(employee, "k-3")
    IdempotencyKey.objects.filter(key="k-3").update(status=IdempotencyStatus.IN_PROGRESS)
    response = _create(employee, "k-3")
    assert first.status_code == 201
    assert response.status_code == 409
    assert response.json()["Errors"][0]["code"] == "IDEMPOTENCY_REQUEST_IN_PROGRESS"
    assert Demand.objects.count() == 1


def test_rest_face_uses_its_own_error_body(employee):
    body = {
        "tenant": "pb.amritsar",
        "consumer_code": "PT-R1",
        "consumer_type": "B",
        "business_service": "PT",
        "tax_period_from": "2019-04-01T00:00:00Z",
        "tax_period_to": "2020-03-30T00:00:00Z",
        "details": [{"tax_head_code": "PT_TAX", "tax_amount": "10.00"}],
    }
    assert employee.post("/api/v1/demands/", body, format="json", HTTP_IDEMPOTENCY_KEY="r-1").status_code == 201
    again = employee.post("/api/v1/demands/", body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert again.status_code == 201
    changed = employee.post(
        "/api/v1/demands/", {**body, "consumer_code": "PT-R2"}, format="json", HTTP_IDEMPOTENCY_KEY="r-1"
    )
    assert changed.status_code == 422
    assert changed.json() == {
        "code": "IDEMPOTENCY_KEY_REUSED",
        "message": "This Idempotency-Key was used with a different request",
        "fields": {},
    }
    assert Demand.objects.filter(consumer_code__in=["PT-R1", "PT-R2"]).count() == 1


def test_keys_belong_to_their_caller(employee, api_client_for):
    other = api_client_for("other-clerk", {"pb.amritsar": ["EMPLOYEE"]})
    assert _create(employee, "shared").status_code == 201
    # The same key from someone else is a different key: their request runs (and meets the duplicate rule).
    response = _create(other, "shared")
    assert response.status_code == 400
    assert response.json()["Errors"][0]["code"] == "EG_BS_DUPLICATE_CONSUMERCODE"
    assert IdempotencyKey.objects.filter(key="shared").count() == 2


def test_bad_key_and_requests_without_key_or_credentials(employee, anon_client):
    assert _create(employee, "has space").status_code == 400
    assert employee.post("/billing-service/demand/_create", {"Demands": [DEMAND]}, format="json").status_code == 201
    assert IdempotencyKey.objects.count() == 0
    unauthenticated = anon_client.post(
        "/billing-service/demand/_create", {"Demands": [DEMAND]}, format="json", HTTP_IDEMPOTENCY_KEY="k-anon"
    )
    assert unauthenticated.status_code == 401
    assert IdempotencyKey.objects.count() == 0


def test_purge_forgets_keys_older_than_a_day(employee):
    _create(employee, "old")
    IdempotencyKey.objects.update(created_at=clock.now() - dt.timedelta(days=1, seconds=1))
    assert idempotency_keys_purge(at=clock.now()) == 1
    assert IdempotencyKey.objects.count() == 0


# --- owner: the authenticated user, whatever the spelling of the credentials (issue 11 point 5) ---------------


def _digit_body(**request_info):
    return {"RequestInfo": {"apiId": "Rainmaker", **request_info}, "Demands": [DEMAND]}


def test_token_and_bearer_spellings_of_one_token_are_one_owner(employee, anon_client):
    token = employee.token
    first = anon_client.post(
        "/billing-service/demand/_create",
        _digit_body(),
        format="json",
        HTTP_AUTHORIZATION=f"Token {token}",
        HTTP_IDEMPOTENCY_KEY="k-spelling",
    )
    second = anon_client.post(
        "/billing-service/demand/_create",
        _digit_body(),
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_IDEMPOTENCY_KEY="k-spelling",
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert second["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert Demand.objects.count() == 1
    assert list(IdempotencyKey.objects.values_list("owner", flat=True)) == [f"user:{employee.user.pk}"]


def test_the_body_token_and_the_header_of_one_user_are_one_owner(employee, anon_client):
    first = anon_client.post(
        "/billing-service/demand/_create",
        _digit_body(authToken=employee.token),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-where",
    )
    second = anon_client.post(
        "/billing-service/demand/_create",
        _digit_body(),
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {employee.token}",
        HTTP_IDEMPOTENCY_KEY="k-where",
    )
    assert (first.status_code, second.status_code, second["Idempotent-Replayed"]) == (201, 201, "true")
    assert Demand.objects.count() == 1


def test_rest_face_token_and_bearer_are_one_owner(employee, anon_client):
    body = {
        "tenant": "pb.amritsar",
        "consumer_code": "PT-SPELL",
        "consumer_type": "B",
        "business_service": "PT",
        "tax_period_from": "2019-04-01T00:00:00Z",
        "tax_period_to": "2020-03-30T00:00:00Z",
        "details": [{"tax_head_code": "PT_TAX", "tax_amount": "10.00"}],
    }
    for keyword in ("Token", "Bearer", "token"):
        response = anon_client.post(
            "/api/v1/demands/",
            body,
            format="json",
            HTTP_AUTHORIZATION=f"{keyword} {employee.token}",
            HTTP_IDEMPOTENCY_KEY="r-spell",
        )
        assert response.status_code == 201
    assert Demand.objects.filter(consumer_code="PT-SPELL").count() == 1
    assert IdempotencyKey.objects.get(key="r-spell").owner == f"user:{employee.user.pk}"


def test_credentials_that_do_not_authenticate_keep_their_own_key_space(employee, anon_client):
    refused = anon_client.post(
        "/billing-service/demand/_create",
        _digit_body(),
        format="json",
        HTTP_AUTHORIZATION="Bearer not-a-token",
        HTTP_IDEMPOTENCY_KEY="k-bad",
    )
    assert refused.status_code == 401
    record = IdempotencyKey.objects.get(key="k-bad")
    assert record.owner != f"user:{employee.user.pk}"
    assert len(record.owner) == 64  # the SHA-256 of what was presented
    ok = _create(employee, "k-bad")
    assert ok.status_code == 201  # the real user's key of the same name is theirs
    assert Demand.objects.count() == 1


# --- fingerprint on the DIGIT face: business content, not RequestInfo's metadata -----------------------------------


def test_a_digit_retry_with_new_request_info_metadata_is_a_replay(employee):
    first = _create(
        employee,
        "k-meta",
        _digit_body(ts=1714550400000, msgId="msg-1", ver="1.0", action="_create", did="1", key="abc"),
    )
    retry = _create(
        employee,
        "k-meta",
        _digit_body(
            ts=1714550460000, msgId="msg-2", ver="2.0", action="create", did="2", key="def", userInfo={"id": 9}
        ),
    )
    assert (first.status_code, retry.status_code, retry["Idempotent-Replayed"]) == (201, 201, "true")
    assert retry.content == first.content  # the first answer, with the first ResponseInfo
    assert Demand.objects.count() == 1
    # Key order and spacing of the business content do not matter either; its values do.
    reordered = {"Demands": [dict(reversed(list(DEMAND.items())))], "requestinfo": {"ts": 3}}
    assert _create(employee, "k-meta", reordered)["Idempotent-Replayed"] == "true"
    changed = _create(employee, "k-meta", {**_digit_body(), "Demands": [{**DEMAND, "consumerCode": "PT-OTHER"}]})
    assert changed.status_code == 422


# --- lease: a key left IN_PROGRESS by a crashed request (issue 11 point 4) -------------------------------------------


def _crashed_reservation(employee, key, *, lease_left):
    """The row a request leaves when its worker is killed mid-way: IN_PROGRESS, its business transaction rolled
    back (nothing written), its lease ending at now + ``lease_left``."""
    from django.test import RequestFactory

    from billing_project.idempotency import _request_hash

    body = json.dumps({"RequestInfo": {"apiId": "x"}, "Demands": [DEMAND]})
    probe = RequestFactory().post("/billing-service/demand/_create", data=body, content_type="application/json")
    now = clock.now()
    return IdempotencyKey.objects.create(
        owner=f"user:{employee.user.pk}",
        key=key,
        request_hash=_request_hash(probe),
        method="POST",
        path="/billing-service/demand/_create",
        created_at=now - dt.timedelta(minutes=10),
        locked_until=now + lease_left,
    )


def test_a_key_left_in_progress_runs_again_once_its_lease_has_expired(employee):
    record = _crashed_reservation(employee, "k-crash", lease_left=-dt.timedelta(seconds=1))
    retry = _create(employee, "k-crash")
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert Demand.objects.count() == 1
    stored = IdempotencyKey.objects.get(pk=record.pk)
    assert (stored.status, stored.response_status) == (IdempotencyStatus.COMPLETED, 201)
    assert stored.locked_until > clock.now()  # the retry held a fresh lease
    assert _create(employee, "k-crash")["Idempotent-Replayed"] == "true"


def test_a_key_in_progress_within_its_lease_is_still_409(employee):
    _crashed_reservation(employee, "k-busy", lease_left=dt.timedelta(minutes=1))
    response = _create(employee, "k-busy")
    assert response.status_code == 409
    assert response.json()["Errors"][0]["code"] == "IDEMPOTENCY_REQUEST_IN_PROGRESS"
    assert Demand.objects.count() == 0


def test_the_lease_is_a_setting_well_above_the_longest_request(settings):
    from billing_project.idempotency import _lease

    assert _lease() == dt.timedelta(minutes=5)
    settings.IDEMPOTENCY_LEASE_SECONDS = 900
    assert _lease() == dt.timedelta(minutes=15)
