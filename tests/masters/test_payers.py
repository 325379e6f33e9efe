"""The payer registry: services and the REST face."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, transaction

from billing_project.errors import DomainError
from masters.models import Payer, Role
from masters.services import payer_match_or_create, payer_register, payer_update
from masters.services import payers as payer_services

MOBILE = "9876543210"


@pytest.fixture
def punjab(tenant_factory):
    return {code: tenant_factory(code) for code in ("pb", "pb.amritsar", "pb.jalandhar", "hr", "hr.karnal")}


def _rows():
    return sorted(Payer.objects.values_list("tenant__code", "name", "mobile_number", "email", "type"))


# --- payer_register --------------------------------------------------------------------------


@pytest.mark.django_db
def test_register_stores_the_payer_in_the_state_registry(punjab):
    payer = payer_register(
        tenant_code="pb.amritsar",
        name="  Asha   Devi ",
        mobile_number=" 9876543210 ",
        email="asha@example.org",
        permanent_address="12 Mall Road",
        permanent_city="Amritsar",
        permanent_pincode="143001",
    )
    stored = Payer.objects.get(uuid=payer.uuid)
    assert (stored.tenant.code, stored.name, stored.mobile_number, stored.email, stored.type) == (
        "pb",
        "Asha Devi",
        "9876543210",
        "asha@example.org",
        "CITIZEN",
    )
    assert (stored.permanent_address, stored.permanent_city, stored.permanent_pincode) == (
        "12 Mall Road",
        "Amritsar",
        "143001",
    )
    assert stored.active is True
    assert stored.user_id is None


@pytest.mark.django_db
def test_duplicate_name_in_other_case_is_refused_and_nothing_is_written(punjab):
    payer_register(tenant_code="pb.amritsar", name="Asha Devi", mobile_number=MOBILE)
    with pytest.raises(DomainError) as excinfo:
        payer_register(tenant_code="pb.jalandhar", name="ASHA DEVI", mobile_number=MOBILE, email="other@example.org")
    assert (excinfo.value.code, excinfo.value.http_status) == ("PAYER_DUPLICATE", 409)
    assert _rows() == [("pb", "Asha Devi", MOBILE, "", "CITIZEN")]


@pytest.mark.django_db
def test_same_name_with_another_mobile_or_in_another_state_is_a_different_payer(punjab):
    payer_register(tenant_code="pb", name="Asha Devi", mobile_number=MOBILE)
    payer_register(tenant_code="pb", name="Asha Devi", mobile_number="9876543211")
    payer_register(tenant_code="hr.karnal", name="Asha Devi", mobile_number=MOBILE)
    assert _rows() == [
        ("hr", "Asha Devi", MOBILE, "", "CITIZEN"),
        ("pb", "Asha Devi", MOBILE, "", "CITIZEN"),
        ("pb", "Asha Devi", "9876543211", "", "CITIZEN"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("mobile", ["98765", "98765432101", "98765abcde", "९८७६५४३२१०", "+919876543"])
def test_bad_mobile_number_is_refused(punjab, mobile):
    with pytest.raises(DomainError) as excinfo:
        payer_register(tenant_code="pb.amritsar", name="Asha Devi", mobile_number=mobile)
    assert excinfo.value.code == "PAYER_INVALID_MOBILE"
    assert excinfo.value.fields == {"mobile_number": ["Must be exactly 10 digits."]}
    assert _rows() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"name": "   "}, "PAYER_INVALID_NAME", "name"),
        ({"email": "not-an-email"}, "PAYER_INVALID_EMAIL", "email"),
        ({"type": "ROBOT"}, "PAYER_INVALID_TYPE", "type"),
        ({"permanent_pincode": "12345678901"}, "VALIDATION_ERROR", "permanent_pincode"),
    ],
)
def test_invalid_details_are_refused(punjab, kwargs, code, field):
    with pytest.raises(DomainError) as excinfo:
        payer_register(**{"tenant_code": "pb", "name": "Asha Devi", "mobile_number": MOBILE, **kwargs})
    assert excinfo.value.code == code
    assert list(excinfo.value.fields) == [field]
    assert _rows() == []


@pytest.mark.django_db
def test_unknown_state_is_refused(db):
    with pytest.raises(DomainError) as excinfo:
        payer_register(tenant_code="zz.city", name="Asha Devi", mobile_number=MOBILE)
    assert excinfo.value.code == "TENANT_NOT_FOUND"
    assert _rows() == []


@pytest.mark.django_db
def test_a_login_links_to_one_payer_only(punjab, user_factory):
    citizen = user_factory("asha", {"pb.amritsar": [Role.CITIZEN]})
    payer_register(tenant_code="pb", name="Asha Devi", mobile_number=MOBILE, user_id=citizen.pk)
    with pytest.raises(DomainError) as excinfo:
        payer_register(tenant_code="pb", name="Asha D", mobile_number=MOBILE, user_id=citizen.pk)
    assert excinfo.value.code == "PAYER_USER_ALREADY_LINKED"
    assert _rows() == [("pb", "Asha Devi", MOBILE, "", "CITIZEN")]


# --- payer_update ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_changes_details(punjab):
    payer = payer_register(tenant_code="pb", name="Asha Devi", mobile_number=MOBILE)
    updated = payer_update(payer_uuid=payer.uuid, email=" asha@example.org ", mobile_number="9000000001", active=False)
    assert (updated.email, updated.mobile_number, updated.active) == ("asha@example.org", "9000000001", False)
    assert _rows() == [("pb", "Asha Devi", "9000000001", "asha@example.org", "CITIZEN")]


@pytest.mark.django_db
def test_update_into_an_existing_name_and_mobile_is_a_duplicate(punjab):
    payer_register(tenant_code="pb", name="Asha Devi", mobile_number=MOBILE)
    other = payer_register(tenant_code="pb", name="Ravi Kumar", mobile_number=MOBILE)
    with pytest.raises(DomainError) as excinfo:
        payer_update(payer_uuid=other.uuid, name="asha devi")
    assert excinfo.value.code == "PAYER_DUPLICATE"
    assert Payer.objects.get(uuid=other.uuid).name == "Ravi Kumar"


@pytest.mark.django_db
def test_update_refuses_bad_values_and_unknown_payers(punjab):
    payer = payer_register(tenant_code="pb", name="Asha Devi", mobile_number=MOBILE)
    with pytest.raises(DomainError) as excinfo:
        payer_update(payer_uuid=payer.uuid, mobile_number="123")
    assert excinfo.value.code == "PAYER_INVALID_MOBILE"
    with pytest.raises(DomainError) as excinfo:
        payer_update(payer_uuid=uuid.uuid4(), name="Nobody")
    assert (excinfo.value.code, excinfo.value.http_status) == ("PAYER_NOT_FOUND", 404)
    assert _rows() == [("pb", "Asha Devi", MOBILE, "", "CITIZEN")]


# --- payer_match_or_create -------------------------------------------------------------------


@pytest.mark.django_db
def test_match_or_create_returns_the_existing_payer_unchanged(punjab):
    existing = payer_register(tenant_code="pb", name="Asha Devi", mobile_number=MOBILE, email="asha@example.org")
    matched = payer_match_or_create(
        tenant_code="pb.jalandhar", name="ASHA  devi", mobile_number=MOBILE, email="new@example.org"
    )
    assert matched.uuid == existing.uuid
    assert _rows() == [("pb", "Asha Devi", MOBILE, "asha@example.org", "CITIZEN")]


@pytest.mark.django_db
def test_match_or_create_creates_a_citizen_once(punjab):
    created = payer_match_or_create(tenant_code="pb.amritsar", name="Ravi Kumar", mobile_number=MOBILE)
    again = payer_match_or_create(tenant_code="pb.amritsar", name="ravi kumar", mobile_number=MOBILE)
    assert again.uuid == created.uuid
    assert _rows() == [("pb", "Ravi Kumar", MOBILE, "", "CITIZEN")]


@pytest.mark.django_db
def test_match_or_create_runs_inside_the_callers_transaction(punjab):
    with transaction.atomic():
        first = payer_match_or_create(tenant_code="pb.amritsar", name="Ravi Kumar", mobile_number=MOBILE)
        second = payer_match_or_create(tenant_code="pb.amritsar", name="Ravi Kumar", mobile_number=MOBILE)
    assert first.uuid == second.uuid
    assert Payer.objects.count() == 1


@pytest.mark.django_db
def test_match_or_create_reads_back_the_winner_when_its_insert_loses(punjab, monkeypatch):
    """The unique constraint refuses the late insert; the savepoint keeps the caller's transaction usable."""
    winner = payer_register(tenant_code="pb", name="Ravi Kumar", mobile_number=MOBILE)
    real_find = payer_services.payer_find
    calls: list[str] = []

    def find_after_a_concurrent_insert(tenant_code, *, name, mobile_number):
        calls.append(name)
        return None if len(calls) == 1 else real_find(tenant_code, name=name, mobile_number=mobile_number)

    monkeypatch.setattr(payer_services, "payer_find", find_after_a_concurrent_insert)
    with transaction.atomic():
        matched = payer_match_or_create(tenant_code="pb.amritsar", name="RAVI KUMAR", mobile_number=MOBILE)
        assert Payer.objects.count() == 1  # the outer transaction is still usable
    assert matched.uuid == winner.uuid
    assert calls == ["RAVI KUMAR", "RAVI KUMAR"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_match_or_create_yields_one_payer(punjab, monkeypatch):
    """Two requests that both saw no payer insert at once: one wins, the other reads the winner back."""
    real_find = payer_services.payer_find
    barrier = threading.Barrier(2)
    seen: dict[int, int] = {}

    def find(tenant_code, *, name, mobile_number):
        ident = threading.get_ident()
        seen[ident] = seen.get(ident, 0) + 1
        if seen[ident] == 1:
            barrier.wait(timeout=10)  # both have looked and found nothing
            return None
        return real_find(tenant_code, name=name, mobile_number=mobile_number)

    monkeypatch.setattr(payer_services, "payer_find", find)
    results: list[Payer] = []
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            results.append(payer_match_or_create(tenant_code="pb.amritsar", name=name, mobile_number=MOBILE))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(name,)) for name in ("Ravi Kumar", "RAVI KUMAR")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(results) == 2
    assert results[0].uuid == results[1].uuid
    assert Payer.objects.count() == 1


