"""REST face: /api/v1/payment-methods/, /api/v1/autopay-mandates/, /api/v1/autopay-charges/."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from billing_project import clock
from masters.models import Role
from payments.methods.models import AutopayCharge, AutopayMandate, ChargeStatus, PaymentMethod
from tests.payments.methods.conftest import AT, demand_of, fetch_bill, make_demands, next_consumer

METHODS = "/api/v1/payment-methods/"
MANDATES = "/api/v1/autopay-mandates/"
CHARGES = "/api/v1/autopay-charges/"
NOW = AT + dt.timedelta(minutes=1)


def client_of(user: Any) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def asha_client(asha, asha_user) -> APIClient:
    return client_of(asha_user)


@pytest.fixture
def ravi_client(ravi, ravi_payer) -> APIClient:
    return client_of(ravi_payer.user)


def post(client: APIClient, url: str, data: dict[str, Any] | None = None, *, at: dt.datetime = NOW) -> Any:
    with clock.frozen(at):
        return client.post(url, data or {}, format="json")


def get(client: APIClient, url: str, *, at: dt.datetime = NOW) -> Any:
    with clock.frozen(at):
        return client.get(url)


CARD = {"gateway_token": "tok_abc123", "label": "VISA •••• 4242", "brand": "VISA", "last4": "4242",
        "expiry_month": 12, "expiry_year": 2030}  # fmt: skip


def test_register_list_and_revoke_own_methods(asha_client, asha_payer, ravi_client):
    response = post(asha_client, METHODS, CARD)

    assert response.status_code == 201, response.json()
    method = PaymentMethod.objects.get()
    assert response.json() == {
        "id": method.pk,
        "payer": str(asha_payer.pk),
        "tenant": "pb",
        "gateway": "sandbox",
        "label": "VISA •••• 4242",
        "brand": "VISA",
        "last4": "4242",
        "expiry_month": 12,
        "expiry_year": 2030,
        "status": "ACTIVE",
        "is_default": True,
        "flagged_at": None,
        "flag_reason": "",
        "created_by": "asha",
        "created_at": "2024-05-01T10:01:00Z",
        "updated_at": "2024-05-01T10:01:00Z",
        "revoked_at": None,
    }  # the token is never shown
    assert [row["id"] for row in get(asha_client, METHODS).json()["results"]] == [method.pk]
    assert get(ravi_client, METHODS).json()["results"] == []
    assert get(ravi_client, f"{METHODS}{method.pk}/").status_code == 404
    assert post(ravi_client, f"{METHODS}{method.pk}/revoke/").status_code == 404

    revoked = post(asha_client, f"{METHODS}{method.pk}/revoke/", at=NOW + dt.timedelta(hours=1))
    assert revoked.status_code == 200
    assert (revoked.json()["status"], revoked.json()["revoked_at"], revoked.json()["is_default"]) == (
        "REVOKED",
        "2024-05-01T11:01:00Z",
        False,
    )


def test_a_card_number_is_refused_with_a_clear_error_and_nothing_stored(asha_client):
    response = post(asha_client, METHODS, {**CARD, "gateway_token": "4242 4242 4242 4242"})

    assert response.status_code == 400
    assert response.json() == {
        "code": "PAYMENT_METHOD_CARD_NUMBER_REFUSED",
        "message": "Card numbers are never accepted: register the token and masked label the payment gateway gave "
        "you (it tokenises the card on its own page)",
        "fields": {"gateway_token": ["looks like a card number (13-19 digits passing the Luhn check)"]},
    }
    assert "4242" not in response.content.decode()
    assert PaymentMethod.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [({"expiry_month": 0}, "expiry_month"), ({"gateway_token": ""}, "gateway_token"), ({"label": None}, "label")],
)
def test_malformed_registrations_are_400(asha_client, change, field):
    response = post(asha_client, METHODS, {**CARD, **change})
    assert (response.status_code, response.json()["code"], list(response.json()["fields"])) == (
        400,
        "VALIDATION_ERROR",
        [field],
    )
    assert PaymentMethod.objects.count() == 0


def test_set_default(asha_client):
    first = post(asha_client, METHODS, CARD).json()
    second = post(asha_client, METHODS, {**CARD, "gateway_token": "tok_second"}).json()
    response = post(asha_client, f"{METHODS}{second['id']}/set-default/")
    assert (response.status_code, response.json()["is_default"]) == (200, True)
    assert list(PaymentMethod.objects.order_by("pk").values_list("pk", "is_default")) == [
        (first["id"], False),
        (second["id"], True),
    ]


def test_mandates_and_charges(asha_client, asha_payer, ravi_client, employee, api_client_for):
    code = next_consumer()
    make_demands(employee, demand_of(asha_payer, code, "800"))
    method = post(asha_client, METHODS, CARD).json()

    created = post(
        asha_client,
        MANDATES,
        {"tenant": "pb.amritsar", "business_service": "PT", "consumer_code": code, "payment_method": method["id"],
         "max_amount": "1500.50"},
    )  # fmt: skip

    assert created.status_code == 201, created.json()
    mandate = AutopayMandate.objects.get()
    assert created.json() == {
        "id": mandate.pk,
        "payer": str(asha_payer.pk),
        "tenant": "pb.amritsar",
        "business_service": "PT",
        "consumer_code": code,
        "payment_method": method["id"],
        "payment_method_label": "VISA •••• 4242",
        "max_amount": "1500.50",
        "active": True,
        "created_by": "asha",
        "created_at": "2024-05-01T10:01:00Z",
        "revoked_by": "",
        "revoked_at": None,
    }
    again = post(asha_client, MANDATES, {"tenant": "pb.amritsar", "business_service": "PT", "consumer_code": code,
                                         "payment_method": method["id"]})  # fmt: skip
    assert (again.status_code, again.json()["code"]) == (409, "AUTOPAY_MANDATE_EXISTS")

    bill = fetch_bill(employee, code, at=NOW + dt.timedelta(minutes=1))
    retry = NOW + dt.timedelta(days=3)
    charge = AutopayCharge.objects.create(
        mandate=mandate, bill=bill, amount=bill.total_amount, attempt=1, status=ChargeStatus.FAILED,
        next_retry_at=retry, failure_code="insufficient_funds", created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    listed = get(asha_client, CHARGES).json()["results"]
    assert listed == [
        {
            "id": str(charge.pk),
            "mandate": mandate.pk,
            "bill": str(bill.pk),
            "bill_number": bill.bill_number,
            "consumer_code": code,
            "amount": "800.00",
            "attempt": 1,
            "status": "FAILED",
            "next_retry_at": "2024-05-04T10:01:00Z",
            "gateway_transaction": None,
            "failure_code": "insufficient_funds",
            "failure_message": "",
            "superseded_by": None,
            "created_at": "2024-05-01T10:01:00Z",
            "updated_at": "2024-05-01T10:01:00Z",
            "last_attempt_at": None,
            "finished_at": None,
        }
    ]
    assert get(asha_client, f"{CHARGES}?status=FAILED").json()["count"] == 1
    assert get(asha_client, f"{CHARGES}?status=SUCCEEDED").json()["count"] == 0
    assert get(ravi_client, CHARGES).json()["results"] == []
    assert get(ravi_client, MANDATES).json()["results"] == []
    staff = api_client_for("emp-api", {"pb.amritsar": [Role.EMPLOYEE]})
    other_city = api_client_for("emp-jal", {"pb.jalandhar": [Role.EMPLOYEE]})
    assert get(staff, CHARGES).json()["count"] == 1
    assert get(other_city, CHARGES).json()["count"] == 0

    revoked = post(ravi_client, f"{MANDATES}{mandate.pk}/revoke/")
    assert revoked.status_code == 404
    revoked = post(asha_client, f"{MANDATES}{mandate.pk}/revoke/")
    assert (revoked.status_code, revoked.json()["active"], revoked.json()["revoked_by"]) == (200, False, "asha")
    assert get(asha_client, f"{CHARGES}{charge.pk}/").json()["status"] == "CANCELLED"


def test_bad_ids_and_anonymous_callers(asha_client, anon_client):
    assert get(asha_client, f"{METHODS}abc/").status_code == 404
    assert get(asha_client, f"{CHARGES}not-a-uuid/").status_code == 404
    assert get(asha_client, f"{MANDATES}99999/").status_code == 404
    assert anon_client.get(METHODS).status_code == 401
    bad = post(asha_client, MANDATES, {"tenant": "pb.amritsar", "business_service": "PT", "consumer_code": "X",
                                       "payment_method": 12345})  # fmt: skip
    assert (bad.status_code, bad.json()["code"]) == (404, "PAYMENT_METHOD_NOT_FOUND")
