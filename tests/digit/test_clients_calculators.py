"""DIGIT's calculators against this service, with DIGIT identity (issue 14 points 1 and 3).

Each test replays the requests one calculator of egovernments/DIGIT-OSS sends (request shapes written here from
their call sites: pt-calculator-v2 ``DemandService``/``CalculatorUtils``, ws-calculator ``DemandService``/
``CalculatorUtil.getFetchBillURL``, tl-calculator ``DemandService``/``CalculationUtils``, echallan-calculator
``DemandService``/``CalculationService.cancelBill``) with the token of a DIGIT user validated by the local
egov-user, and checks every field the calculator reads from the answers.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from demands.models import Demand
from masters.models import Payer, PayerSource
from tests.digit.conftest import Digit, post, request_info
from tests.digit.egov_user import search_record

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

PTAN2019 = (1554076799000, 1585679399000)
WC2021 = (1617215400000, 1648771199999)
TLAN2019 = PTAN2019
ADHAN2019 = PTAN2019


def common_user(person: dict[str, Any], *, mobile: str | None = None) -> dict[str, Any]:
    """An owner as the calculators send it (``OwnerInfo.toCommonUser()``): the egov-user record, often with the
    mobile number masked by DIGIT's privacy layer."""
    return {
        "id": person["id"],
        "uuid": person["uuid"],
        "userName": person["userName"],
        "name": person["name"],
        "type": "CITIZEN",
        "mobileNumber": mobile or person["mobileNumber"],
        "emailId": person["emailId"],
        "roles": person["roles"],
        "tenantId": person["tenantId"],
        "active": True,
    }


def line(head: str, amount: str, tenant: str = "pb.amritsar") -> dict[str, Any]:
    return {"taxHeadMasterCode": head, "taxAmount": Decimal(amount), "collectionAmount": Decimal(0), "tenantId": tenant}


