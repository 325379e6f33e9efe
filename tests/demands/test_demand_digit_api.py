"""DIGIT face of demand writes: /billing-service/demand/_create and _update (reference §2.1, §4, §7.1, §7.2)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from billing_project import clock
from demands.models import Demand, DemandDetail
from demands.services import demand_create
from masters.access import caller_for
from masters.models import Payer, PayerType, Role
from tests.demands.conftest import (
    AT,
    AT_MS,
    LATER,
    LATER_MS,
    PTAN2018_FROM,
    PTAN2018_TO,
    PTAN2019_FROM,
    PTAN2019_TO,
    line,
    pt_demand,
    snapshot,
)

CREATE = "/billing-service/demand/_create"
UPDATE = "/billing-service/demand/_update"
REQUEST_INFO = {"apiId": "Rainmaker", "ver": ".01", "ts": 1700000000000, "msgId": "20170310130900|en_IN"}


def response_info(status: str) -> dict[str, Any]:
    return {
        "apiId": "Rainmaker",
        "ver": ".01",
        "ts": 1700000000000,
        "resMsgId": None,
        "msgId": "20170310130900|en_IN",
        "status": status,
    }


def errors(*entries: tuple[str, str] | tuple[str, str, Any]) -> dict[str, Any]:
    return {
        "ResponseInfo": None,
        "Errors": [
            {"code": e[0], "message": e[1], "description": None, "params": e[2] if len(e) > 2 else None}  # type: ignore[misc]
            for e in entries
        ],
    }


def demand_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "tenantId": "pb.amritsar",
        "consumerCode": "PT-107-001",
        "consumerType": "BUILTUP",
        "businessService": "PT",
        "taxPeriodFrom": PTAN2019_FROM,
        "taxPeriodTo": PTAN2019_TO,
        "demandDetails": [{"taxHeadMasterCode": "PT_TAX", "taxAmount": 500, "collectionAmount": 0}],
    }
    body.update(overrides)
    return body


@pytest.fixture
def client(seed, api_client_for):
    return api_client_for("emp-asr", {"pb.amritsar": [Role.EMPLOYEE]})


def post(client: Any, url: str, demands: list[dict[str, Any]], *, at: Any = AT, key: str = "Demands") -> Any:
    with clock.frozen(at):
        return client.post(url, {"RequestInfo": REQUEST_INFO, key: demands}, format="json")


def payer_json(payer: Payer) -> dict[str, Any]:
    return {
        "id": None,
        "uuid": str(payer.uuid),
        "userName": payer.mobile_number,
        "type": "CITIZEN",
        "salutation": None,
        "name": payer.name,
        "gender": None,
        "mobileNumber": payer.mobile_number,
        "emailId": payer.email or None,
        "altContactNumber": None,
        "pan": None,
        "aadhaarNumber": None,
        "fatherOrHusbandName": None,
        "permanentAddress": payer.permanent_address or None,
        "permanentCity": payer.permanent_city or None,
        "permanentPinCode": None,
        "correspondenceAddress": None,
        "correspondenceCity": None,
        "correspondencePinCode": None,
        "active": True,
        "tenantId": "pb",
    }


def audit(by: str, created: int, modified: int | None = None) -> dict[str, Any]:
    return {
        "createdBy": by,
        "lastModifiedBy": by,
        "createdTime": created,
        "lastModifiedTime": modified if modified is not None else created,
    }


# --- create --------------------------------------------------------------------------------------


def test_create_answers_201_with_the_whole_demand(client, payer_factory):
    payer = payer_factory("Asha Devi", "9876543210", email="asha@example.org", permanent_city="Amritsar")
    response = post(
        client,
        CREATE,
        [
            demand_body(
                payer={"uuid": str(payer.uuid)},
                demandDetails=[
                    {"taxHeadMasterCode": "PT_TAX", "taxAmount": 1000.5, "additionalDetails": {"basis": "ARV"}},
                    {"taxHeadMasterCode": "PT_TIME_REBATE", "taxAmount": -50, "collectionAmount": -20.25},
                ],
                fixedBillExpiryDate=1719791999999,
                additionalDetails={"propertyType": "BUILTUP"},
                minimumAmountPayable=100,
            )
        ],
    )
    assert response.status_code == 201
    demand = Demand.objects.get()
    tax = DemandDetail.objects.get(tax_head_code="PT_TAX")
    rebate = DemandDetail.objects.get(tax_head_code="PT_TIME_REBATE")
    assert response.json() == {
        "ResponseInfo": response_info("201 CREATED"),
        "Demands": [
            {
                "id": str(demand.pk),
                "tenantId": "pb.amritsar",
                "consumerCode": "PT-107-001",
                "consumerType": "BUILTUP",
                "businessService": "PT",
                "payer": payer_json(payer),
                "taxPeriodFrom": PTAN2019_FROM,
                "taxPeriodTo": PTAN2019_TO,
                "demandDetails": [
                    {
                        "id": str(tax.pk),
                        "demandId": str(demand.pk),
                        "taxHeadMasterCode": "PT_TAX",
                        "taxAmount": 1000.5,
                        "collectionAmount": 0,
                        "additionalDetails": {"basis": "ARV"},
                        "auditDetails": audit("emp-asr", AT_MS),
                        "tenantId": "pb.amritsar",
                    },
                    {
                        "id": str(rebate.pk),
                        "demandId": str(demand.pk),
                        "taxHeadMasterCode": "PT_TIME_REBATE",
                        "taxAmount": -50,
                        "collectionAmount": -20.25,
                        "additionalDetails": None,
                        "auditDetails": audit("emp-asr", AT_MS),
                        "tenantId": "pb.amritsar",
                    },
                ],
                "auditDetails": audit("emp-asr", AT_MS),
                "fixedBillExpiryDate": 1719791999999,
                "billExpiryTime": 0,
                "additionalDetails": {"propertyType": "BUILTUP"},
                "minimumAmountPayable": 100,
                "isPaymentCompleted": False,
                "status": "ACTIVE",
            }
        ],
        "CollectedReceipt": None,
    }
    # Amounts are JSON numbers on the wire, never strings.
    raw = response.content.decode()
    assert '"taxAmount":1000.5' in raw
    assert '"collectionAmount":-20.25' in raw
    assert str(demand.fixed_bill_expiry_date) == "2024-06-30 23:59:59.999000+00:00"


def test_bill_expiry_time_is_returned_when_set(client):
    response = post(client, CREATE, [demand_body(billExpiryTime=864000000)])
    assert response.status_code == 201
    [demand] = response.json()["Demands"]
    assert (demand["billExpiryTime"], demand["fixedBillExpiryDate"]) == (864000000, None)
    assert str(Demand.objects.get().bill_expiry_time) == "10 days, 0:00:00"


def test_keys_are_case_insensitive_and_unknown_keys_ignored(client):
    response = post(
        client,
        CREATE,
        [
            {
                "TENANTID": "pb.amritsar",
                "consumercode": "PT-107-001",
                "ConsumerType": "BUILTUP",
                "BUSINESSSERVICE": "PT",
                "taxperiodfrom": PTAN2019_FROM,
                "TaxPeriodTo": PTAN2019_TO,
                "isPaymentCompleted": True,  # server-managed: ignored
                "auditDetails": {"createdBy": "someone-else"},  # server-set: ignored
                "colour": "blue",
                "DemandDetails": [{"taxheadmastercode": "PT_TAX", "TAXAMOUNT": 500, "flavour": "x"}],
            }
        ],
        key="demands",
    )
    assert response.status_code == 201
    [demand] = response.json()["Demands"]
    assert (demand["consumerCode"], demand["isPaymentCompleted"], demand["auditDetails"]["createdBy"]) == (
        "PT-107-001",
        False,
        "emp-asr",
    )
    assert [(d["taxHeadMasterCode"], d["taxAmount"]) for d in demand["demandDetails"]] == [("PT_TAX", 500)]
    assert Demand.objects.count() == 1


def test_payer_from_name_and_mobile(client, payer_factory):
    existing = payer_factory("Asha Devi", "9876543210")
    response = post(
        client,
        CREATE,
        [
            demand_body(payer={"name": "ASHA DEVI", "mobileNumber": "9876543210"}),
            demand_body(consumerCode="PT-2", payer={"name": "Ravi", "mobileNumber": "9000000001", "emailId": "r@x.in"}),
        ],
    )
    assert response.status_code == 201
    ravi = Payer.objects.get(name="Ravi")
    payers = [d["payer"] for d in response.json()["Demands"]]
    assert payers == [payer_json(existing), payer_json(ravi)]
    assert (ravi.email, ravi.type, Payer.objects.count()) == ("r@x.in", PayerType.CITIZEN, 2)


def test_several_errors_come_back_together_and_nothing_is_written(client, payer_factory):
    staff = payer_factory("Clerk", "9000000002", type=PayerType.EMPLOYEE)
    before = snapshot()
    response = post(
        client,
        CREATE,
        [
            demand_body(
                taxPeriodFrom=1000,
                taxPeriodTo=2000,
                payer={"uuid": str(staff.uuid)},
                demandDetails=[
                    {"taxHeadMasterCode": "PT_BOGUS", "taxAmount": 10},
                    {"taxHeadMasterCode": "PT_TAX", "taxAmount": 100, "collectionAmount": 120},
                ],
            ),
            demand_body(consumerCode="PT-2", businessService="XX"),
        ],
    )
    assert (response.status_code, response.json()) == (
        400,
        errors(
            ("EG_BS_BUSINESSSERVICE_NOTFOUND", "No Business Service masters found for give codes [XX]"),
            (
                "EG_BS_TAXPERIODS_DEMAND",
                "No Tax Periods Found for the given demand with fromDate : 1000 and toDate : 2000",
            ),
            ("EG_BS_TAXHEADS_NOTFOUND", "No TaxHead masters found for give codes [PT_BOGUS]"),
            (
                "EG_BS_EMPLOYEE_UUID_NOTALLOWED",
                "Employees cannot own a demand in system. The following uuids belonging to employees are rejected : "
                f"[{staff.uuid}]",
            ),
            (
                "EG_DEMAND_DEATIL_INVALID",
                'Invalid demand details found with following Values : [ "collection amount : 120, cannot not be '
                'greater than taxAmount or Negative in case of positive tax : 100" ]',
            ),
        ),
    )
    assert snapshot() == before


def test_unknown_payer_uuid(client):
    ghost = "00000000-0000-4000-8000-000000000001"
    response = post(client, CREATE, [demand_body(payer={"uuid": ghost})])
    assert (response.status_code, response.json()) == (
        400,
        errors(("EG_BS_USER_UUID_NOTFOUND", f"No users found for following uuids  [{ghost}]")),
    )


def test_duplicate_period(client):
    assert post(client, CREATE, [demand_body()]).status_code == 201
    before = snapshot()
    response = post(client, CREATE, [demand_body()], at=LATER)
    assert (response.status_code, response.json()) == (
        400,
        errors(
            (
                "EG_BS_DUPLICATE_CONSUMERCODE",
                "Demand already exists in the same period with the same businessService for the given "
                "consumercodes : [PT-107-001]",
            )
        ),
    )
    assert snapshot() == before
    assert post(client, CREATE, [demand_body(taxPeriodFrom=PTAN2018_FROM, taxPeriodTo=PTAN2018_TO)]).status_code == 201


def test_html_in_a_text_field_is_refused(client):
    before = snapshot()
    response = post(client, CREATE, [demand_body(consumerCode="<script>alert(1)</script>")])
    assert (response.status_code, response.json()) == (
        400,
        errors(("SafeHtml.Demands.0.consumerCode", "HTML content is not allowed here.", ["Demands.0.consumerCode"])),
    )
    response = post(
        client, CREATE, [demand_body(demandDetails=[{"taxHeadMasterCode": "<b>PT_TAX</b>", "taxAmount": 1}])]
    )
    assert (response.status_code, response.json()) == (
        400,
        errors(
            (
                "SafeHtml.Demands.0.demandDetails.0.taxHeadMasterCode",
                "HTML content is not allowed here.",
                ["Demands.0.demandDetails.0.taxHeadMasterCode"],
            )
        ),
    )
    assert snapshot() == before


def test_malformed_json(client):
    before = snapshot()
    response = client.post(CREATE, data='{"RequestInfo": {}, "Demands": [', content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["ResponseInfo"] is None
    assert [(e["code"], e["description"], e["params"]) for e in body["Errors"]] == [("MALFORMED_REQUEST", None, None)]
    try:
        json.loads('{"RequestInfo": {}, "Demands": [')
    except json.JSONDecodeError as exc:
        parse_error = str(exc)
    assert body["Errors"][0]["message"] == f"The request body is not valid JSON: JSON parse error - {parse_error}"
    response = client.post(CREATE, data="[1, 2]", content_type="application/json")
    assert (response.status_code, response.json()) == (
        400,
        errors(("MALFORMED_REQUEST", "The request body must be a JSON object")),
    )
    assert snapshot() == before


def test_body_shape_errors(client):
    response = post(client, CREATE, [])
    assert (response.status_code, response.json()) == (
        400,
        errors(("empty.Demands.non_field_errors", "This list may not be empty.", ["Demands.non_field_errors"])),
    )
    response = post(client, CREATE, [demand_body(demandDetails=[{"taxHeadMasterCode": "PT_TAX", "taxAmount": "ten"}])])
    assert (response.status_code, response.json()) == (
        400,
        errors(
            (
                "invalid.Demands.0.demandDetails.0.taxAmount",
                "A valid number is required.",
                ["Demands.0.demandDetails.0.taxAmount"],
            )
        ),
    )
    response = post(client, CREATE, [{k: v for k, v in demand_body().items() if k != "consumerCode"}])
    assert (response.status_code, response.json()) == (
        400,
        errors(("required.Demands.0.consumerCode", "This field is required.", ["Demands.0.consumerCode"])),
    )
    assert Demand.objects.count() == 0


def test_unknown_tenant(seed, api_client_for):
    state_client = api_client_for("emp-pb", {"pb": [Role.EMPLOYEE]})
    response = post(state_client, CREATE, [demand_body(tenantId="pb.nowhere")])
    assert (response.status_code, response.json()) == (
        400,
        errors(("INVALID TENANTID", "No data found for this tenentID [pb.nowhere]")),
    )


def test_create_in_another_city_is_forbidden(seed, api_client_for):
    jalandhar = api_client_for("emp-jal", {"pb.jalandhar": [Role.EMPLOYEE]})
    before = snapshot()
    response = post(jalandhar, CREATE, [demand_body()])
    assert (response.status_code, response.json()) == (
        403,
        errors(
            (
                "PERMISSION_DENIED",
                "You need one of the roles EMPLOYEE, BILLING_ADMIN, SYSTEM in pb.amritsar to create demands.",
            )
        ),
    )
    assert snapshot() == before


def test_authentication_is_required(seed, anon_client):
    response = anon_client.post(CREATE, {"RequestInfo": REQUEST_INFO, "Demands": [demand_body()]}, format="json")
    assert (response.status_code, response.json()) == (
        401,
        errors(
            (
                "AUTHENTICATION_REQUIRED",
                "An auth token is required in RequestInfo.authToken or the Authorization header",
            )
        ),
    )
    # userInfo is never trusted for identity.
    response = anon_client.post(
        CREATE,
        {"RequestInfo": {**REQUEST_INFO, "userInfo": {"uuid": "x", "type": "EMPLOYEE"}}, "Demands": [demand_body()]},
        format="json",
    )
    assert response.status_code == 401
    assert Demand.objects.count() == 0


# --- update --------------------------------------------------------------------------------------


@pytest.fixture
def existing(client) -> Demand:
    [demand] = demand_create(
        caller=caller_for(client.user),
        demands=[pt_demand(details=(line("PT_TAX", "1000", "400"), line("PT_TIME_REBATE", "-50")))],
        at=AT,
    )
    return demand


def test_update_answers_201_with_the_written_demand(client, existing):
    tax = existing.details.get(tax_head_code="PT_TAX")
    rebate = existing.details.get(tax_head_code="PT_TIME_REBATE")
    response = post(
        client,
        UPDATE,
        [
            demand_body(
                id=str(existing.pk),
                demandDetails=[
                    {"id": str(tax.pk), "taxHeadMasterCode": "PT_TAX", "taxAmount": 1200, "collectionAmount": 999},
                    {"taxHeadMasterCode": "PT_FIRE_CESS", "taxAmount": 60.5, "collectionAmount": 60.5},
                ],
                additionalDetails={"reason": "reassessment"},
            )
        ],
        at=LATER,
    )
    assert response.status_code == 201
    cess = DemandDetail.objects.get(tax_head_code="PT_FIRE_CESS")
    assert response.json() == {
        "ResponseInfo": response_info("201 CREATED"),
        "Demands": [
            {
                "id": str(existing.pk),
                "tenantId": "pb.amritsar",
                "consumerCode": "PT-107-001",
                "consumerType": "BUILTUP",
                "businessService": "PT",
                "payer": None,
                "taxPeriodFrom": PTAN2019_FROM,
                "taxPeriodTo": PTAN2019_TO,
                "demandDetails": [
                    {
                        "id": str(tax.pk),
                        "demandId": str(existing.pk),
                        "taxHeadMasterCode": "PT_TAX",
                        "taxAmount": 1200,
                        "collectionAmount": 400,
                        "additionalDetails": None,
                        "auditDetails": audit("emp-asr", AT_MS, LATER_MS),
                        "tenantId": "pb.amritsar",
                    },
                    {
                        "id": str(rebate.pk),
                        "demandId": str(existing.pk),
                        "taxHeadMasterCode": "PT_TIME_REBATE",
                        "taxAmount": -50,
                        "collectionAmount": 0,
                        "additionalDetails": None,
                        "auditDetails": audit("emp-asr", AT_MS),
                        "tenantId": "pb.amritsar",
                    },
                    {
                        "id": str(cess.pk),
                        "demandId": str(existing.pk),
                        "taxHeadMasterCode": "PT_FIRE_CESS",
                        "taxAmount": 60.5,
                        "collectionAmount": 0,
                        "additionalDetails": None,
                        "auditDetails": audit("emp-asr", LATER_MS),
                        "tenantId": "pb.amritsar",
                    },
                ],
                "auditDetails": audit("emp-asr", AT_MS, LATER_MS),
                "fixedBillExpiryDate": None,
                "billExpiryTime": 0,
                "additionalDetails": {"reason": "reassessment"},
                "minimumAmountPayable": 0,
                "isPaymentCompleted": False,
                "status": "ACTIVE",
            }
        ],
        "CollectedReceipt": None,
    }


def test_update_to_cancelled_frees_the_period(client, existing):
    details = [
        {"id": str(d.pk), "taxHeadMasterCode": d.tax_head_code, "taxAmount": str(d.tax_amount)}
        for d in existing.details.all()
    ]
    response = post(client, UPDATE, [demand_body(id=str(existing.pk), status="CANCELLED", demandDetails=details)])
    assert response.status_code == 201
    assert response.json()["Demands"][0]["status"] == "CANCELLED"
    assert post(client, CREATE, [demand_body()], at=LATER).status_code == 201
    assert sorted(Demand.objects.values_list("status", flat=True)) == ["ACTIVE", "CANCELLED"]


def test_update_errors(client, existing):
    before = snapshot()
    response = post(client, UPDATE, [demand_body()])
    assert (response.status_code, response.json()) == (
        400,
        errors(("EG_BS_DEMANDS_UNDIDENTIFIABLE", "Demands, must contain ids in the update payload")),
    )
    ghost = "00000000-0000-4000-8000-0000000000aa"
    response = post(client, UPDATE, [demand_body(id=ghost)])
    assert (response.status_code, response.json()) == (
        400,
        errors(("EG_BS_DEMANDS_NOT_FOUND", f"No Demands not found in db for following ids : [{ghost}]")),
    )
    response = post(
        client,
        UPDATE,
        [
            demand_body(
                id=str(existing.pk), demandDetails=[{"id": ghost, "taxHeadMasterCode": "PT_TAX", "taxAmount": 1}]
            )
        ],
    )
    assert (response.status_code, response.json()) == (
        400,
        errors(("EG_BS_DEMAND_DETAIL_NOTFOUND", f"No Demand details found for the given ids :  [{ghost}]")),
    )
    response = post(client, UPDATE, [demand_body(id=str(existing.pk), consumerCode="PT-OTHER")])
    assert (response.status_code, response.json()) == (
        400,
        errors(
            (
                "EG_BS_DEMAND_IMMUTABLE_FIELD",
                "tenantId, consumerCode and businessService of a demand cannot be changed: "
                f"consumerCode of demand {existing.pk} (PT-107-001 -> PT-OTHER)",
            )
        ),
    )
    response = post(client, UPDATE, [demand_body(id=str(existing.pk), consumerType="<i>x</i>")])
    assert response.status_code == 400
    assert response.json()["Errors"][0]["code"] == "SafeHtml.Demands.0.consumerType"
    assert snapshot() == before


def test_update_with_a_new_demand_writes_both_or_nothing(client, existing):
    kept = [
        {"id": str(d.pk), "taxHeadMasterCode": d.tax_head_code, "taxAmount": str(d.tax_amount)}
        for d in existing.details.all()
    ]
    before = snapshot()
    response = post(
        client,
        UPDATE,
        [
            demand_body(id=str(existing.pk), demandDetails=kept, additionalDetails={"v": 2}),
            demand_body(taxPeriodFrom=PTAN2018_FROM, taxPeriodTo=PTAN2018_TO, businessService="XX"),
        ],
        at=LATER,
    )
    assert (response.status_code, response.json()) == (
        400,
        errors(("EG_BS_BUSINESSSERVICE_NOTFOUND", "No Business Service masters found for give codes [XX]")),
    )
    assert snapshot() == before
    response = post(
        client,
        UPDATE,
        [
            demand_body(id=str(existing.pk), demandDetails=kept, additionalDetails={"v": 2}),
            demand_body(taxPeriodFrom=PTAN2018_FROM, taxPeriodTo=PTAN2018_TO),
        ],
        at=LATER,
    )
    assert response.status_code == 201
    assert [(d["taxPeriodFrom"], d["additionalDetails"]) for d in response.json()["Demands"]] == [
        (PTAN2018_FROM, None),
        (PTAN2019_FROM, {"v": 2}),
    ]
