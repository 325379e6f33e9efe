"""DIGIT face of bills: /billing-service/bill/v2/_fetchbill, _search, _cancelbill and the deprecated endpoints
(reference §6, §6.1, §7.4–7.6, §9, §14.1, §15)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token

from billing_project import clock
from bills.models import Bill, BillStatus
from demands.models import Demand, DemandDetail
from masters.access import caller_for
from masters.models import Payer, Tenant
from tests.bills._factories_api import (
    AT,
    AT_MS,
    EXPIRY_AT_MS,
    LATER,
    PTAN2018,
    PTAN2019,
    REQUEST_INFO,
    citizen_payer,
    employee,
    errors,
    fetch,
    line,
    load_seed,
    make_user,
    pt_demand,
    response_info,
    token_client,
    two_period_demands,
)

FETCH = "/billing-service/bill/v2/_fetchbill"
SEARCH = "/billing-service/bill/v2/_search"
CANCEL = "/billing-service/bill/v2/_cancelbill"
PTAN2017 = (1491004800000, 1522540798000)


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
        tenant=seed["pb"],
        name="Asha Devi",
        mobile_number="9876543210",
        email="asha@example.org",
        permanent_address="12 Mall Road, Amritsar",
    )


def post(client: Any, url: str, query: str = "", body: dict[str, Any] | None = None, *, at: Any = AT) -> Any:
    with clock.frozen(at):
        return client.post(f"{url}?{query}" if query else url, body or {"RequestInfo": REQUEST_INFO}, format="json")


def cancel_body(**criteria: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "tenantId": "pb.amritsar",
        "consumerCodes": ["PT-107-001"],
        "businessService": "PT",
        "statusToBeUpdated": "CANCELLED",
        "additionalDetails": {"reason": "OTHER", "reasonMessage": "Wrong demand", "description": "Duplicate entry"},
    }
    base.update(criteria)
    return {"RequestInfo": REQUEST_INFO, "UpdateBillCriteria": base}


def detail_id(demand: Demand, code: str, amount: str) -> str:
    return str(DemandDetail.objects.get(demand=demand, tax_head_code=code, tax_amount=amount).pk)


def first_line(demand: Demand, code: str) -> str:
    """The first line of a head as bill generation reads the lines: in the order they were sent."""
    first = DemandDetail.objects.filter(demand=demand, tax_head_code=code).order_by("position", "created_at").first()
    assert first is not None
    return str(first.pk)


# --- fetchbill ----------------------------------------------------------------------------------


def test_fetchbill_answers_201_with_the_whole_two_period_bill(client, emp, payer):
    older, newer = two_period_demands(caller_for(emp), payer=payer)

    response = post(client, FETCH, "tenantId=pb.amritsar&businessService=PT&consumerCode=PT-107-001")

    assert response.status_code == 201, response.json()
    bill = Bill.objects.get()
    details = {d.demand_id: d for d in bill.details.all()}
    older_detail, newer_detail = details[older.pk], details[newer.pk]
    lines = {(a.bill_detail_id, a.tax_head_code): str(a.pk) for d in details.values() for a in d.account_details.all()}

    def account(detail: Any, code: str, demand_detail: str, order: int, amount: int) -> dict[str, Any]:
        return {
            "id": lines[(detail.pk, code)],
            "tenantId": "pb.amritsar",
            "billDetailId": str(detail.pk),
            "demandDetailId": demand_detail,
            "order": order,
            "amount": amount,
            "adjustedAmount": 0,
            "taxHeadCode": code,
            "additionalDetails": None,
            "auditDetails": None,
        }

    assert response.json() == {
        "ResposneInfo": response_info("201 CREATED"),
        "Bill": [
            {
                "id": str(bill.pk),
                "userId": str(payer.uuid),
                "mobileNumber": "9876543210",
                "payerName": "Asha Devi",
                "payerAddress": "12 Mall Road, Amritsar",
                "payerEmail": "asha@example.org",
                "status": "ACTIVE",
                "totalAmount": 1475,
                "businessService": "PT",
                "billNumber": "BILLNO-PT-000001",
                "billDate": AT_MS,
                "consumerCode": "PT-107-001",
                "additionalDetails": None,
                "tenantId": "pb.amritsar",
                "fileStoreId": None,
                "auditDetails": {
                    "createdBy": "emp-asr",
                    "lastModifiedBy": "emp-asr",
                    "createdTime": AT_MS,
                    "lastModifiedTime": AT_MS,
                },
                "billDetails": [
                    {
                        "id": str(older_detail.pk),
                        "tenantId": "pb.amritsar",
                        "demandId": str(older.pk),
                        "billId": str(bill.pk),
                        "expiryDate": EXPIRY_AT_MS,
                        "amount": 500,
                        "amountPaid": None,
                        "fromPeriod": PTAN2018[0],
                        "toPeriod": PTAN2018[1],
                        "additionalDetails": None,
                        "billAccountDetails": [
                            account(older_detail, "PT_TAX", detail_id(older, "PT_TAX", "500"), 0, 500),
                        ],
                    },
                    {
                        "id": str(newer_detail.pk),
                        "tenantId": "pb.amritsar",
                        "demandId": str(newer.pk),
                        "billId": str(bill.pk),
                        "expiryDate": EXPIRY_AT_MS,
                        "amount": 975,
                        "amountPaid": None,
                        "fromPeriod": PTAN2019[0],
                        "toPeriod": PTAN2019[1],
                        "additionalDetails": {"assessmentNumber": "AS-1"},
                        "billAccountDetails": [
                            account(newer_detail, "PT_TAX", detail_id(newer, "PT_TAX", "1000"), 0, 1000),
                            # two interest lines: one account line carrying the first line's id and their sum
                            account(newer_detail, "PT_TIME_INTEREST", first_line(newer, "PT_TIME_INTEREST"), 1, 25),
                            account(newer_detail, "PT_TIME_REBATE", detail_id(newer, "PT_TIME_REBATE", "-50"), 2, -50),
                        ],
                    },
                ],
            }
        ],
    }


def test_fetchbill_twice_answers_the_same_bill(client, emp):
    pt_demand(caller_for(emp))
    query = "tenantId=pb.amritsar&businessService=PT&consumerCode=PT-107-001"

    first = post(client, FETCH, query)
    second = post(client, FETCH, query)

    assert first.status_code == second.status_code == 201
    assert [b["id"] for b in second.json()["Bill"]] == [b["id"] for b in first.json()["Bill"]]
    assert list(Bill.objects.values_list("bill_number", "status")) == [("BILLNO-PT-000001", "ACTIVE")]


def test_fetchbill_after_expiry_replaces_the_bill(client, emp):
    pt_demand(caller_for(emp))
    query = "tenantId=pb.amritsar&businessService=PT&consumerCode=PT-107-001"
    first = post(client, FETCH, query).json()["Bill"][0]

    second = post(client, FETCH, query, at=LATER).json()["Bill"][0]

    assert second["id"] != first["id"]
    assert (second["billNumber"], second["status"], second["totalAmount"]) == ("BILLNO-PT-000002", "ACTIVE", 500)
    assert Bill.objects.get(pk=first["id"]).status == BillStatus.EXPIRED


def test_fetchbill_by_mobile_number_finds_unbilled_demands_with_their_own_payer(client, emp, payer, seed):
    other = Payer.objects.create(tenant=seed["pb"], name="Ravi Kumar", mobile_number="9000000001")
    caller = caller_for(emp)
    pt_demand(caller, "PT-107-002", payer=payer, lines=(line("PT_TAX", "300"),))
    pt_demand(caller, "PT-107-001", payer=payer, lines=(line("PT_TAX", "200"),))
    pt_demand(caller, "PT-107-003", payer=other)

    response = post(client, FETCH, "tenantId=pb.amritsar&businessService=PT&mobileNumber=9876543210")

    assert response.status_code == 201
    assert [(b["consumerCode"], b["totalAmount"], b["userId"], b["payerName"]) for b in response.json()["Bill"]] == [
        ("PT-107-001", 200, str(payer.uuid), "Asha Devi"),
        ("PT-107-002", 300, str(payer.uuid), "Asha Devi"),
    ]
    assert Bill.objects.filter(consumer_code="PT-107-003").count() == 0


def test_fetchbill_by_demand_id_bills_only_that_consumer(client, emp):
    caller = caller_for(emp)
    demand = pt_demand(caller, "PT-107-001")
    pt_demand(caller, "PT-107-002")

    response = post(client, FETCH, f"tenantId=pb.amritsar&businessService=PT&demandId={demand.pk}")

    assert [b["consumerCode"] for b in response.json()["Bill"]] == ["PT-107-001"]
    assert Bill.objects.count() == 1


def test_fetchbill_without_demands_answers_an_empty_list(client, seed):
    response = post(client, FETCH, "tenantId=pb.amritsar&businessService=PT&consumerCode=PT-NONE")

    assert response.status_code == 201
    assert response.json() == {"ResposneInfo": response_info("201 CREATED"), "Bill": []}


def test_fetchbill_criteria_names_are_case_insensitive_and_sets_comma_separated(client, emp):
    caller = caller_for(emp)
    pt_demand(caller, "PT-1")
    pt_demand(caller, "PT-2")

    response = post(client, FETCH, "TENANTID=pb.amritsar&businessservice=PT&consumercode=PT-2,PT-1")

    assert [b["consumerCode"] for b in response.json()["Bill"]] == ["PT-1", "PT-2"]


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        (
            "tenantId=pb.amritsar&businessService=PT",
            "BILL_GEN_MANDATORY_FIELDS_MISSING",
            "Valid search criteria fields missing, please give some valid criteria like mobileNumber/email OR "
            "'businessService & consumerCode' OR demandId",
        ),
        ("businessService=PT&consumerCode=PT-107-001", "INVALID_TENANTID", "tenantId is mandatory"),
        ("tenantId=pb.amritsar&consumerCode=PT-107-001", "INVALID_BUSINESSSERVICE", "businessService is mandatory"),
        (
            "tenantId=pb.amritsar&businessService=PT&mobileNumber=98765",
            "INVALID_MOBILENUMBER",
            "mobileNumber must be 10 digits",
        ),
        (
            "tenantId=pb&businessService=PT&consumerCode=PT-107-001",
            "EG_BS_INVALID_TENANTID",
            "Employees cannot search based on state level tenantid",
        ),
    ],
)
def test_fetchbill_refusals_write_nothing(client, emp, query, code, message):
    pt_demand(caller_for(emp))

    response = post(client, FETCH, query)

    assert response.status_code == 400
    assert response.json() == errors((code, message))
    assert Bill.objects.count() == 0


def test_fetchbill_needs_a_token(seed, anon_client):
    response = post(anon_client, FETCH, "tenantId=pb.amritsar&businessService=PT&consumerCode=PT-107-001")

    assert response.status_code == 401
    assert response.json()["Errors"][0]["code"] == "AUTHENTICATION_REQUIRED"


def test_fetchbill_by_an_employee_of_another_city_bills_nothing(emp, seed):
    pt_demand(caller_for(emp))
    other = token_client(employee("emp-jal", "pb.jalandhar"))

    response = post(other, FETCH, "tenantId=pb.amritsar&businessService=PT&consumerCode=PT-107-001")

    assert response.json()["Bill"] == []
    assert Bill.objects.count() == 0


# --- search -------------------------------------------------------------------------------------


def test_search_answers_the_latest_bill_per_consumer_or_with_retrieve_oldest_the_first(client, emp):
    caller = caller_for(emp)
    pt_demand(caller, "PT-107-001")
    first = fetch(caller, "PT-107-001")[0]
    second = fetch(caller, "PT-107-001", at=LATER)[0]
    query = "tenantId=pb.amritsar&service=PT&consumerCode=PT-107-001"

    latest = post(client, SEARCH, query, at=LATER)
    oldest = post(client, SEARCH, query + "&retrieveOldest=true", at=LATER)

    assert latest.status_code == 200
    assert latest.json()["ResposneInfo"] == response_info("200 OK")
    assert [(b["id"], b["billNumber"], b["status"]) for b in latest.json()["Bill"]] == [
        (str(second.pk), "BILLNO-PT-000002", "ACTIVE")
    ]
    assert [(b["id"], b["billNumber"], b["status"]) for b in oldest.json()["Bill"]] == [
        (str(first.pk), "BILLNO-PT-000001", "EXPIRED")
    ]


def test_search_with_retrieve_oldest_skips_cancelled_bills(client, emp):
    caller = caller_for(emp)
    pt_demand(caller)
    first = fetch(caller, "PT-107-001")[0]
    Bill.objects.filter(pk=first.pk).update(status=BillStatus.CANCELLED)
    second = fetch(caller, "PT-107-001")[0]

    oldest = post(client, SEARCH, "tenantId=pb.amritsar&service=PT&consumerCode=PT-107-001&retrieveOldest=true")

    assert [b["id"] for b in oldest.json()["Bill"]] == [str(second.pk)]


def test_search_reports_a_stale_active_bill_as_expired(client, emp):
    caller = caller_for(emp)
    pt_demand(caller, "PT-107-001")
    pt_demand(caller, "PT-107-002")
    fetch(caller, "PT-107-001", "PT-107-002")
    # PT-107-002 gets a new demand: its bill is behind the consumer's revision
    pt_demand(caller, "PT-107-002", period=PTAN2017)
    query = "tenantId=pb.amritsar&service=PT&consumerCode=PT-107-001,PT-107-002"

    today = post(client, SEARCH, query)
    tomorrow = post(client, SEARCH, query, at=LATER)

    assert [(b["consumerCode"], b["status"]) for b in today.json()["Bill"]] == [
        ("PT-107-001", "ACTIVE"),
        ("PT-107-002", "EXPIRED"),
    ]
    assert [(b["consumerCode"], b["status"]) for b in tomorrow.json()["Bill"]] == [
        ("PT-107-001", "EXPIRED"),
        ("PT-107-002", "EXPIRED"),
    ]
    assert set(Bill.objects.values_list("status", flat=True)) == {"ACTIVE"}  # reads write nothing


def test_search_body_is_the_bill_json(client, emp, payer):
    caller = caller_for(emp)
    two_period_demands(caller, payer=payer)
    fetched = post(client, FETCH, "tenantId=pb.amritsar&businessService=PT&consumerCode=PT-107-001").json()

    found = post(client, SEARCH, "tenantId=pb.amritsar&billId=" + fetched["Bill"][0]["id"])

    assert found.json() == {"ResposneInfo": response_info("200 OK"), "Bill": fetched["Bill"]}


def test_search_by_mobile_number_bill_number_and_period(client, emp, payer):
    caller = caller_for(emp)
    pt_demand(caller, "PT-107-001", payer=payer)
    pt_demand(caller, "PT-107-002", payer=payer, period=PTAN2018)
    pt_demand(caller, "PT-107-003")
    fetch(caller, "PT-107-001", "PT-107-002", "PT-107-003")

    by_mobile = post(client, SEARCH, "tenantId=pb.amritsar&mobileNumber=9876543210&orderBy=true")
    by_number = post(client, SEARCH, "tenantId=pb.amritsar&mobileNumber=9876543210&billNumber=BILLNO-PT-000002")
    by_period = post(client, SEARCH, f"tenantId=pb.amritsar&mobileNumber=9876543210&fromPeriod={PTAN2018[0]}")
    by_status = post(client, SEARCH, "tenantId=pb.amritsar&mobileNumber=9876543210&status=PAID")

    assert [b["consumerCode"] for b in by_mobile.json()["Bill"]] == ["PT-107-001", "PT-107-002"]
    assert [b["consumerCode"] for b in by_number.json()["Bill"]] == ["PT-107-002"]
    assert [b["consumerCode"] for b in by_period.json()["Bill"]] == ["PT-107-002"]
    assert by_status.json()["Bill"] == []


@pytest.mark.parametrize(
    ("query", "code", "message", "params"),
    [
        (
            "tenantId=pb.amritsar&service=PT",
            "EGBS_MANDATORY_FIELDS_ERROR",
            "BILL_SEARCH_MANDATORY_FIELDS_MISSING Any one of the fields additional to tenantId is mandatory like "
            "consumerCode,billId, mobileNumber or email",
            None,
        ),
        (
            "tenantId=pb.amritsar&consumerCode=PT-107-001",
            "BILL_SEARCH_CONSUMERCODE_BUSINESSSERVICE",
            " the consumerCode & Service values should be given together or mobilenumber/email can be given ",
            None,
        ),
        ("service=PT&consumerCode=PT-107-001", "NotNull.billSearchCriteria.tenantId", "tenantId is mandatory", None),
        (
            "tenantId=pb.amritsar&mobileNumber=12345",
            "Pattern.mobileNumber",
            "MobileNumber should be 10 digit number",
            ["mobileNumber"],
        ),
        (
            "tenantId=pb.amritsar&mobileNumber=9876543210&status=OPEN",
            "invalid.status",
            "'OPEN' is not one of ACTIVE, CANCELLED, EXPIRED, PAID, PARTIALLY_PAID, PAYMENT_CANCELLED",
            ["status"],
        ),
        (
            "tenantId=pb.amritsar&mobileNumber=9876543210&fromPeriod=yesterday",
            "invalid.fromPeriod",
            "'yesterday' is not a time in epoch milliseconds",
            ["fromPeriod"],
        ),
        (
            "tenantId=pb.amritsar&mobileNumber=9876543210&retrieveOldest=maybe",
            "invalid.retrieveOldest",
            "'maybe' is not a boolean (true/false)",
            ["retrieveOldest"],
        ),
        (
            "tenantId=pb&service=PT&consumerCode=PT-107-001",
            "EG_BS_INVALID_TENANTID",
            "Employees cannot search based on state level tenantid",
            None,
        ),
    ],
)
def test_search_refusals(client, seed, query, code, message, params):
    response = post(client, SEARCH, query)

    assert response.status_code == 400
    assert response.json() == {
        "ResponseInfo": None,
        "Errors": [{"code": code, "message": message, "description": None, "params": params}],
    }


def test_search_is_scoped_to_the_callers_tenants_and_a_citizens_own_bills(emp, payer, seed):
    caller = caller_for(emp)
    citizen, own = citizen_payer("asha", "Asha", "9111111111")
    pt_demand(caller, "PT-OWN", payer=own)
    pt_demand(caller, "PT-107-001", payer=payer)
    fetch(caller, "PT-OWN", "PT-107-001")
    query = "tenantId=pb.amritsar&service=PT&consumerCode=PT-OWN,PT-107-001"

    amritsar = post(token_client(emp), SEARCH, query)
    jalandhar = post(token_client(employee("emp-jal", "pb.jalandhar")), SEARCH, query)
    mine = post(token_client(citizen), SEARCH, query)
    state_level = post(token_client(citizen), SEARCH, "tenantId=pb&service=PT&consumerCode=PT-OWN,PT-107-001")

    assert [b["consumerCode"] for b in amritsar.json()["Bill"]] == ["PT-107-001", "PT-OWN"]
    assert jalandhar.json()["Bill"] == []
    assert [b["consumerCode"] for b in mine.json()["Bill"]] == ["PT-OWN"]
    assert [b["consumerCode"] for b in state_level.json()["Bill"]] == ["PT-OWN"]


# --- cancelbill ---------------------------------------------------------------------------------


@pytest.fixture
def billed(emp: Any) -> Bill:
    pt_demand(caller_for(emp))
    return fetch(caller_for(emp), "PT-107-001")[0]


def test_cancelbill_cancels_the_active_bill_and_keeps_the_demands(client, billed):
    response = post(client, CANCEL, body=cancel_body(), at=LATER)

    assert response.status_code == 200
    assert response.json() == {
        "ResponseInfo": response_info("200 OK"),
        "Message": "Successfully cancelled 1 Active bills for given consumer codes",
    }
    billed.refresh_from_db()
    assert (billed.status, billed.modified_by, billed.modified_at) == ("CANCELLED", "emp-asr", LATER)
    assert billed.additional_details == {
        "reason": "OTHER",
        "reasonMessage": "Wrong demand",
        "description": "Duplicate entry",
    }
    assert list(Demand.objects.values_list("status", "is_payment_completed")) == [("ACTIVE", False)]


def test_cancelbill_again_finds_no_active_bill(client, billed):
    assert post(client, CANCEL, body=cancel_body()).status_code == 200

    again = post(client, CANCEL, body=cancel_body())

    assert again.status_code == 400
    assert again.json() == {
        "ResponseInfo": response_info("400 BAD_REQUEST"),
        "Message": "No Active bills found for cancellation for the given criteria",
    }


def test_cancelbill_of_a_paid_latest_bill_is_refused(client, billed):
    Bill.objects.filter(pk=billed.pk).update(status=BillStatus.PAID)

    response = post(client, CANCEL, body=cancel_body())

    assert response.status_code == 400
    assert response.json() == {
        "ResponseInfo": response_info("400 BAD_REQUEST"),
        "Message": "You cannot cancel the bill in the workflow",
    }
    billed.refresh_from_db()
    assert (billed.status, billed.additional_details) == ("PAID", None)


def test_cancelbill_for_an_unknown_consumer_finds_no_active_bill(client, billed):
    response = post(client, CANCEL, body=cancel_body(consumerCodes=["PT-NONE"]))

    assert response.status_code == 400
    assert response.json()["Message"] == "No Active bills found for cancellation for the given criteria"


def test_cancelbill_reads_keys_case_insensitively(client, billed):
    body = {
        "requestinfo": REQUEST_INFO,
        "updateBillCriteria": {
            "TENANTID": "pb.amritsar",
            "consumercodes": ["PT-107-001"],
            "BusinessService": "PT",
            "additionaldetails": {"reason": "OTHER", "reasonMessage": "Wrong demand"},
            "unknownKey": 1,
        },
    }

    response = post(client, CANCEL, body=body)

    assert response.status_code == 200
    assert response.json()["Message"] == "Successfully cancelled 1 Active bills for given consumer codes"


@pytest.mark.parametrize(
    ("details", "codes", "code", "message"),
    [
        (
            {"reasonMessage": "Wrong demand"},
            ["PT-107-001"],
            "EG_BS_CANCELL_REASON_CODE_NOT",
            "Cancellation Reason with key 'reason' is a madnatory Text field in additionalDetails of Bill cancell "
            "Request",
        ),
        (
            {"reason": "  ", "reasonMessage": "Wrong demand"},
            ["PT-107-001"],
            "EG_BS_CANCELL_REASON_CODE_NOT",
            "Cancell Reason code cannot be empty",
        ),
        (
            {"reason": "OTHER"},
            ["PT-107-001"],
            "EG_BS_CANCELL_REASON_MSG_NOT",
            "Cancell Reason message with key 'reasonMessage' is madnatory Text field in additionalDetails of Bill "
            "cancell Request",
        ),
        (
            {"reason": "OTHER", "reasonMessage": ""},
            ["PT-107-001"],
            "EG_BS_CANCELL_REASON_MSG_NOT",
            "Cancell Reason message cannot be empty",
        ),
        (
            None,
            ["PT-107-001"],
            "EG_BS_CANCELL_REASON_CODE_NOT",
            "Cancellation Reason with key 'reason' is a madnatory Text field in additionalDetails of Bill cancell "
            "Request",
        ),
        (
            {"reason": "OTHER", "reasonMessage": "Wrong demand"},
            ["PT-107-001", "PT-107-002"],
            "EG_BS_CANCEL_BILL_ERROR",
            "Only one consumer code can be provided in the Cancel request",
        ),
    ],
)
def test_cancelbill_validation_errors_change_nothing(client, billed, details, codes, code, message):
    response = post(client, CANCEL, body=cancel_body(additionalDetails=details, consumerCodes=codes))

    assert response.status_code == 400
    assert response.json() == errors((code, message))
    billed.refresh_from_db()
    assert (billed.status, billed.additional_details) == ("ACTIVE", None)


def test_cancelbill_malformed_criteria_are_named(client, billed):
    body = cancel_body()
    del body["UpdateBillCriteria"]["tenantId"]
    body["UpdateBillCriteria"]["consumerCodes"] = "PT-107-001"

    response = post(client, CANCEL, body=body)

    assert response.status_code == 400
    assert response.json() == {
        "ResponseInfo": None,
        "Errors": [
            {
                "code": "required.UpdateBillCriteria.tenantId",
                "message": "This field is required.",
                "description": None,
                "params": ["UpdateBillCriteria.tenantId"],
            },
            {
                "code": "not_a_list.UpdateBillCriteria.consumerCodes",
                "message": 'Expected a list of items but got type "str".',
                "description": None,
                "params": ["UpdateBillCriteria.consumerCodes"],
            },
        ],
    }


def test_cancelbill_by_an_employee_of_another_city_is_forbidden(billed, seed):
    other = token_client(employee("emp-jal", "pb.jalandhar"))

    response = post(other, CANCEL, body=cancel_body())

    assert response.status_code == 403
    assert response.json() == errors(
        (
            "PERMISSION_DENIED",
            "You need one of the roles EMPLOYEE, BILLING_ADMIN, CASHIER in pb.amritsar to cancel bills.",
        )
    )
    billed.refresh_from_db()
    assert billed.status == "ACTIVE"


# --- deprecated endpoints -----------------------------------------------------------------------


def test_v2_generate_is_deprecated(client, seed):
    response = post(client, "/billing-service/bill/v2/_generate", "tenantId=pb.amritsar")

    assert response.status_code == 400
    assert response.json() == errors(
        ("EG_BS_API_ERROR", "The Generate bill API has been deprecated, Access the fetchBill")
    )


def test_v2_create_is_refused(client, seed):
    response = post(client, "/billing-service/bill/v2/_create", body={"RequestInfo": REQUEST_INFO, "Bills": [{}]})

    assert response.status_code == 400
    assert response.json() == errors(
        (
            "EG_BS_API_ERROR",
            "The Create bill API is not supported: bills are generated from the consumer's demands by "
            "/bill/v2/_fetchbill",
        )
    )
    assert Bill.objects.count() == 0


@pytest.mark.parametrize("path", ["_search", "_generate", "_fetchbill", "_create"])
def test_v1_bill_endpoints_answer_the_legacy_deprecation_error(client, seed, path):
    response = post(client, f"/billing-service/bill/{path}", "tenantId=pb.amritsar")

    assert response.status_code == 400
    assert response.json() == {
        "responseInfo": response_info("400 BAD_REQUEST"),
        "error": {
            "code": 400,
            "message": "EG_BS_API_ERROR",
            "description": "The API you are trying to access has been depricated, Access the V2 API's",
            "fields": None,
        },
    }


def test_bill_endpoints_answer_only_post(client, seed):
    response = client.get(SEARCH)

    assert response.status_code == 405


def test_a_caller_without_any_role_is_refused(seed):
    nobody = token_client(make_user("nobody"))

    response = post(nobody, SEARCH, "tenantId=pb.amritsar&mobileNumber=9876543210")

    assert response.status_code == 403
    assert response.json()["Errors"][0]["code"] == "ACCESS_DENIED"


def test_the_token_may_come_in_request_info(emp, anon_client):
    pt_demand(caller_for(emp))
    body = {"RequestInfo": {**REQUEST_INFO, "authToken": Token.objects.create(user=emp).key}}

    response = post(anon_client, FETCH, "tenantId=pb.amritsar&businessService=PT&consumerCode=PT-107-001", body)

    assert response.status_code == 201
    assert [b["billNumber"] for b in response.json()["Bill"]] == ["BILLNO-PT-000001"]


def test_deprecated_endpoints_still_need_a_caller(seed, anon_client):
    response = post(anon_client, "/billing-service/bill/_search")

    assert response.status_code == 401
    assert response.json()["Errors"][0]["code"] == "AUTHENTICATION_REQUIRED"