# --- REST face -------------------------------------------------------------------------------


@pytest.fixture
def registry(punjab, user_factory):
    citizen = user_factory("asha", {"pb.amritsar": [Role.CITIZEN]})
    own = payer_register(tenant_code="pb", name="Asha Devi", mobile_number=MOBILE, user_id=citizen.pk)
    other = payer_register(tenant_code="pb", name="Ravi Kumar", mobile_number="9000000001", email="ravi@example.org")
    haryana = payer_register(tenant_code="hr", name="Hari Singh", mobile_number="9000000002")
    return {"citizen": citizen, "own": own, "other": other, "haryana": haryana}


def _client_for_user(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.mark.django_db
def test_citizen_sees_only_their_own_payer(registry):
    client = _client_for_user(registry["citizen"])
    response = client.get("/api/v1/payers/")
    assert response.status_code == 200
    assert [row["uuid"] for row in response.json()["results"]] == [str(registry["own"].uuid)]
    assert response.json()["count"] == 1
    other = client.get(f"/api/v1/payers/{registry['other'].uuid}/")
    assert (other.status_code, other.json()) == (404, {"code": "NOT_FOUND", "message": "Not found.", "fields": {}})
    mine = client.get(f"/api/v1/payers/{registry['own'].uuid}/")
    assert mine.status_code == 200
    assert mine.json() == {
        "uuid": str(registry["own"].uuid),
        "tenant": "pb",
        "name": "Asha Devi",
        "mobile_number": MOBILE,
        "email": "",
        "type": "CITIZEN",
        "gender": "",
        "father_or_husband_name": "",
        "correspondence_address": "",
        "permanent_address": "",
        "permanent_city": "",
        "permanent_pincode": "",
        "active": True,
        "created_at": mine.json()["created_at"],
        "updated_at": mine.json()["updated_at"],
    }


@pytest.mark.django_db
def test_citizen_can_neither_register_nor_change_payers(registry):
    client = _client_for_user(registry["citizen"])
    create = client.post("/api/v1/payers/", {"tenant": "pb.amritsar", "name": "X Y", "mobile_number": "9000000009"})
    assert create.status_code == 403
    assert create.json()["code"] == "PERMISSION_DENIED"
    change = client.patch(f"/api/v1/payers/{registry['own'].uuid}/", {"email": "me@example.org"})
    assert change.status_code == 403
    assert change.json() == {
        "code": "PERMISSION_DENIED",
        "message": "You need one of the roles BILLING_ADMIN, CASHIER, EMPLOYEE in pb or one of its cities to change "
        "payers.",
        "fields": {},
    }
    assert Payer.objects.count() == 3


@pytest.mark.django_db
def test_staff_see_the_registry_of_their_state_only(registry, api_client_for):
    client = api_client_for("cashier", {"pb.jalandhar": [Role.CASHIER]})
    response = client.get("/api/v1/payers/", {"ordering": "-name"})
    assert [row["name"] for row in response.json()["results"]] == ["Ravi Kumar", "Asha Devi"]
    assert client.get(f"/api/v1/payers/{registry['haryana'].uuid}/").status_code == 404
    filtered = client.get("/api/v1/payers/", {"mobile_number": "9000000001"})
    assert [row["name"] for row in filtered.json()["results"]] == ["Ravi Kumar"]
    by_email = client.get("/api/v1/payers/", {"email": "RAVI@example.org"})
    assert [row["name"] for row in by_email.json()["results"]] == ["Ravi Kumar"]
    by_name = client.get("/api/v1/payers/", {"name": "devi"})
    assert [row["name"] for row in by_name.json()["results"]] == ["Asha Devi"]


@pytest.mark.django_db
def test_employee_registers_a_payer_through_the_api(punjab, api_client_for):
    client = api_client_for("employee", {"pb.amritsar": [Role.EMPLOYEE]})
    response = client.post(
        "/api/v1/payers/",
        {"tenant": "pb.amritsar", "name": "Gurpreet Kaur", "mobile_number": "9123456780", "email": "g@example.org"},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["tenant"], body["name"], body["mobile_number"], body["email"], body["type"]) == (
        "pb",
        "Gurpreet Kaur",
        "9123456780",
        "g@example.org",
        "CITIZEN",
    )
    assert _rows() == [("pb", "Gurpreet Kaur", "9123456780", "g@example.org", "CITIZEN")]
    duplicate = client.post(
        "/api/v1/payers/", {"tenant": "pb.amritsar", "name": "gurpreet kaur", "mobile_number": "9123456780"}
    )
    assert duplicate.status_code == 409
    assert duplicate.json() == {
        "code": "PAYER_DUPLICATE",
        "message": "A payer named 'gurpreet kaur' with mobile number 9123456780 is already registered.",
        "fields": {"name": ["A payer with this name and mobile number is already registered."]},
    }
    bad = client.post("/api/v1/payers/", {"tenant": "pb.amritsar", "name": "Raj", "mobile_number": "12345"})
    assert bad.status_code == 400
    assert bad.json() == {
        "code": "PAYER_INVALID_MOBILE",
        "message": "Mobile number '12345' is not 10 digits.",
        "fields": {"mobile_number": ["Must be exactly 10 digits."]},
    }
    missing = client.post("/api/v1/payers/", {"tenant": "pb.amritsar"})
    assert missing.status_code == 400
    assert missing.json() == {
        "code": "VALIDATION_ERROR",
        "message": "Invalid input.",
        "fields": {"name": ["This field is required."], "mobile_number": ["This field is required."]},
    }
    other_city = client.post(
        "/api/v1/payers/", {"tenant": "pb.jalandhar", "name": "Raj", "mobile_number": "9123456781"}
    )
    assert other_city.status_code == 403
    assert Payer.objects.count() == 1


@pytest.mark.django_db
def test_staff_of_a_city_update_a_payer_of_their_state(registry, api_client_for):
    client = api_client_for("employee", {"pb.amritsar": [Role.EMPLOYEE]})
    response = client.patch(f"/api/v1/payers/{registry['other'].uuid}/", {"permanent_city": "Amritsar"})
    assert response.status_code == 200
    assert response.json()["permanent_city"] == "Amritsar"
    replaced = client.put(
        f"/api/v1/payers/{registry['other'].uuid}/", {"name": "Ravi K", "mobile_number": "9000000001"}
    )
    assert replaced.status_code == 200
    assert (replaced.json()["name"], replaced.json()["permanent_city"]) == ("Ravi K", "Amritsar")
    incomplete_put = client.put(f"/api/v1/payers/{registry['other'].uuid}/", {"name": "Ravi"})
    assert incomplete_put.status_code == 400
    assert incomplete_put.json()["fields"] == {"mobile_number": ["This field is required."]}
