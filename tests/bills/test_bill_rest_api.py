"""REST face of bills: /api/v1/bills/ (list, filters, ordering, retrieve, fetch, cancel) and its scoping."""

from __future__ import annotations

from typing import Any

import pytest

from billing_project import clock
from bills.models import Bill, BillStatus
from demands.models import Demand
from masters.access import caller_for
from masters.models import Payer, Tenant
from tests.bills._factories_api import (
    AT,
    LATER,
    PTAN2018,
    citizen_payer,
    employee,
    fetch,
    line,
    load_seed,
    make_user,
    pt_demand,
    token_client,
    two_period_demands,
)

BILLS = "/api/v1/bills/"


@pytest.fixture
def seed(db: Any) -> dict[str, Tenant]:
    return load_seed()


@pytest.fixture
def emp(seed: dict[str, Tenant]) -> Any:
    return employee()


@pytest.fixture
def client(emp: Any) -> Any:
    return token_client(emp)


@pytest.fixture
def payer(seed: dict[str, Tenant]) -> Payer:
    return Payer.objects.create(
        tenant=seed["pb"], name="Asha Devi", mobile_number="9876543210", permanent_address="12 Mall Road"
    )


@pytest.fixture
def history(emp: Any, payer: Payer) -> dict[str, Bill]:
    """Amritsar: PT-1 has an EXPIRED bill of 500 (no. 1, AT) and its ACTIVE successor (no. 4, LATER); PT-2 (payer)
    1300 in two periods (no. 2, AT). Jalandhar: PT-J (no. 3, AT)."""
    caller = caller_for(emp)
    pt_demand(caller, "PT-1")
    pt_demand(caller, "PT-2", payer=payer, lines=(line("PT_TAX", "1000"),))
    pt_demand(caller, "PT-2", payer=payer, period=PTAN2018, lines=(line("PT_TAX", "300"),))
    first, second = fetch(caller, "PT-1", "PT-2")
    jalandhar = caller_for(employee("emp-jal", "pb.jalandhar"))
    pt_demand(jalandhar, "PT-J", tenant="pb.jalandhar")
    (other_city,) = fetch(jalandhar, "PT-J", tenant="pb.jalandhar")
    (third,) = fetch(caller, "PT-1", at=LATER)
    return {"pt1_old": first, "pt2": second, "pt1_new": third, "jalandhar": other_city}


def get(client: Any, url: str, *, at: Any = LATER, **params: Any) -> Any:
    with clock.frozen(at):
        return client.get(url, params)


def numbers(response: Any) -> list[str]:
    return [row["bill_number"] for row in response.json()["results"]]


def test_list_shows_the_full_history_of_the_callers_tenant(client, history):
    response = get(client, BILLS)

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    assert [(r["bill_number"], r["consumer_code"], r["status"], r["effective_status"]) for r in body["results"]] == [
        ("BILLNO-PT-000004", "PT-1", "ACTIVE", "ACTIVE"),
        ("BILLNO-PT-000001", "PT-1", "EXPIRED", "EXPIRED"),
        ("BILLNO-PT-000002", "PT-2", "ACTIVE", "EXPIRED"),  # past its expiry: stale
    ]


def test_list_row_shape(client, history, payer):
    response = get(client, BILLS, consumer_code="PT-2")

    bill = history["pt2"]
    assert response.json()["results"] == [
        {
            "id": str(bill.pk),
            "tenant": "pb.amritsar",
            "business_service": "PT",
            "consumer_code": "PT-2",
            "bill_number": "BILLNO-PT-000002",
            "bill_date": "2024-05-01T10:00:00Z",
            "expiry_date": "2024-05-01T18:29:59.999000Z",
            "status": "ACTIVE",
            "effective_status": "EXPIRED",
            "total_amount": "1300.00",
            "payer": str(payer.uuid),
            "payer_name": "Asha Devi",
            "mobile_number": "9876543210",
            "created_at": "2024-05-01T10:00:00Z",
            "modified_at": "2024-05-01T10:00:00Z",
        }
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"consumer_code": "PT-1"}, ["BILLNO-PT-000004", "BILLNO-PT-000001"]),
        ({"status": "EXPIRED"}, ["BILLNO-PT-000001"]),
        ({"bill_number": "BILLNO-PT-000002"}, ["BILLNO-PT-000002"]),
        ({"mobile_number": "9876543210"}, ["BILLNO-PT-000002"]),
        ({"business_service": "WC"}, []),
        ({"tenant": "pb.amritsar", "created_from": "2024-05-02T00:00:00Z"}, ["BILLNO-PT-000004"]),
        ({"created_to": "2024-05-01T23:59:59Z"}, ["BILLNO-PT-000001", "BILLNO-PT-000002"]),
        ({"tenant": "pb.jalandhar"}, []),
        ({"ordering": "total_amount,bill_number"}, ["BILLNO-PT-000001", "BILLNO-PT-000004", "BILLNO-PT-000002"]),
        ({"ordering": "-total_amount,bill_number"}, ["BILLNO-PT-000002", "BILLNO-PT-000001", "BILLNO-PT-000004"]),
        ({"ordering": "bill_date,bill_number"}, ["BILLNO-PT-000001", "BILLNO-PT-000002", "BILLNO-PT-000004"]),
        ({"ordering": "-expiry_date,bill_number"}, ["BILLNO-PT-000004", "BILLNO-PT-000001", "BILLNO-PT-000002"]),
    ],
)
def test_list_filters_and_ordering(client, history, params, expected):
    response = get(client, BILLS, **params)

    assert response.status_code == 200, response.json()
    assert numbers(response) == expected