def test_pt_calculator_masters_demand_create_search_and_update(digit: Digit) -> None:
    token, employee = Digit.TOKENS["employee"], digit.employee
    info = request_info(token, user=employee)
    # getTaxHeadSearchUrl / getTaxPeriodSearchUrl: ?tenantId=<city>&service=PT
    heads = post("/billing-service/taxheads/_search?tenantId=pb.amritsar&service=PT", {"RequestInfo": info})
    assert heads.status_code == 200
    by_code = {h["code"]: h for h in heads.json()["TaxHeadMasters"]}
    assert (by_code["PT_TAX"]["isDebit"], by_code["PT_TIME_REBATE"]["isDebit"]) == (False, True)
    assert by_code["PT_TAX"]["category"] == "TAX"
    periods = post("/billing-service/taxperiods/_search?tenantId=pb.amritsar&service=PT", {"RequestInfo": info})
    by_period = {p["code"]: p for p in periods.json()["TaxPeriods"]}
    assert (by_period["PTAN2019"]["fromDate"], by_period["PTAN2019"]["toDate"]) == PTAN2019
    assert by_period["PTAN2019"]["financialYear"] == "2019-20"

    # DemandService.generateDemand: the owner by uuid, mobile masked, the calculator's own audit left out
    payer = common_user(digit.citizen, mobile="******2708")
    demand = {
        "tenantId": "pb.amritsar",
        "consumerCode": "PT-107-000123",
        "consumerType": "RESIDENTIAL",
        "businessService": "PT",
        "payer": payer,
        "taxPeriodFrom": PTAN2019[0],
        "taxPeriodTo": PTAN2019[1],
        "status": "ACTIVE",
        "minimumAmountPayable": 100,
        "additionalDetails": {"calculationDescription": ["PT_TAX 1200"]},
        "demandDetails": [line("PT_TAX", "1200"), line("PT_FIRE_CESS", "60"), line("PT_TIME_REBATE", "-120")],
    }
    created = post("/billing-service/demand/_create", {"RequestInfo": info, "Demands": [demand]})
    assert created.status_code == 201, created.json()
    [stored] = created.json()["Demands"]
    assert stored["consumerCode"] == "PT-107-000123"
    assert stored["auditDetails"]["createdBy"] == employee["uuid"]
    assert stored["auditDetails"]["lastModifiedBy"] == employee["uuid"]
    assert stored["payer"]["uuid"] == digit.citizen["uuid"]
    # enriched from egov-user's /user/_search (plain details), not the masked hint
    assert (stored["payer"]["name"], stored["payer"]["mobileNumber"]) == ("Asha Devi", "9876502708")
    assert [(d["taxHeadMasterCode"], d["taxAmount"], d["collectionAmount"]) for d in stored["demandDetails"]] == [
        ("PT_TAX", 1200, 0),
        ("PT_FIRE_CESS", 60, 0),
        ("PT_TIME_REBATE", -120, 0),
    ]
    [search_call] = digit.egov.calls("/user/_search")
    assert search_call["body"]["uuid"] == [digit.citizen["uuid"]]
    assert search_call["body"]["tenantId"] == "pb"
    assert search_call["body"]["RequestInfo"]["userInfo"]["roles"] == [
        {"code": "INTERNAL_MICROSERVICE_ROLE", "name": "Internal Microservice Role", "tenantId": "pb"}
    ]
    stored_payer = Payer.objects.get(uuid=digit.citizen["uuid"])
    assert (stored_payer.source, stored_payer.tenant.code, stored_payer.permanent_city) == (
        PayerSource.EGOV_USER,
        "pb",
        "Amritsar",
    )

    # getDemandSearchUrl: ?tenantId&consumerCode&status=ACTIVE (no businessService)
    found = post(
        "/billing-service/demand/_search?tenantId=pb.amritsar&consumerCode=PT-107-000123&status=ACTIVE",
        {"RequestInfo": info},
    )
    assert found.status_code == 200
    [again] = found.json()["Demands"]
    assert again["id"] == stored["id"]
    assert again["status"] == "ACTIVE"
    assert {d["id"] for d in again["demandDetails"]} == {d["id"] for d in stored["demandDetails"]}

    # applytimeBasedApplicables + roundOffDecimalForDemand: the searched demand, a penalty added, sent back
    again["demandDetails"].append(line("PT_TIME_PENALTY", "30"))
    again["demandDetails"][0]["taxAmount"] = 1250
    other = Digit.TOKENS["system"]
    updated = post(
        "/billing-service/demand/_update", {"RequestInfo": request_info(other, user=digit.system), "Demands": [again]}
    )
    assert updated.status_code == 201, updated.json()
    [after] = updated.json()["Demands"]
    assert sorted((d["taxHeadMasterCode"], d["taxAmount"]) for d in after["demandDetails"]) == [
        ("PT_FIRE_CESS", 60),
        ("PT_TAX", 1250),
        ("PT_TIME_PENALTY", 30),
        ("PT_TIME_REBATE", -120),
    ]
    assert after["auditDetails"]["createdBy"] == employee["uuid"]
    assert after["auditDetails"]["lastModifiedBy"] == digit.system["uuid"]


