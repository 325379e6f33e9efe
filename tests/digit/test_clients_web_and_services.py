"""DIGIT's web apps and back-end services against this service, with DIGIT identity (issue 14 points 1–5).

Request shapes written from the call sites in egovernments/DIGIT-OSS: digit-ui (``PaymentService.fetchBill`` /
``searchBill`` / ``demandSearch``, ``useFetchCitizenBillsForBuissnessService``, ``useFetchPayment``, the citizen
bill details page), mono-ui (egov-common's fetch bill), collection-services (``BillingServiceRepository.fetchBill``,
``MigrationService.getBillSearchURI`` — the receipt-to-payment data migration), egov-pg-service
(``NotificationUtil.getBusinessService``, which posts its RequestInfo unwrapped), property-services
(``PropertyUtil.isBillUnpaid``) and the inbox service (``fetchModuleObjects`` on ``amendment/_search``). Every field
those clients read is checked.
"""

from __future__ import annotations

from typing import Any

import pytest

from masters.models import Tenant
from tests.digit.conftest import Digit, post, request_info
from tests.digit.test_kafka_writeback import pt_bill

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

FETCH = "/billing-service/bill/v2/_fetchbill"
SEARCH = "/billing-service/bill/v2/_search"
QUICK_PAY = f"{FETCH}?tenantId=pb.amritsar&consumerCode=PT-107-000777&businessService=PT&_=1714557600000"


def digit_ui_request_info(token: str | None = None, user: dict[str, Any] | None = None) -> dict[str, Any]:
    """digit-ui's ``Request``: apiId Rainmaker, msgId ``<ts>|<locale>``, authToken when logged in, userInfo when
    the call asks for it."""
    info: dict[str, Any] = {"apiId": "Rainmaker", "msgId": "1714557600000|en_IN"}
    if token:
        info["authToken"] = token
    if user:
        info["userInfo"] = user
    return info


def read_by_digit_ui(bill: dict[str, Any]) -> dict[str, Any]:
    """The fields the citizen bill pages read."""
    latest = sorted(bill["billDetails"], key=lambda d: -d["fromPeriod"])[0]
    return {
        "totalAmount": bill["totalAmount"],
        "billNumber": bill["billNumber"],
        "userId": bill["userId"],
        "payerName": bill["payerName"],
        "mobileNumber": bill["mobileNumber"],
        "consumerCode": bill["consumerCode"],
        "tenantId": latest["tenantId"],
        "expiryDate": latest["expiryDate"],
        "fromPeriod": latest["fromPeriod"],
        "breakdown": sorted((a["taxHeadCode"], a["amount"]) for a in latest["billAccountDetails"]),
    }


def test_digit_ui_quick_pay_without_a_token_masks_the_payer(digit: Digit) -> None:
    bill = pt_bill(digit)
    response = post(QUICK_PAY, {"RequestInfo": digit_ui_request_info()})
    assert response.status_code == 201, response.json()
    [anonymous] = response.json()["Bill"]
    assert anonymous["id"] == bill["id"]
    seen = read_by_digit_ui(anonymous)
    assert seen == {
        "totalAmount": 1260,
        "billNumber": bill["billNumber"],
        "userId": digit.citizen["uuid"],
        "payerName": "A*** D***",
        "mobileNumber": "******2708",  # digit-ui sees the "*" and asks egov-user for the number
        "consumerCode": "PT-107-000777",
        "tenantId": "pb.amritsar",
        "expiryDate": bill["billDetails"][0]["expiryDate"],
        "fromPeriod": 1554076799000,
        "breakdown": [("PT_FIRE_CESS", 60), ("PT_TAX", 1200)],
    }
    assert anonymous["payerEmail"] == "a***@example.org" or anonymous["payerEmail"] is None
    # useFetchPayment: then the oldest bill of each period (searchBill with retrieveOldest)
    oldest = post(
        f"{SEARCH}?tenantId=pb.amritsar&consumerCode=PT-107-000777&fromPeriod=1554076799000"
        "&toPeriod=1585679399000&service=PT&retrieveOldest=true",
        {"RequestInfo": digit_ui_request_info()},
    )
    assert oldest.status_code == 200
    [found] = oldest.json()["Bill"]
    assert (found["billNumber"], found["billDetails"][0]["expiryDate"]) == (
        bill["billNumber"],
        bill["billDetails"][0]["expiryDate"],
    )
    assert found["mobileNumber"] == "******2708"
    # anything but the consumer lookup still needs a caller
    by_mobile = post(f"{FETCH}?tenantId=pb&mobileNumber=9876502708&businessService=PT", {"RequestInfo": {}})
    assert (by_mobile.status_code, by_mobile.json()["Errors"][0]["code"]) == (401, "AUTHENTICATION_REQUIRED")


