"""DIGIT face of amendments: /billing-service/amendment/_create, _update, _search (reference §7.10, §15)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from amendments.models import Amendment
from billing_project import clock
from demands.models import DemandDetail
from demands.services import DemandInput, PayerInput, demand_create
from masters.access import Caller
from masters.models import Payer, PayerType, Role
from tests.amendments.conftest import AT, LATER, amend, amendment_snapshot, wc_demand

pytestmark = pytest.mark.django_db

CREATE = "/billing-service/amendment/_create"
UPDATE = "/billing-service/amendment/_update"
SEARCH = "/billing-service/amendment/_search"
REQUEST_INFO = {"apiId": "Rainmaker", "ver": ".01", "ts": 1700000000000, "msgId": "20170310130900|en_IN"}
AT_MS = 1714557600000
LATER_MS = 1714649400000


def response_info(status: str) -> dict[str, Any]:
    return {
        "apiId": "Rainmaker",
        "ver": ".01",
        "ts": 1700000000000,
        "resMsgId": None,
        "msgId": "20170310130900|en_IN",
        "status": status,
    }


def error(code: str, message: str) -> dict[str, Any]:
    return {"ResponseInfo": None, "Errors": [{"code": code, "message": message, "description": None, "params": None}]}


@pytest.fixture
def employee_client(seed: Any, api_client_for: Any) -> Any:
    return api_client_for("emp-api", {"pb.amritsar": [Role.EMPLOYEE]})


@pytest.fixture
def approver_client(seed: Any, api_client_for: Any) -> Any:
    return api_client_for("approver-api", {"pb.amritsar": [Role.AMENDMENT_APPROVER]})


def post(client: Any, url: str, body: dict[str, Any] | None = None, *, at: dt.datetime = AT, query: str = "") -> Any:
    with clock.frozen(at):
        return client.post(url + query, {"RequestInfo": REQUEST_INFO, **(body or {})}, format="json")


def amendment_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "tenantId": "pb.amritsar",
        "consumerCode": "WS/107/2021-22/227166",
        "businessService": "WC",
        "amendmentReason": "COURT_CASE_SETTLEMENT",
        "reasonDocumentNumber": "1234",
        "effectiveFrom": 1652227200000,
        "effectiveTill": 1652313600000,
        "documents": [{"documentType": "COURTORDER", "fileStoreId": "0ba7df45"}],
        "demandDetails": [
            {"taxHeadMasterCode": "WS_CHARGE", "taxAmount": -100},
            {"taxHeadMasterCode": "WS_TIME_PENALTY", "taxAmount": -10},
        ],
        "additionalDetails": {"searchBillDetails": {"WS_CHARGE": "100", "WS_TIME_PENALTY": "10", "TOTAL": 110}},
        "workflow": {"action": "APPROVE"},  # ignored: the server sets the workflow
    }
    body.update(overrides)
    return body


def update_body(amendment_id: str, action: str = "APPROVE", **workflow: Any) -> dict[str, Any]:
    return {
        "AmendmentUpdate": {
            "amendmentId": amendment_id,
            "tenantId": "pb.amritsar",
            "amendmentReason": "COURT_CASE_SETTLEMENT",
            "workflow": {
                "businessId": amendment_id,
                "action": action,
                "tenantId": "pb.amritsar",
                "businessService": "WC.AMENDMENT",
                "moduleName": "WC",
                "comment": "ok",
                **workflow,
            },
            "additionalDetails": {"comments": "ok"},
        }
    }


def test_create_answers_201_with_the_reference_shape(employee_client: Any, wc_masters: Any) -> None:
    response = post(employee_client, CREATE, {"Amendment": amendment_body()})
    assert response.status_code == 201, response.json()
    stored = Amendment.objects.get()
    [charge, penalty] = stored.details.order_by("position")
    [document] = stored.documents.all()
    [opened] = stored.transitions.all()
    assert response.json() == {
        "ResponseInfo": response_info("201 CREATED"),
        "Amendments": [
            {
                "id": str(stored.pk),
                "tenantId": "pb.amritsar",
                "amendmentId": "DN-WS/107/2021-22/227166-000001",
                "businessService": "WC",
                "consumerCode": "WS/107/2021-22/227166",
                "amendmentReason": "COURT_CASE_SETTLEMENT",
                "reasonDocumentNumber": "1234",
                "status": "INWORKFLOW",
                "workflow": {
                    "id": str(opened.pk),
                    "tenantId": "pb.amritsar",
                    "businessService": "WC.AMENDMENT",
                    "businessId": "DN-WS/107/2021-22/227166-000001",
                    "action": "OPEN",
                    "moduleName": "WC",
                    "state": {
                        "tenantId": "pb.amritsar",
                        "businessServiceId": "WC.AMENDMENT",
                        "state": "APPROVALPENDING",
                        "applicationStatus": "INWORKFLOW",
                    },
                    "comment": None,
                    "assigner": {"userName": "emp-api"},
                    "documents": None,
                    "auditDetails": {
                        "createdBy": "emp-api",
                        "lastModifiedBy": "emp-api",
                        "createdTime": AT_MS,
                        "lastModifiedTime": AT_MS,
                    },
                },
                "demandDetails": [
                    {
                        "id": str(charge.pk),
                        "demandId": None,
                        "taxHeadMasterCode": "WS_CHARGE",
                        "taxAmount": -100.0,
                        "collectionAmount": 0.0,
                        "additionalDetails": None,
                        "auditDetails": None,
                        "tenantId": "pb.amritsar",
                    },
                    {
                        "id": str(penalty.pk),
                        "demandId": None,
                        "taxHeadMasterCode": "WS_TIME_PENALTY",
                        "taxAmount": -10.0,
                        "collectionAmount": 0.0,
                        "additionalDetails": None,
                        "auditDetails": None,
                        "tenantId": "pb.amritsar",
                    },
                ],
                "documents": [
                    {
                        "id": str(document.pk),
                        "documentType": "COURTORDER",
                        "fileStoreId": "0ba7df45",
                        "documentUid": None,
                        "additionalDetails": None,
                    }
                ],
                "effectiveFrom": 1652227200000,
                "effectiveTill": 1652313600000,
                "amendedDemandId": None,
                "auditDetails": {
                    "createdBy": "emp-api",
                    "lastModifiedBy": "emp-api",
                    "createdTime": AT_MS,
                    "lastModifiedTime": AT_MS,
                },
                "additionalDetails": {"searchBillDetails": {"WS_CHARGE": "100", "WS_TIME_PENALTY": "10", "TOTAL": 110}},
            }
        ],
    }


def test_create_validation_errors_use_the_reference_codes(employee_client: Any, wc_masters: Any) -> None:
    response = post(employee_client, CREATE, {"Amendment": amendment_body(businessService="TL")})
    assert (response.status_code, response.json()) == (
        400,
        error("EG_BS_AMENDMENT_DISABLED_ERROR", "Amendment is disabled for the given Business-service : TL"),
    )
    response = post(
        employee_client,
        CREATE,
        {
            "Amendment": amendment_body(
                demandDetails=[
                    {"taxHeadMasterCode": "WS_CHARGE", "taxAmount": -1},
                    {"taxHeadMasterCode": "WS_CHARGE", "taxAmount": 1},
                ]
            )
        },
    )
    assert (response.status_code, response.json()) == (
        400,
        error("EG_BS_AMENDMENT_TAXAMOUNT_ERROR", "All Tax amounts should either be positive or negative"),
    )
    response = post(employee_client, CREATE, {"Amendment": amendment_body(amendmentReason="court_case_settlement")})
    assert response.status_code == 400
    assert [e["code"] for e in response.json()["Errors"]] == ["invalid_choice.Amendment.amendmentReason"]
    response = post(employee_client, CREATE, {"Amendment": amendment_body(demandDetails=[])})
    assert [e["code"] for e in response.json()["Errors"]] == ["empty.Amendment.demandDetails.non_field_errors"]
    response = post(employee_client, CREATE, {"Amendment": "nope"})
    assert response.status_code == 400
    assert not Amendment.objects.exists()


def test_keys_are_case_insensitive(employee_client: Any, wc_masters: Any) -> None:
    body = {k.lower(): v for k, v in amendment_body().items()}
    response = post(employee_client, CREATE, {"amendment": body})
    assert response.status_code == 201, response.json()
    assert response.json()["Amendments"][0]["reasonDocumentNumber"] == "1234"


def test_update_approves_and_applies(
    employee_client: Any, approver_client: Any, employee: Caller, wc_masters: Any
) -> None:
    [demand] = demand_create(caller=employee, demands=[wc_demand("WS/107/2021-22/227166")], at=AT)
    amendment_id = post(employee_client, CREATE, {"Amendment": amendment_body()}).json()["Amendments"][0]["amendmentId"]

    response = post(approver_client, UPDATE, update_body(amendment_id), at=LATER)

    assert response.status_code == 200, response.json()
    [body] = response.json()["Amendments"]
    assert (body["status"], body["amendedDemandId"], body["additionalDetails"]["comments"]) == (
        "CONSUMED",
        str(demand.pk),
        "ok",
    )
    assert body["workflow"]["action"] == "APPROVE"
    assert body["workflow"]["state"] == {
        "tenantId": "pb.amritsar",
        "businessServiceId": "WC.AMENDMENT",
        "state": "APPROVED",
        "applicationStatus": "ACTIVE",
    }
    assert body["workflow"]["comment"] == "ok"
    assert [d["demandId"] for d in body["demandDetails"]] == [str(demand.pk)] * 2
    assert DemandDetail.objects.filter(demand=demand).count() == 3


def test_update_errors(employee_client: Any, approver_client: Any, wc_masters: Any, settings: Any) -> None:
    amendment_id = post(employee_client, CREATE, {"Amendment": amendment_body()}).json()["Amendments"][0]["amendmentId"]
    before = amendment_snapshot()

    response = post(approver_client, UPDATE, update_body("DN-NOPE-000009"))
    assert (response.status_code, response.json()) == (
        400,
        error(
            "EG_BS_AMENDMENT_UPDATE_ERROR",
            "No Amendment found in the system for the given amendmentId, Please provide valid id for update",
        ),
    )
    response = post(approver_client, UPDATE, update_body(amendment_id, moduleName=None))
    assert (response.status_code, response.json()) == (
        400,
        error(
            "EG_BS_AMENDMENT_UPDATE_WF_ERROR",
            "Mandatory workflow fileds missing in the update request, Please add all the following fields "
            "workflow.action, workflow.businessId, workflow.moduleName, workflow.businessService",
        ),
    )
    # The creator may not decide: 403 with the stable code.
    response = post(employee_client, UPDATE, update_body(amendment_id))
    assert (response.status_code, response.json()["Errors"][0]["code"]) == (403, "EG_BS_AMENDMENT_ACTION_NOT_ALLOWED")
    settings.AMENDMENT_WORKFLOW_ENABLED = False
    response = post(approver_client, UPDATE, update_body(amendment_id))
    assert (response.status_code, response.json()) == (
        400,
        error("EG_BS_AMENDMENT_UPDATE_WF_ERROR", "Amendment update is not allowed when workflow is disabled"),
    )
    assert amendment_snapshot() == before


def test_search_finds_amendments_without_documents(employee_client: Any, employee: Caller, wc_masters: Any) -> None:
    with_docs = amend(employee, "C-1", at=AT)
    without_docs = amend(employee, "C-2", documents=(), at=LATER)

    response = post(employee_client, SEARCH, query="?tenantId=pb.amritsar&businessService=WC")
    assert response.status_code == 200, response.json()
    found = response.json()["Amendments"]
    assert [(a["amendmentId"], len(a["documents"])) for a in found] == [
        (without_docs.amendment_id, 0),
        (with_docs.amendment_id, 1),
    ]
    response = post(employee_client, SEARCH, query="?tenantId=pb.amritsar&businessService=WC&consumerCode=C-2")
    assert [a["amendmentId"] for a in response.json()["Amendments"]] == [without_docs.amendment_id]


def test_search_criteria(employee_client: Any, employee: Caller, wc_masters: Any, seed: Any) -> None:
    first = amend(employee, "C-1", at=AT)
    second = amend(employee, "C-2", at=LATER)
    payer = Payer.objects.create(tenant=seed["pb"], name="Asha", mobile_number="9999999999", type=PayerType.CITIZEN)
    demand_create(
        caller=employee,
        demands=[DemandInput(**{**wc_demand("C-2").__dict__, "payer": PayerInput(uuid=payer.uuid)})],
        at=LATER,
    )

    def ids(query: str) -> list[str]:
        response = post(employee_client, SEARCH, query="?tenantId=pb.amritsar&businessService=WC" + query)
        assert response.status_code == 200, response.json()
        return [a["amendmentId"] for a in response.json()["Amendments"]]

    assert ids("") == [second.amendment_id, first.amendment_id]
    assert ids(f"&amendmentId={first.amendment_id}") == [first.amendment_id]
    assert ids("&consumerCode=C-1,C-2&limit=1") == [second.amendment_id]
    assert ids("&limit=1&offset=1") == [first.amendment_id]
    assert ids("&status=INWORKFLOW") == [second.amendment_id, first.amendment_id]
    assert ids("&status=ACTIVE,CONSUMED") == []
    assert ids("&mobileNumber=9999999999") == [second.amendment_id]
    assert ids("&mobileNumber=9999999999&consumerCode=C-1") == []
    assert ids("&mobileNumber=8888888888") == []

    for query, message in (
        (
            "?tenantId=pb.amritsar&consumerCode=C-1",
            "Consumer codes require businesService as mandatory parameter for search",
        ),
        ("?tenantId=pb.amritsar", "businessService is mandatory for amendment search"),
        ("?businessService=WC", "tenantId is mandatory for amendment search"),
        ("?tenantId=pb.amritsar&businessService=WC&status=GONE", "Unknown amendment status : [GONE]"),
        ("?tenantId=pb.amritsar&businessService=WC&limit=0", "offset must be >= 0 and limit from 1 to 1000"),
    ):
        response = post(employee_client, SEARCH, query=query)
        assert (response.status_code, response.json()) == (400, error("EG_BS_AMENDMENT_CRITERIA_ERROR", message))
    response = post(employee_client, SEARCH, query="?tenantId=pb.amritsar&businessService=WC&limit=x")
    assert response.status_code == 400


def test_search_is_scoped_to_the_callers_tenants(api_client_for: Any, employee: Caller, wc_masters: Any) -> None:
    amend(employee, "C-1")
    other = api_client_for("emp-jal", {"pb.jalandhar": [Role.EMPLOYEE]})
    citizen = api_client_for("citizen", {"pb": [Role.CITIZEN]})
    for client in (other, citizen):
        response = post(client, SEARCH, query="?tenantId=pb.amritsar&businessService=WC")
        assert (response.status_code, response.json()["Amendments"]) == (200, [])


def test_unauthenticated_is_refused(anon_client: Any, wc_masters: Any) -> None:
    response = post(anon_client, CREATE, {"Amendment": amendment_body()})
    assert response.status_code == 401
    assert not Amendment.objects.exists()