def test_ws_calculator_demand_then_fetch_bill_and_the_creator_lookup(digit: Digit) -> None:
    token, system = Digit.TOKENS["system"], digit.system
    info = request_info(token, user=system)
    # getPlainOwnerDetails: the whole egov-user search record is the payer
    payer = search_record(digit.citizen)
    connection = "WS/107/2021-22/000045"
    demand = {
        "consumerCode": connection,
        "demandDetails": [line("WS_CHARGE", "540"), line("WS_WATER_CESS", "27")],
        "payer": payer,
        "minimumAmountPayable": 100,
        "tenantId": "pb.amritsar",
        "taxPeriodFrom": WC2021[0],
        "taxPeriodTo": WC2021[1],
        "consumerType": "waterConnection",
        "businessService": "WS",
        "status": "ACTIVE",
        "billExpiryTime": 864000000,
        "additionalDetails": {"propertyId": "PT-107-000123"},
    }
    created = post("/billing-service/demand/_create", {"RequestInfo": info, "Demands": [demand]})
    assert created.status_code == 201, created.json()
    [stored] = created.json()["Demands"]
    # fetchBill(): sendBillNotification looks the creator up in egov-user by this uuid
    assert stored["auditDetails"]["createdBy"] == system["uuid"]
    assert stored["auditDetails"]["createdBy"] in {u["uuid"] for u in digit.egov.tokens.values()}
    assert stored["billExpiryTime"] == 864000000
    assert stored["additionalDetails"] == {"propertyId": "PT-107-000123"}

    fetched = post(
        f"/billing-service/bill/v2/_fetchbill?tenantId=pb.amritsar&consumerCode={connection}&businessService=WS",
        {"RequestInfo": info},
    )
    assert fetched.status_code == 201, fetched.json()
    body = fetched.json()
    assert body["ResposneInfo"]["status"] == "201 CREATED"
    [bill] = body["Bill"]
    assert (bill["consumerCode"], bill["businessService"], bill["totalAmount"], bill["status"]) == (
        connection,
        "WS",
        567,
        "ACTIVE",
    )
    assert (bill["userId"], bill["payerName"], bill["mobileNumber"]) == (
        digit.citizen["uuid"],
        "Asha Devi",
        "9876502708",
    )
    assert bill["auditDetails"]["createdBy"] == system["uuid"]
    [detail] = bill["billDetails"]
    assert detail["demandId"] == stored["id"]
    assert {a["taxHeadCode"]: a["amount"] for a in detail["billAccountDetails"]} == {
        "WS_CHARGE": 540,
        "WS_WATER_CESS": 27,
    }

    # egov.bill.search.endpoint: the latest bill of the connection
    searched = post(
        f"/billing-service/bill/v2/_search?tenantId=pb.amritsar&consumerCode={connection}&service=WS",
        {"RequestInfo": info},
    )
    assert [b["id"] for b in searched.json()["Bill"]] == [bill["id"]]


def test_tl_calculator_demand_search_then_fetch_bill(digit: Digit) -> None:
    token = Digit.TOKENS["employee"]
    info = request_info(token, user=digit.employee)
    application = "PB-TL-2021-09-01-000123"
    demand = {
        "consumerCode": application,
        "demandDetails": [line("TL_TAX", "500")],
        "minimumAmountPayable": 500,
        "payer": common_user(digit.other_citizen),
        "tenantId": "pb.amritsar",
        "taxPeriodFrom": TLAN2019[0],
        "taxPeriodTo": TLAN2019[1],
        "consumerType": "tradelicense",
        "businessService": "TL",
        "additionalDetails": None,
    }
    assert post("/billing-service/demand/_create", {"RequestInfo": info, "Demands": [demand]}).status_code == 201
    # getDemandSearchURL: ?tenantId&businessService&consumerCode
    found = post(
        f"/billing-service/demand/_search?tenantId=pb.amritsar&businessService=TL&consumerCode={application}",
        {"RequestInfo": info},
    ).json()["Demands"]
    assert [(d["consumerCode"], d["payer"]["uuid"]) for d in found] == [(application, digit.other_citizen["uuid"])]
    # getBillGenerateURI: ?tenantId&consumerCode&businessService
    fetched = post(
        f"/billing-service/bill/v2/_fetchbill?tenantId=pb.amritsar&consumerCode={application}&businessService=TL",
        {"RequestInfo": info},
    )
    [bill] = fetched.json()["Bill"]
    assert (bill["totalAmount"], bill["billDetails"][0]["billAccountDetails"][0]["taxHeadCode"]) == (500, "TL_TAX")
    assert bill["payerName"] == "Ravi Kumar"


