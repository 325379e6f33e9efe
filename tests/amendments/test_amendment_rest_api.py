"""REST face of amendments: /api/v1/amendments/ — create, list filters, retrieve, one endpoint per transition."""

from __future__ import annotations

from typing import Any

import pytest

from amendments.models import Amendment
from billing_project import clock
from demands.models import DemandDetail
from demands.services import demand_create
from masters.access import Caller
from masters.models import Role
from tests.amendments.conftest import AT, LATER, amend, amendment_snapshot, wc_demand

pytestmark = pytest.mark.django_db

URL = "/api/v1/amendments/"


@pytest.fixture
def employee_client(seed: Any, api_client_for: Any) -> Any:
    return api_client_for("emp-rest", {"pb.amritsar": [Role.EMPLOYEE]})


@pytest.fixture
def approver_client(seed: Any, api_client_for: Any) -> Any:
    return api_client_for("approver-rest", {"pb.amritsar": [Role.AMENDMENT_APPROVER]})


def body(**overrides: Any) -> dict[str, Any]:
    data = {
        "tenant": "pb.amritsar",
        "consumer_code": "WS-107-001",
        "business_service": "WC",
        "reason": "ONE_TIME_SETTLEMENT",
        "details": [
            {"tax_head_code": "WS_CHARGE", "tax_amount": "-100.00"},
            {"tax_head_code": "WS_TIME_PENALTY", "tax_amount": "-10.00"},
        ],
        "documents": [{"document_type": "COURTORDER", "file_store_id": "fs-1"}],
    }
    data.update(overrides)
    return data


