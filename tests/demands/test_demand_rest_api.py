"""REST face of demands: /api/v1/demands/ — list filters, ordering, pagination, retrieve, create, update,
cancel, history, tenant isolation, and the {"code","message","fields"} error body."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from billing_project import clock
from demands.models import Demand, DemandDetail
from demands.services import PayerInput, demand_cancel, demand_create
from masters.access import caller_for
from masters.models import Payer, Role
from tests.demands.conftest import (
    AT,
    LATER,
    PTAN2017_FROM,
    PTAN2017_TO,
    PTAN2018_FROM,
    PTAN2018_TO,
    TLAN2018_FROM,
    TLAN2018_TO,
    line,
    pt_demand,
    revision_of,
    snapshot,
)

URL = "/api/v1/demands/"
P2019_FROM_ISO, P2019_TO_ISO = "2019-03-31T23:59:59Z", "2020-03-31T18:29:59Z"
AT_ISO, LATER_ISO = "2024-05-01T10:00:00Z", "2024-05-02T11:30:00Z"


def err(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": fields or {}}


@pytest.fixture
def client(seed, api_client_for):
    return api_client_for("emp-asr", {"pb.amritsar": [Role.EMPLOYEE]})


class World:
    def __init__(self, demands: dict[str, Demand], asha: Payer, ravi: Payer, citizen: Any) -> None:
        self.demands, self.asha, self.ravi, self.citizen = demands, asha, ravi, citizen

    def labels(self, body: Any) -> list[str]:
        names = {str(d.pk): name for name, d in self.demands.items()}
        rows = body["results"] if isinstance(body, dict) else body
        return [names[row["id"]] for row in rows]


@pytest.fixture
def world(client, user_factory, payer_factory) -> World:
    """pb.amritsar: D (PT-3 2017, Ravi, cancelled), A (PT-1 2018, Asha), E (TL-1 2018, Ravi),
    B (PT-1 2019, Asha, paid), C (PT-2 2019, no payer); pb.jalandhar: F (PT-1 2019, Asha)."""
    citizen = user_factory("ravi-login", {"pb": [Role.CITIZEN]})
    asha = payer_factory("Asha Devi", "9876543210", email="asha@example.org")
    ravi = payer_factory("Ravi Kumar", "9000000001", user=citizen)
    state_employee = caller_for(user_factory("emp-pb", {"pb": [Role.EMPLOYEE]}))

    def make(**kwargs: Any) -> Demand:
        [demand] = demand_create(caller=state_employee, demands=[pt_demand(**kwargs)], at=AT)
        return demand

    demands = {
        "A": make(consumer_code="PT-1", period=(PTAN2018_FROM, PTAN2018_TO), payer=PayerInput(uuid=asha.uuid)),
        "B": make(consumer_code="PT-1", payer=PayerInput(uuid=asha.uuid)),
        "C": make(consumer_code="PT-2"),
        "D": make(consumer_code="PT-3", period=(PTAN2017_FROM, PTAN2017_TO), payer=PayerInput(uuid=ravi.uuid)),
        "E": make(
            consumer_code="TL-1",
            business_service="TL",
            period=(TLAN2018_FROM, TLAN2018_TO),
            details=(line("TL_TAX", "10"),),
            payer=PayerInput(uuid=ravi.uuid),
        ),
        "F": make(consumer_code="PT-1", tenant="pb.jalandhar", payer=PayerInput(uuid=asha.uuid)),
    }
    demand_cancel(caller=state_employee, demand_id=demands["D"].pk, at=LATER)
    Demand.objects.filter(pk=demands["B"].pk).update(is_payment_completed=True)
    return World(demands, asha, ravi, citizen)


# --- list ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["D", "A", "E", "B", "C"]),
        ("tenant=pb.amritsar", ["D", "A", "E", "B", "C"]),
        ("tenant=pb.jalandhar", []),
        ("consumer_code=PT-1", ["A", "B"]),
        ("business_service=TL", ["E"]),
        ("status=CANCELLED", ["D"]),
        ("status=ACTIVE", ["A", "E", "B", "C"]),
        ("mobile_number=9000000001", ["D", "E"]),
        ("period_from=2018-04-01T00:00:00Z", ["A", "E", "B", "C"]),
        ("period_to=2019-03-31T23:59:59Z", ["D", "A", "E"]),
        ("period_from=2018-04-01T00:00:00Z&period_to=2019-03-31T23:59:59Z", ["A", "E"]),
        ("is_payment_completed=true", ["B"]),
        ("is_payment_completed=false", ["D", "A", "E", "C"]),
        ("business_service=PT&status=ACTIVE&consumer_code=PT-1", ["A", "B"]),
        ("ordering=-tax_period_from,consumer_code", ["B", "C", "A", "E", "D"]),
        ("ordering=consumer_code,tax_period_from", ["A", "B", "C", "D", "E"]),
        ("ordering=-consumer_code,-tax_period_to", ["E", "D", "C", "B", "A"]),
    ],
)
def test_list_filters_and_ordering(client, world, query, expected):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    assert world.labels(response.json()) == expected


def test_list_by_payer(client, world):
    response = client.get(f"{URL}?payer={world.asha.uuid}")
    assert world.labels(response.json()) == ["A", "B"]
    response = client.get(f"{URL}?payer={world.ravi.uuid}&business_service=TL")
    assert world.labels(response.json()) == ["E"]


def test_list_pagination(client, world):
    first = client.get(f"{URL}?page_size=2").json()
    assert (first["count"], first["previous"], world.labels(first)) == (5, None, ["D", "A"])
    assert first["next"] == "http://testserver/api/v1/demands/?page=2&page_size=2"
    last = client.get(f"{URL}?page_size=2&page=3").json()
    assert (last["count"], last["next"], world.labels(last)) == (5, None, ["C"])
    assert last["previous"] == "http://testserver/api/v1/demands/?page=2&page_size=2"
    response = client.get(f"{URL}?page=9")
    assert (response.status_code, response.json()) == (404, err("NOT_FOUND", "Invalid page."))


def test_list_refuses_unknown_ordering_and_bad_filter_values(client, world):
    response = client.get(f"{URL}?ordering=payer")
    assert (response.status_code, response.json()) == (
        400,
        err(
            "VALIDATION_ERROR",
            "Invalid input.",
            {
                "ordering": [
                    "Unknown ordering field(s): payer. Allowed: consumer_code, created_at, modified_at, "
                    "tax_period_from, tax_period_to."
                ]
            },
        ),
    )
    response = client.get(f"{URL}?status=PAID")
    assert (response.status_code, response.json()) == (
        400,
        err(
            "VALIDATION_ERROR",
            "Invalid input.",
            {"status": ["Select a valid choice. PAID is not one of the available choices."]},
        ),
    )
    response = client.get(f"{URL}?payer=not-a-uuid")
    assert (response.status_code, response.json()) == (
        400,
        err("VALIDATION_ERROR", "Invalid input.", {"payer": ["Enter a valid UUID."]}),
    )


# --- tenant isolation and citizens ----------------------------------------------------------------


def test_employee_of_another_city_sees_nothing(world, api_client_for):
    jalandhar = api_client_for("emp-jal", {"pb.jalandhar": [Role.EMPLOYEE]})
    assert world.labels(jalandhar.get(URL).json()) == ["F"]
    assert world.labels(jalandhar.get(f"{URL}?tenant=pb.amritsar").json()) == []
    a = world.demands["A"].pk
    response = jalandhar.get(f"{URL}{a}/")
    assert (response.status_code, response.json()) == (404, err("NOT_FOUND", "Not found."))
    response = jalandhar.get(f"{URL}{a}/history/")
    assert (response.status_code, response.json()) == (
        404,
        err("EG_BS_DEMANDS_NOT_FOUND", f"No Demands not found in db for following ids : [{a}]"),
    )
    before = snapshot()
    response = jalandhar.post(f"{URL}{a}/cancel/")
    assert (response.status_code, response.json()) == (
        404,
        err("EG_BS_DEMANDS_NOT_FOUND", f"No Demands not found in db for following ids : [{a}]"),
    )
    response = jalandhar.put(f"{URL}{a}/", rest_body(), format="json")
    assert (response.status_code, response.json()) == (
        404,
        err("EG_BS_DEMANDS_NOT_FOUND", f"No Demands not found in db for following ids : [{a}]"),
    )
    response = jalandhar.post(URL, rest_body(consumer_code="PT-NEW"), format="json")
    assert (response.status_code, response.json()) == (
        403,
        err(
            "PERMISSION_DENIED",
            "You need one of the roles EMPLOYEE, BILLING_ADMIN, SYSTEM in pb.amritsar to create demands.",
        ),
    )
    assert snapshot() == before


def test_digit_search_of_another_city_is_empty(world, api_client_for):
    jalandhar = api_client_for("emp-jal", {"pb.jalandhar": [Role.EMPLOYEE]})
    response = jalandhar.post(
        "/billing-service/demand/_search?tenantId=pb.amritsar&consumerCode=PT-1,PT-2,PT-3,TL-1",
        {"RequestInfo": {}},
        format="json",
    )
    assert (response.status_code, response.json()["Demands"]) == (200, [])


def test_citizen_sees_only_demands_where_they_are_the_payer(world, api_client_for):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token, _ = Token.objects.get_or_create(user=world.citizen)
    citizen = APIClient()
    citizen.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert world.labels(citizen.get(URL).json()) == ["D", "E"]
    assert world.labels(citizen.get(f"{URL}?mobile_number=9876543210").json()) == []
    assert citizen.get(f"{URL}{world.demands['E'].pk}/").status_code == 200
    assert citizen.get(f"{URL}{world.demands['A'].pk}/").status_code == 404
    response = citizen.post(URL, rest_body(consumer_code="PT-NEW"), format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "PERMISSION_DENIED"
    # And on the DIGIT face, with the token in the Authorization header.
    response = citizen.post(
        "/billing-service/demand/_search?tenantId=pb&consumerCode=PT-1,PT-2,PT-3,TL-1",
        {"RequestInfo": {}},
        format="json",
    )
    assert world.labels(response.json()["Demands"]) == ["D", "E"]


def test_user_without_roles_is_refused(seed, api_client_for):
    nobody = api_client_for("nobody", {})
    response = nobody.get(URL)
    assert (response.status_code, response.json()) == (
        403,
        err("PERMISSION_DENIED", "Your account has no role in any tenant."),
    )


def test_anonymous_is_refused(seed, anon_client):
    response = anon_client.get(URL)
    assert (response.status_code, response.json()) == (
        401,
        err("NOT_AUTHENTICATED", "Authentication credentials were not provided."),
    )


# --- retrieve, create, update ----------------------------------------------------------------------


def rest_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "tenant": "pb.amritsar",
        "consumer_code": "PT-107-001",
        "consumer_type": "BUILTUP",
        "business_service": "PT",
        "tax_period_from": P2019_FROM_ISO,
        "tax_period_to": P2019_TO_ISO,
        "details": [{"tax_head_code": "PT_TAX", "tax_amount": "500.00"}],
    }
    body.update(overrides)
    return body


def test_create_answers_201_with_the_whole_demand(client, payer_factory):
    payer = payer_factory("Asha Devi", "9876543210", email="asha@example.org")
    with clock.frozen(AT):
        response = client.post(
            URL,
            rest_body(
                payer={"uuid": str(payer.uuid)},
                details=[
                    {"tax_head_code": "PT_TAX", "tax_amount": "1000.50", "additional_details": {"basis": "ARV"}},
                    {"tax_head_code": "PT_TIME_REBATE", "tax_amount": "-50", "collection_amount": "-20"},
                ],
                bill_expiry_time="10 00:00:00",
                fixed_bill_expiry_date="2024-06-30T23:59:59Z",
                minimum_amount_payable="100",
                additional_details={"propertyType": "BUILTUP"},
            ),
            format="json",
        )
    assert response.status_code == 201
    demand = Demand.objects.get()
    tax = DemandDetail.objects.get(tax_head_code="PT_TAX")
    rebate = DemandDetail.objects.get(tax_head_code="PT_TIME_REBATE")
    assert response.json() == {
        "id": str(demand.pk),
        "tenant": "pb.amritsar",
        "consumer_code": "PT-107-001",
        "consumer_type": "BUILTUP",
        "business_service": "PT",
        "payer": {
            "uuid": str(payer.uuid),
            "name": "Asha Devi",
            "mobile_number": "9876543210",
            "email": "asha@example.org",
        },
        "tax_period_from": P2019_FROM_ISO,
        "tax_period_to": P2019_TO_ISO,
        "bill_expiry_time": "10 00:00:00",
        "fixed_bill_expiry_date": "2024-06-30T23:59:59Z",
        "minimum_amount_payable": "100.00",
        "additional_details": {"propertyType": "BUILTUP"},
        "is_payment_completed": False,
        "status": "ACTIVE",
        "details": [
            {
                "id": str(tax.pk),
                "tax_head_code": "PT_TAX",
                "tax_amount": "1000.50",
                "collection_amount": "0.00",
                "additional_details": {"basis": "ARV"},
                "created_by": "emp-asr",
                "created_at": AT_ISO,
                "modified_by": "emp-asr",
                "modified_at": AT_ISO,
            },
            {
                "id": str(rebate.pk),
                "tax_head_code": "PT_TIME_REBATE",
                "tax_amount": "-50.00",
                "collection_amount": "-20.00",
                "additional_details": None,
                "created_by": "emp-asr",
                "created_at": AT_ISO,
                "modified_by": "emp-asr",
                "modified_at": AT_ISO,
            },
        ],
        "total_tax": "950.50",
        "total_collected": "-20.00",
        "total_due": "970.50",
        "created_by": "emp-asr",
        "created_at": AT_ISO,
        "modified_by": "emp-asr",
        "modified_at": AT_ISO,
    }
    # Retrieve answers the same representation.
    assert client.get(f"{URL}{demand.pk}/").json() == response.json()
    assert revision_of("PT-107-001") == 1


def test_create_errors(client):
    before = snapshot()
    response = client.post(URL, rest_body(details=[{"tax_head_code": "PT_BOGUS", "tax_amount": "1"}]), format="json")
    assert (response.status_code, response.json()) == (
        400,
        err(
            "EG_BS_TAXHEADS_NOTFOUND",
            "No TaxHead masters found for give codes [PT_BOGUS]",
            {"EG_BS_TAXHEADS_NOTFOUND": ["No TaxHead masters found for give codes [PT_BOGUS]"]},
        ),
    )
    response = client.post(
        URL,
        rest_body(
            business_service="XX",
            details=[{"tax_head_code": "PT_TAX", "tax_amount": "100", "collection_amount": "120"}],
        ),
        format="json",
    )
    invalid = (
        'Invalid demand details found with following Values : [ "collection amount : 120, cannot not be greater '
        'than taxAmount or Negative in case of positive tax : 100" ]'
    )
    assert (response.status_code, response.json()) == (
        400,
        err(
            "EG_BS_BUSINESSSERVICE_NOTFOUND",
            "No Business Service masters found for give codes [XX]",
            {
                "EG_BS_BUSINESSSERVICE_NOTFOUND": ["No Business Service masters found for give codes [XX]"],
                "EG_DEMAND_DEATIL_INVALID": [invalid],
            },
        ),
    )
    response = client.post(URL, rest_body(payer={"name": "Asha"}, details=[]), format="json")
    assert (response.status_code, response.json()) == (
        400,
        err(
            "VALIDATION_ERROR",
            "Invalid input.",
            {
                "payer.non_field_errors": ["Give the payer's uuid, or name and mobile_number."],
                "details.non_field_errors": ["This list may not be empty."],
            },
        ),
    )
    response = client.post(URL, rest_body(details=[{"tax_head_code": "PT_TAX", "tax_amount": "1.005"}]), format="json")
    assert (response.status_code, response.json()) == (
        400,
        err(
            "VALIDATION_ERROR",
            "Invalid input.",
            {"details.0.tax_amount": ["Ensure that there are no more than 2 decimal places."]},
        ),
    )
    assert snapshot() == before


def test_create_duplicate_is_a_409(client):
    assert client.post(URL, rest_body(), format="json").status_code == 201
    before = snapshot()
    response = client.post(URL, rest_body(), format="json")
    assert (response.status_code, response.json()) == (
        409,
        err(
            "EG_BS_DUPLICATE_CONSUMERCODE",
            "Demand already exists in the same period with the same businessService for the given consumercodes : "
            "[PT-107-001]",
        ),
    )
    assert snapshot() == before


def test_retrieve_of_unknown_or_malformed_id(client, world):
    response = client.get(f"{URL}{uuid.UUID(int=7)}/")
    assert (response.status_code, response.json()) == (404, err("NOT_FOUND", "Not found."))
    response = client.get(f"{URL}not-a-uuid/")
    assert (response.status_code, response.json()) == (404, err("NOT_FOUND", "Not found."))
    response = client.post(f"{URL}not-a-uuid/cancel/")
    assert (response.status_code, response.json()) == (404, err("NOT_FOUND", "No demand not-a-uuid."))


def test_update_with_put(client):
    with clock.frozen(AT):
        created = client.post(
            URL,
            rest_body(details=[{"tax_head_code": "PT_TAX", "tax_amount": "500", "collection_amount": "100"}]),
            format="json",
        ).json()
    tax_id = created["details"][0]["id"]
    with clock.frozen(LATER):
        response = client.put(
            f"{URL}{created['id']}/",
            rest_body(
                consumer_type="VACANT",
                details=[
                    {"id": tax_id, "tax_head_code": "PT_TAX", "tax_amount": "600", "collection_amount": "600"},
                    {"tax_head_code": "PT_FIRE_CESS", "tax_amount": "25", "collection_amount": "25"},
                ],
            ),
            format="json",
        )
    assert response.status_code == 200
    body = response.json()
    cess = DemandDetail.objects.get(tax_head_code="PT_FIRE_CESS")
    # consumerType is immutable through update, as in the reference: the sent value is ignored.
    assert (body["consumer_type"], body["modified_at"], body["created_at"]) == ("BUILTUP", LATER_ISO, AT_ISO)
    assert body["details"] == [
        {
            "id": tax_id,
            "tax_head_code": "PT_TAX",
            "tax_amount": "600.00",
            "collection_amount": "100.00",
            "additional_details": None,
            "created_by": "emp-asr",
            "created_at": AT_ISO,
            "modified_by": "emp-asr",
            "modified_at": LATER_ISO,
        },
        {
            "id": str(cess.pk),
            "tax_head_code": "PT_FIRE_CESS",
            "tax_amount": "25.00",
            "collection_amount": "0.00",
            "additional_details": None,
            "created_by": "emp-asr",
            "created_at": LATER_ISO,
            "modified_by": "emp-asr",
            "modified_at": LATER_ISO,
        },
    ]
    assert (body["total_tax"], body["total_collected"], body["total_due"]) == ("625.00", "100.00", "525.00")
    assert revision_of("PT-107-001") == 2

    before = snapshot()
    response = client.put(f"{URL}{created['id']}/", rest_body(consumer_code="PT-OTHER"), format="json")
    assert (response.status_code, response.json()) == (
        400,
        err(
            "EG_BS_DEMAND_IMMUTABLE_FIELD",
            "tenantId, consumerCode and businessService of a demand cannot be changed: "
            f"consumerCode of demand {created['id']} (PT-107-001 -> PT-OTHER)",
        ),
    )
    response = client.patch(f"{URL}{created['id']}/", {"consumer_type": "X"}, format="json")
    assert (response.status_code, response.json()) == (
        405,
        err("METHOD_NOT_ALLOWED", 'Method "PATCH" not allowed.'),
    )
    assert snapshot() == before


# --- cancel and history ----------------------------------------------------------------------------


def test_cancel_then_create_again_then_history(client, payer_factory):
    payer = payer_factory("Asha Devi", "9876543210")
    with clock.frozen(AT):
        created = client.post(URL, rest_body(payer={"uuid": str(payer.uuid)}), format="json").json()
    with clock.frozen(LATER):
        response = client.post(f"{URL}{created['id']}/cancel/")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["modified_at"], body["payer"]["uuid"]) == ("CANCELLED", LATER_ISO, str(payer.uuid))
    # The lines are kept as they were, written again at the cancel (as the reference re-writes sent lines).
    assert body["details"] == [{**row, "modified_at": LATER_ISO} for row in created["details"]]

    before = snapshot()
    response = client.post(f"{URL}{created['id']}/cancel/")
    assert (response.status_code, response.json()) == (
        409,
        err("EG_BS_DEMAND_ALREADY_CANCELLED", f"Demand {created['id']} is already cancelled"),
    )
    assert snapshot() == before

    # The period is free again.
    with clock.frozen(LATER):
        again = client.post(URL, rest_body(), format="json")
    assert (again.status_code, again.json()["status"]) == (201, "ACTIVE")

    response = client.get(f"{URL}{created['id']}/history/")
    assert response.status_code == 200
    detail_id = created["details"][0]["id"]
    common = {
        "payer_id": str(payer.uuid),
        "consumer_type": "BUILTUP",
        "tax_period_from": P2019_FROM_ISO,
        "tax_period_to": P2019_TO_ISO,
        "bill_expiry_time": None,
        "fixed_bill_expiry_date": None,
        "minimum_amount_payable": "0.00",
        "additional_details": None,
        "is_payment_completed": False,
    }
    line_row = {
        "detail_id": detail_id,
        "tax_head_code": "PT_TAX",
        "tax_amount": "500.00",
        "collection_amount": "0.00",
        "additional_details": None,
    }
    assert response.json() == [
        {
            "revision": 1,
            "action": "CREATE",
            "changed_by": "emp-asr",
            "changed_at": AT_ISO,
            "status": "ACTIVE",
            **common,
            "details": [line_row],
        },
        {
            "revision": 2,
            "action": "CANCEL",
            "changed_by": "emp-asr",
            "changed_at": LATER_ISO,
            "status": "CANCELLED",
            **common,
            "details": [line_row],
        },
    ]
    assert revision_of("PT-107-001") == 3