def test_echallan_calculator_demand_fetch_and_cancel_bill(digit: Digit) -> None:
    token = Digit.TOKENS["employee"]
    info = request_info(token, user=digit.employee)
    challan = "CH-AMR-2021-000077"
    demand = {
        "consumerCode": challan,
        "demandDetails": [line("ADVT.HOARDINGS_TAX", "2500"), line("ADVT.HOARDINGS_FIELD_FEE", "100")],
        "payer": common_user(digit.citizen),
        "minimumAmountPayable": 0,
        "tenantId": "pb.amritsar",
        "taxPeriodFrom": ADHAN2019[0],
        "taxPeriodTo": ADHAN2019[1],
        "consumerType": "ADVT.Hoardings",
        "businessService": "ADVT.Hoardings",
    }
    created = post("/billing-service/demand/_create", {"RequestInfo": info, "Demands": [demand]})
    assert created.status_code == 201, created.json()
    fetched = post(
        f"/billing-service/bill/v2/_fetchbill?tenantId=pb.amritsar&consumerCode={challan}&businessService=ADVT.Hoardings",
        {"RequestInfo": info},
    )
    [bill] = fetched.json()["Bill"]
    assert bill["totalAmount"] == 2600
    # CalculationService.cancelBill: UpdateBillCriteria with the challan's additional details
    cancelled = post(
        "/billing-service/bill/v2/_cancelbill",
        {
            "RequestInfo": info,
            "UpdateBillCriteria": {
                "tenantId": "pb.amritsar",
                "consumerCodes": [challan],
                "businessService": "ADVT.Hoardings",
                "additionalDetails": {"reason": "CHALLAN_CANCELLED", "reasonMessage": "Challan cancelled by clerk"},
            },
        },
    )
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["Message"] == "Successfully cancelled 1 Active bills for given consumer codes"
    searched = post(
        f"/billing-service/bill/v2/_search?tenantId=pb.amritsar&consumerCode={challan}&service=ADVT.Hoardings",
        {"RequestInfo": info},
    )
    assert [(b["id"], b["status"]) for b in searched.json()["Bill"]] == [(bill["id"], "CANCELLED")]
    assert searched.json()["Bill"][0]["auditDetails"]["lastModifiedBy"] == digit.employee["uuid"]


def test_an_unknown_uuid_is_refused_as_digit_does_and_nothing_is_written(digit: Digit) -> None:
    stranger = str(uuid.uuid4())
    demand = {
        "tenantId": "pb.amritsar",
        "consumerCode": "PT-107-000999",
        "consumerType": "RESIDENTIAL",
        "businessService": "PT",
        "payer": {"uuid": stranger, "mobileNumber": "******0000"},
        "taxPeriodFrom": PTAN2019[0],
        "taxPeriodTo": PTAN2019[1],
        "demandDetails": [line("PT_TAX", "100")],
    }
    response = post(
        "/billing-service/demand/_create",
        {"RequestInfo": request_info(Digit.TOKENS["employee"]), "Demands": [demand]},
    )
    assert response.status_code == 400
    assert [e["code"] for e in response.json()["Errors"]] == ["EG_BS_USER_UUID_NOTFOUND"]
    assert not Payer.objects.filter(uuid=stranger).exists()
    assert not Demand.objects.exists()