def test_list_pagination(client, history):
    first = get(client, BILLS, page_size=2, ordering="bill_number")
    second = get(client, BILLS, page_size=2, ordering="bill_number", page=2)

    assert (first.json()["count"], numbers(first)) == (3, ["BILLNO-PT-000001", "BILLNO-PT-000002"])
    assert numbers(second) == ["BILLNO-PT-000004"]


def test_list_refuses_unknown_ordering_and_bad_filters(client, history):
    ordering = get(client, BILLS, ordering="payer_email")
    status = get(client, BILLS, status="OPEN")

    assert ordering.status_code == 400
    assert ordering.json()["code"] == "VALIDATION_ERROR"
    assert list(ordering.json()["fields"]) == ["ordering"]
    assert status.status_code == 400
    assert list(status.json()["fields"]) == ["status"]


def test_retrieve_has_periods_lines_and_effective_status(client, emp, payer):
    older, newer = two_period_demands(caller_for(emp), "PT-9", payer=payer)
    (bill,) = fetch(caller_for(emp), "PT-9")

    response = get(client, f"{BILLS}{bill.pk}/", at=AT)

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("bill_number", "status", "effective_status", "total_amount", "payer_address")} == {
        "bill_number": "BILLNO-PT-000001",
        "status": "ACTIVE",
        "effective_status": "ACTIVE",
        "total_amount": "1475.00",
        "payer_address": "12 Mall Road",
    }
    assert [
        (d["demand"], d["from_period"], d["amount"], [(a["tax_head_code"], a["amount"]) for a in d["account_details"]])
        for d in body["details"]
    ] == [
        (str(older.pk), "2018-04-01T00:00:00Z", "500.00", [("PT_TAX", "500.00")]),
        (
            str(newer.pk),
            "2019-03-31T23:59:59Z",
            "975.00",
            [("PT_TAX", "1000.00"), ("PT_TIME_INTEREST", "25.00"), ("PT_TIME_REBATE", "-50.00")],
        ),
    ]
    assert get(client, f"{BILLS}{bill.pk}/", at=LATER).json()["effective_status"] == "EXPIRED"


def test_retrieve_of_another_citys_bill_or_a_bad_id_is_404(client, history):
    assert get(client, f"{BILLS}{history['jalandhar'].pk}/").status_code == 404
    assert get(client, f"{BILLS}not-a-uuid/").status_code == 404


def test_an_employee_of_another_city_sees_only_their_city(history):
    other = token_client(make_user("emp-jal-2", {"pb.jalandhar": ["EMPLOYEE"]}))

    assert numbers(get(other, BILLS)) == ["BILLNO-PT-000003"]  # the bill number sequence is state-wide
    assert get(other, BILLS).json()["results"][0]["tenant"] == "pb.jalandhar"


def test_a_citizen_sees_only_the_bills_they_owe(history, payer):
    citizen = make_user("asha", {"pb": ["CITIZEN"]})
    Payer.objects.filter(pk=payer.pk).update(user=citizen)
    stranger, _ = citizen_payer("ravi", "Ravi", "9000000001")

    assert numbers(get(token_client(citizen), BILLS)) == ["BILLNO-PT-000002"]
    assert get(token_client(citizen), f"{BILLS}{history['pt1_new'].pk}/").status_code == 404
    assert numbers(get(token_client(stranger), BILLS)) == []


def test_a_caller_without_roles_or_token_is_refused(seed, anon_client):
    assert anon_client.get(BILLS).status_code == 401
    assert token_client(make_user("nobody")).get(BILLS).status_code == 403


# --- fetch --------------------------------------------------------------------------------------


def post(client: Any, url: str, body: dict[str, Any], *, at: Any = AT) -> Any:
    with clock.frozen(at):
        return client.post(url, body, format="json")


def test_fetch_generates_and_then_answers_the_same_bill(client, emp, payer):
    pt_demand(caller_for(emp), "PT-1", payer=payer)
    body = {"tenant": "pb.amritsar", "business_service": "PT", "consumer_codes": ["PT-1"]}

    first = post(client, f"{BILLS}fetch/", body)
    again = post(client, f"{BILLS}fetch/", body)

    assert first.status_code == again.status_code == 200
    assert [(b["bill_number"], b["total_amount"], b["effective_status"]) for b in first.json()] == [
        ("BILLNO-PT-000001", "500.00", "ACTIVE")
    ]
    assert [b["id"] for b in again.json()] == [b["id"] for b in first.json()]
    assert [d["amount"] for d in first.json()[0]["details"]] == ["500.00"]
    assert Bill.objects.count() == 1