def test_create_then_approve_through_the_transition_endpoint(
    employee_client: Any, approver_client: Any, employee: Caller, wc_masters: Any
) -> None:
    [demand] = demand_create(caller=employee, demands=[wc_demand()], at=AT)
    with clock.frozen(AT):
        created = employee_client.post(URL, body(), format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    stored = Amendment.objects.get()
    assert data == {
        "id": str(stored.pk),
        "amendment_id": "DN-WS-107-001-000001",
        "tenant": "pb.amritsar",
        "consumer_code": "WS-107-001",
        "business_service": "WC",
        "reason": "ONE_TIME_SETTLEMENT",
        "reason_document_number": "",
        "effective_from": None,
        "effective_till": None,
        "state": "APPROVALPENDING",
        "status": "INWORKFLOW",
        "amended_demand": None,
        "consumed_at": None,
        "additional_details": None,
        "details": [
            {"id": str(line.pk), "tax_head_code": line.tax_head_code, "tax_amount": str(line.tax_amount)}
            for line in stored.details.order_by("position")
        ],
        "total": "-110.00",
        "documents": [
            {
                "id": str(stored.documents.get().pk),
                "document_type": "COURTORDER",
                "file_store_id": "fs-1",
                "document_uid": "",
                "additional_details": None,
            }
        ],
        "transitions": [
            {
                "action": "OPEN",
                "from_state": "NEW",
                "to_state": "APPROVALPENDING",
                "status": "INWORKFLOW",
                "actor": "emp-rest",
                "at": "2024-05-01T10:00:00Z",
                "comment": "",
                "demand": None,
            }
        ],
        "created_by": "emp-rest",
        "created_at": "2024-05-01T10:00:00Z",
        "modified_by": "emp-rest",
        "modified_at": "2024-05-01T10:00:00Z",
    }

    with clock.frozen(LATER):
        approved = approver_client.post(f"{URL}{stored.pk}/approve/", {"comment": "fine"}, format="json")
    assert approved.status_code == 200, approved.json()
    assert (approved.json()["state"], approved.json()["status"], approved.json()["amended_demand"]) == (
        "APPROVED",
        "CONSUMED",
        str(demand.pk),
    )
    assert [t["action"] for t in approved.json()["transitions"]] == ["OPEN", "APPROVE", "APPLY"]
    assert DemandDetail.objects.filter(demand=demand).count() == 3


def test_transition_endpoints_and_errors(
    employee_client: Any, approver_client: Any, employee: Caller, wc_masters: Any
) -> None:
    amendment = amend(employee)
    before = amendment_snapshot()

    response = approver_client.post(f"{URL}{amendment.pk}/withdraw/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "EG_BS_AMENDMENT_ACTION_NOT_ALLOWED")
    response = employee_client.post(f"{URL}{amendment.pk}/approve/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "EG_BS_AMENDMENT_ACTION_NOT_ALLOWED")
    response = approver_client.post(f"{URL}00000000-0000-0000-0000-000000000000/approve/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (404, "EG_BS_AMENDMENT_NOT_FOUND")
    response = approver_client.post(f"{URL}{'-' * 36}/approve/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (404, "EG_BS_AMENDMENT_NOT_FOUND")
    assert approver_client.get(f"{URL}{'-' * 36}/").status_code == 404
    assert amendment_snapshot() == before

    response = approver_client.post(f"{URL}{amendment.pk}/send-back/", {"comment": "order?"}, format="json")
    assert (response.status_code, response.json()["state"]) == (200, "PENDING_FOR_CITIZEN_ACTION")
    response = approver_client.post(f"{URL}{amendment.pk}/reject/", {}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "code": "EG_BS_AMENDMENT_STATE_ERROR",
        "message": f"Action REJECT is not possible on amendment {amendment.amendment_id} in state "
        "PENDING_FOR_CITIZEN_ACTION",
        "fields": {},
    }
    response = employee_client.post(f"{URL}{amendment.pk}/resubmit/", {}, format="json")
    assert (response.status_code, response.json()["state"]) == (200, "APPROVALPENDING")
    # Only the creator (emp-asr) withdraws; another employee may not.
    response = employee_client.post(f"{URL}{amendment.pk}/withdraw/", {"comment": "dup"}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "EG_BS_AMENDMENT_ACTION_NOT_ALLOWED")
    response = approver_client.post(f"{URL}{amendment.pk}/approve/", {}, format="json")
    assert (response.status_code, response.json()["status"], response.json()["amended_demand"]) == (200, "ACTIVE", None)


def test_create_errors(employee_client: Any, wc_masters: Any) -> None:
    response = employee_client.post(URL, body(details=[]), format="json")
    assert (response.status_code, response.json()["code"]) == (400, "VALIDATION_ERROR")
    response = employee_client.post(URL, body(business_service="TL"), format="json")
    assert response.json() == {
        "code": "EG_BS_AMENDMENT_DISABLED_ERROR",
        "message": "Amendment is disabled for the given Business-service : TL",
        "fields": {},
    }
    response = employee_client.post(
        URL, body(details=[{"tax_head_code": "NOPE", "tax_amount": "1.005"}]), format="json"
    )
    assert response.status_code == 400
    assert not Amendment.objects.exists()


def test_list_filters(
    employee_client: Any, approver: Caller, employee: Caller, api_client_for: Any, wc_masters: Any
) -> None:
    first = amend(employee, "C-1", at=AT)
    second = amend(employee, "C-2", at=LATER, reason="DCB_CORRECTION")
    from tests.amendments.conftest import decide

    decide(approver, first, "REJECT")

    def ids(query: str = "", client: Any = employee_client) -> list[str]:
        response = client.get(URL + query)
        assert response.status_code == 200, response.json()
        return [row["amendment_id"] for row in response.json()["results"]]

    assert ids() == [second.amendment_id, first.amendment_id]
    assert ids("?status=INACTIVE") == [first.amendment_id]
    assert ids("?state=APPROVALPENDING") == [second.amendment_id]
    assert ids("?reason=DCB_CORRECTION") == [second.amendment_id]
    assert ids("?consumer_code=C-1&business_service=WC&tenant=pb.amritsar") == [first.amendment_id]
    assert ids("?ordering=created_at") == [first.amendment_id, second.amendment_id]
    assert ids(client=api_client_for("emp-jal", {"pb.jalandhar": [Role.EMPLOYEE]})) == []
    assert employee_client.get(URL + "?status=NOPE").status_code == 400
    assert employee_client.get(f"{URL}{first.pk}/").json()["status"] == "INACTIVE"