@pytest.mark.parametrize(
    ("who", "masked"),
    [("citizen", False), ("other", True), ("employee", False), ("system", False)],
)
def test_who_sees_the_payer_of_a_bill(digit: Digit, who: str, masked: bool) -> None:
    pt_bill(digit)
    token = {
        "citizen": Digit.TOKENS["citizen"],
        "other": "tok-citizen-0002",
        "employee": Digit.TOKENS["employee"],
        "system": Digit.TOKENS["system"],
    }[who]
    [bill] = post(QUICK_PAY, {"RequestInfo": digit_ui_request_info(token)}).json()["Bill"]
    assert (bill["payerName"], bill["mobileNumber"]) == (
        ("A*** D***", "******2708") if masked else ("Asha Devi", "9876502708")
    )


def test_digit_ui_my_bills_by_the_citizens_mobile_number(digit: Digit, settings: Any) -> None:
    bill = pt_bill(digit)
    # useFetchCitizenBillsForBuissnessService: fetchBill(user's tenant "pb", {mobileNumber, businessService})
    mine = post(
        f"{FETCH}?tenantId=pb&mobileNumber=9876502708&businessService=PT",
        {"RequestInfo": digit_ui_request_info(Digit.TOKENS["citizen"])},
    )
    assert mine.status_code == 201, mine.json()
    assert [(b["id"], b["payerName"]) for b in mine.json()["Bill"]] == [(bill["id"], "Asha Devi")]
    # another citizen asking for Asha's number gets nothing
    theirs = post(
        f"{FETCH}?tenantId=pb&mobileNumber=9876502708&businessService=PT",
        {"RequestInfo": digit_ui_request_info("tok-citizen-0002")},
    )
    assert theirs.json()["Bill"] == []
    # PaymentService.demandSearch (auth, userInfo): the citizen's own demands, not anyone else's
    own = post(
        "/billing-service/demand/_search?tenantId=pb.amritsar&consumerCode=PT-107-000777&businessService=PT",
        {"RequestInfo": digit_ui_request_info(Digit.TOKENS["citizen"], digit.citizen)},
    ).json()["Demands"]
    assert [d["consumerCode"] for d in own] == ["PT-107-000777"]
    other = post(
        "/billing-service/demand/_search?tenantId=pb.amritsar&consumerCode=PT-107-000777&businessService=PT",
        {"RequestInfo": digit_ui_request_info("tok-citizen-0002", digit.other_citizen)},
    ).json()["Demands"]
    assert other == []


def test_mono_ui_fetch_bill(digit: Digit) -> None:
    bill = pt_bill(digit)
    # egov-ui-kit httpRequest: RequestInfo with an empty ts and the token, plus the auth-token header on downloads
    info = {
        "apiId": "Rainmaker",
        "ver": ".01",
        "ts": "",
        "action": "_search",
        "did": "1",
        "key": "",
        "msgId": "20170310130900|en_IN",
        "authToken": Digit.TOKENS["employee"],
    }
    response = post(
        f"{FETCH}?consumerCode=PT-107-000777&tenantId=pb.amritsar&businessService=PT", {"RequestInfo": info}
    )
    assert response.status_code == 201
    [found] = response.json()["Bill"]
    assert (found["id"], found["totalAmount"], found["billDetails"][0]["billAccountDetails"][0]["taxHeadCode"]) == (
        bill["id"],
        1260,
        "PT_TAX",
    )
    header = post(
        f"{FETCH}?consumerCode=PT-107-000777&tenantId=pb.amritsar&businessService=PT",
        {"RequestInfo": {"apiId": "Rainmaker"}},
        HTTP_AUTH_TOKEN=Digit.TOKENS["employee"],
    )
    assert header.json()["Bill"][0]["payerName"] == "Asha Devi"


def test_collection_services_bill_lookups_and_the_receipt_migration(digit: Digit) -> None:
    bill = pt_bill(digit)
    info = request_info(Digit.TOKENS["system"], user=digit.system)
    # BillingServiceRepository.fetchBill: ?tenantId&billId=<ids joined by ",">
    [found] = post(f"{SEARCH}?tenantId=pb.amritsar&billId={bill['id']}", {"RequestInfo": info}).json()["Bill"]
    assert (found["id"], found["businessService"], found["totalAmount"], found["status"]) == (
        bill["id"],
        "PT",
        1260,
        "ACTIVE",
    )
    assert found["billDetails"]
    # MigrationService.getBillSearchURI: ?tenantId&service&billId=<Set.toString() without brackets: ", ">
    migrated = post(
        f"{SEARCH}?tenantId=pb.amritsar&service=PT&billId={bill['id']}, 00000000-0000-4000-8000-000000000000",
        {"RequestInfo": info},
    ).json()["Bill"]
    assert [b["id"] for b in migrated] == [bill["id"]]