def test_without_a_user_service_the_uuid_is_stored_as_an_external_reference(digit: Digit, settings: Any) -> None:
    """A deployment that uses DIGIT's tokens through another gateway but has no egov-user URL for payers."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from masters.models import Role, UserRole

    settings.DIGIT_USER_SERVICE_URL = ""
    settings.EXTERNAL_TOKEN_AUTHENTICATOR = ""
    clerk = get_user_model().objects.create_user(username="clerk")
    UserRole.objects.create(user=clerk, tenant_id=_tenant_pk("pb.amritsar"), role=Role.EMPLOYEE)
    key = Token.objects.create(user=clerk).key
    owner = str(uuid.uuid4())
    demand = {
        "tenantId": "pb.amritsar",
        "consumerCode": "PT-107-000555",
        "consumerType": "RESIDENTIAL",
        "businessService": "PT",
        "payer": {"uuid": owner, "name": "Meena Rani", "mobileNumber": "******4411", "emailId": "not-an-email"},
        "taxPeriodFrom": PTAN2019[0],
        "taxPeriodTo": PTAN2019[1],
        "demandDetails": [line("PT_TAX", "100")],
    }
    response = post("/billing-service/demand/_create", {"RequestInfo": request_info(key), "Demands": [demand]})
    assert response.status_code == 201, response.json()
    payer = response.json()["Demands"][0]["payer"]
    assert (payer["uuid"], payer["name"], payer["mobileNumber"], payer["emailId"]) == (
        owner,
        "Meena Rani",
        "******4411",
        None,
    )
    assert Payer.objects.get(uuid=owner).source == PayerSource.EGOV_USER


def _tenant_pk(code: str) -> int:
    from masters.models import Tenant

    return Tenant.objects.get(code=code).pk


def test_a_calculator_retry_with_a_new_request_info_is_a_replay(digit: Digit) -> None:
    """Issue 14 point 11 (built under issue 11): the retry builds a new RequestInfo (ts, msgId)."""
    demand = {
        "tenantId": "pb.amritsar",
        "consumerCode": "PT-107-000321",
        "consumerType": "RESIDENTIAL",
        "businessService": "PT",
        "payer": {"uuid": digit.citizen["uuid"]},
        "taxPeriodFrom": PTAN2019[0],
        "taxPeriodTo": PTAN2019[1],
        "demandDetails": [line("PT_TAX", "100")],
    }
    first = post(
        "/billing-service/demand/_create",
        {"RequestInfo": request_info(Digit.TOKENS["system"], ts=1714557600000, msgId="a|en_IN"), "Demands": [demand]},
        HTTP_IDEMPOTENCY_KEY="ws-calc-run-42",
    )
    again = post(
        "/billing-service/demand/_create",
        {"RequestInfo": request_info(Digit.TOKENS["system"], ts=1714557699999, msgId="b|en_IN"), "Demands": [demand]},
        HTTP_IDEMPOTENCY_KEY="ws-calc-run-42",
    )
    assert (first.status_code, again.status_code, again.headers.get("Idempotent-Replayed")) == (201, 201, "true")
    assert again.json()["Demands"][0]["id"] == first.json()["Demands"][0]["id"]
    assert Demand.objects.filter(consumer_code="PT-107-000321").count() == 1


def test_an_egov_user_that_cannot_search_payers_is_a_503_and_nothing_is_written(digit: Digit) -> None:
    info = request_info(Digit.TOKENS["employee"])
    warm = post("/billing-service/demand/_search?tenantId=pb.amritsar&businessService=PT", {"RequestInfo": info})
    assert warm.status_code == 200  # the token is validated (and cached) first
    digit.egov.status = 500  # from now on egov-user answers 500 (the token is cached)
    demand = {
        "tenantId": "pb.amritsar",
        "consumerCode": "PT-107-000654",
        "consumerType": "RESIDENTIAL",
        "businessService": "PT",
        "payer": {"uuid": digit.citizen["uuid"]},
        "taxPeriodFrom": PTAN2019[0],
        "taxPeriodTo": PTAN2019[1],
        "demandDetails": [line("PT_TAX", "100")],
    }
    response = post("/billing-service/demand/_create", {"RequestInfo": info, "Demands": [demand]})
    assert response.status_code == 503
    [error] = response.json()["Errors"]
    assert error["code"] == "DIGIT_USER_SERVICE_UNAVAILABLE"
    assert error["message"].startswith("The user service (egov-user) cannot be asked about the payers now")
    assert not Payer.objects.exists()
    assert not Demand.objects.exists()
