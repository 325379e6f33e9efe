"""Idempotency-Key on POSTs of both faces: replay, reuse with another body, in progress, 5xx not stored."""

from __future__ import annotations

import datetime as dt
import io

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