def test_fetch_by_mobile_number_and_by_demand(client, emp, payer):
    caller = caller_for(emp)
    pt_demand(caller, "PT-1", payer=payer)
    demand = pt_demand(caller, "PT-2")

    by_mobile = post(
        client, f"{BILLS}fetch/", {"tenant": "pb.amritsar", "business_service": "PT", "mobile_number": "9876543210"}
    )
    by_demand = post(
        client, f"{BILLS}fetch/", {"tenant": "pb.amritsar", "business_service": "PT", "demand_id": str(demand.pk)}
    )

    assert [b["consumer_code"] for b in by_mobile.json()] == ["PT-1"]
    assert [b["consumer_code"] for b in by_demand.json()] == ["PT-2"]


def test_fetch_refusals(client, seed):
    missing = post(client, f"{BILLS}fetch/", {"business_service": "PT", "consumer_codes": ["PT-1"]})
    no_criteria = post(client, f"{BILLS}fetch/", {"tenant": "pb.amritsar", "business_service": "PT"})
    bad_mobile = post(
        client, f"{BILLS}fetch/", {"tenant": "pb.amritsar", "business_service": "PT", "mobile_number": "12"}
    )

    assert missing.status_code == 400
    assert missing.json() == {
        "code": "VALIDATION_ERROR",
        "message": "Invalid input.",
        "fields": {"tenant": ["This field is required."]},
    }
    assert no_criteria.status_code == 400
    assert no_criteria.json() == {
        "code": "BILL_GEN_MANDATORY_FIELDS_MISSING",
        "message": "Valid search criteria fields missing, please give some valid criteria like mobileNumber/email OR "
        "'businessService & consumerCode' OR demandId",
        "fields": {},
    }
    assert bad_mobile.status_code == 400
    assert bad_mobile.json() == {
        "code": "INVALID_MOBILENUMBER",
        "message": "mobileNumber must be 10 digits",
        "fields": {"mobileNumber": ["mobileNumber must be 10 digits"]},
    }
    assert Bill.objects.count() == 0


# --- cancel -------------------------------------------------------------------------------------


@pytest.fixture
def billed(emp: Any) -> Bill:
    pt_demand(caller_for(emp), "PT-1")
    return fetch(caller_for(emp), "PT-1")[0]


def test_cancel_cancels_the_bill_with_its_reason(client, billed):
    response = post(
        client,
        f"{BILLS}{billed.pk}/cancel/",
        {"reason": "OTHER", "reason_message": "Wrong demand", "description": "typo"},
        at=LATER,
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["effective_status"]) == ("CANCELLED", "CANCELLED")
    assert response.json()["additional_details"] == {
        "reason": "OTHER",
        "reasonMessage": "Wrong demand",
        "description": "typo",
    }
    billed.refresh_from_db()
    assert (billed.status, billed.modified_by, billed.modified_at) == ("CANCELLED", "emp-asr", LATER)
    assert list(Demand.objects.values_list("status", flat=True)) == ["ACTIVE"]


def test_cancel_refusals(client, billed, history_free_jalandhar_bill):
    url = f"{BILLS}{billed.pk}/cancel/"
    reason = {"reason": "OTHER", "reason_message": "Wrong demand"}

    no_reason = post(client, url, {"reason_message": "Wrong demand"})
    Bill.objects.filter(pk=billed.pk).update(status=BillStatus.PAID)
    paid = post(client, url, reason)
    Bill.objects.filter(pk=billed.pk).update(status=BillStatus.EXPIRED)
    expired = post(client, url, reason)
    other_city = post(client, f"{BILLS}{history_free_jalandhar_bill.pk}/cancel/", reason)

    assert (no_reason.status_code, no_reason.json()["fields"]) == (400, {"reason": ["This field is required."]})
    assert (paid.status_code, paid.json()) == (
        409,
        {"code": "EG_BS_BILL_PAID", "message": "You cannot cancel the bill in the workflow", "fields": {}},
    )
    assert (expired.status_code, expired.json()) == (
        409,
        {"code": "EG_BS_BILL_NOT_ACTIVE", "message": "Bill BILLNO-PT-000001 is EXPIRED", "fields": {}},
    )
    assert other_city.status_code == 404
    billed.refresh_from_db()
    assert billed.additional_details is None


@pytest.fixture
def history_free_jalandhar_bill(seed: dict[str, Tenant]) -> Bill:
    jalandhar = caller_for(employee("emp-jal", "pb.jalandhar"))
    pt_demand(jalandhar, "PT-J", tenant="pb.jalandhar")
    return fetch(jalandhar, "PT-J", tenant="pb.jalandhar")[0]


def test_a_citizen_cannot_cancel_their_bill(history, payer):
    citizen = make_user("asha", {"pb": ["CITIZEN"]})
    Payer.objects.filter(pk=payer.pk).update(user=citizen)

    response = post(
        token_client(citizen), f"{BILLS}{history['pt2'].pk}/cancel/", {"reason": "OTHER", "reason_message": "x"}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "PERMISSION_DENIED"
    assert Bill.objects.get(pk=history["pt2"].pk).status == "ACTIVE"