def test_egov_pg_service_posts_its_request_info_unwrapped(digit: Digit) -> None:
    bill = pt_bill(digit)
    body = {
        "apiId": "Rainmaker",
        "ver": ".01",
        "msgId": "1714557600000|en_IN",
        "authToken": Digit.TOKENS["citizen"],
        "userInfo": {"uuid": digit.citizen["uuid"], "type": "CITIZEN"},
    }
    response = post(f"{SEARCH}?tenantId=pb.amritsar&billId={bill['id']}", body)
    assert response.status_code == 200, response.json()
    assert response.json()["Bill"][0]["businessService"] == "PT"  # $..Bill[0].businessService


def test_property_services_is_bill_unpaid(digit: Digit) -> None:
    pt_bill(digit)
    info = request_info(Digit.TOKENS["citizen"], user=digit.citizen)
    unpaid = post(f"{FETCH}?tenantId=pb.amritsar&consumerCode=PT-107-000777&businessService=PT", {"RequestInfo": info})
    assert unpaid.json()["Bill"][0]["totalAmount"] > 0  # /Bill/0/totalAmount
    none = post(f"{FETCH}?tenantId=pb.amritsar&consumerCode=PT-107-NONE&businessService=PT", {"RequestInfo": info})
    assert (none.status_code, none.json()["Bill"]) == (201, [])


def test_inbox_reads_amendments_of_its_process_instances(digit: Digit) -> None:
    employee = request_info(Digit.TOKENS["employee"], user=digit.employee)
    demand = {
        "tenantId": "pb.amritsar",
        "consumerCode": "WS/107/2021-22/000047",
        "consumerType": "waterConnection",
        "businessService": "WS",
        "payer": {"uuid": digit.citizen["uuid"]},
        "taxPeriodFrom": 1617215400000,
        "taxPeriodTo": 1648771199999,
        "demandDetails": [{"taxHeadMasterCode": "WS_CHARGE", "taxAmount": 500, "collectionAmount": 0}],
    }
    assert post("/billing-service/demand/_create", {"RequestInfo": employee, "Demands": [demand]}).status_code == 201
    created = post(
        "/billing-service/amendment/_create",
        {
            "RequestInfo": employee,
            "Amendment": {
                "tenantId": "pb.amritsar",
                "consumerCode": "WS/107/2021-22/000047",
                "businessService": "WS",
                "amendmentReason": "ARREAR_WRITE_OFF",
                "reasonDocumentNumber": "W-1",
                "effectiveFrom": 1652227200000,
                "effectiveTill": 1652313600000,
                "documents": [],
                "demandDetails": [{"taxHeadMasterCode": "WS_CHARGE", "taxAmount": -50}],
            },
        },
    )
    assert created.status_code == 201, created.json()
    amendment_id = created.json()["Amendments"][0]["amendmentId"]
    # fetchModuleObjects: searchPath?tenantId=..&consumerCode=<applNos>&businessService=<module>&limit=-1 (the BS
    # branch puts businessService back into the module criteria); dataRoot "Amendments"
    found = post(
        "/billing-service/amendment/_search?tenantId=pb.amritsar&consumerCode=WS/107/2021-22/000047&businessService=WS&limit=-1",
        {"RequestInfo": employee},
    )
    assert found.status_code == 200, found.json()
    [amendment] = found.json()["Amendments"]
    assert (amendment["amendmentId"], amendment["status"], amendment["businessService"]) == (
        amendment_id,
        "INWORKFLOW",
        "WS",
    )
    assert amendment["auditDetails"]["createdBy"] == digit.employee["uuid"]


def test_tenants_come_from_mdms_so_a_real_city_works_without_creating_it(digit: Digit) -> None:
    ludhiana = Tenant.objects.get(code="pb.ludhiana")
    assert (ludhiana.name, ludhiana.state.code, ludhiana.extra["city"]["code"]) == ("Ludhiana", "pb", "1001")
    assert Tenant.objects.get(code="pb.amritsar").extra["city"]["districtName"] == "Amritsar"
    digit.egov.add(
        "tok-ldh-0001",
        {
            **digit.employee,
            "uuid": "7d3c1e1e-0000-4000-8000-000000000077",
            "tenantId": "pb.ludhiana",
            "roles": [{"code": "EMPLOYEE", "name": "Employee", "tenantId": "pb.ludhiana"}],
        },
    )
    demand = {
        "tenantId": "pb.ludhiana",
        "consumerCode": "PT-1001-000001",
        "consumerType": "RESIDENTIAL",
        "businessService": "PT",
        "payer": {"uuid": digit.citizen["uuid"]},
        "taxPeriodFrom": 1554076799000,
        "taxPeriodTo": 1585679399000,
        "demandDetails": [{"taxHeadMasterCode": "PT_TAX", "taxAmount": 300, "collectionAmount": 0}],
    }
    response = post(
        "/billing-service/demand/_create", {"RequestInfo": request_info("tok-ldh-0001"), "Demands": [demand]}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["Demands"][0]["tenantId"] == "pb.ludhiana"
