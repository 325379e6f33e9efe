"""Collection face of payments: /collection-services/payments/_create, _validate, _search, {module}/_search,
{module}/_workflow (reference collection-services v2)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from billing_project import clock
from bills.models import Bill, BillStatus
from demands.models import DemandDetail
from masters.access import Caller
from masters.models import Role
from payments.models import Payment, PaymentStatus
from tests.payments.conftest import CANCEL_AT, CITY, PAY_AT, line, make_bill, pay, pt_demand, state

BASE = "/collection-services/payments/"
REQUEST_INFO = {"apiId": "Rainmaker", "ver": ".01", "ts": 1700000000000, "msgId": "20170310130900|en_IN"}
PAY_AT_MS = 1714561200000  # 2024-05-01 11:00 UTC
D = Decimal


@pytest.fixture
def client(seed: Any, api_client_for: Any) -> Any:
    return api_client_for("cashier-api", {CITY: [Role.CASHIER]})


@pytest.fixture
def bill(employee: Caller) -> Bill:
    """PT-107-001, 2019-20: PT_TAX 1000 + PT_FIRE_CESS 100 = 1100."""
    return make_bill(employee, pt_demand(details=(line("PT_TAX", "1000"), line("PT_FIRE_CESS", "100"))))


def payment_body(bill: Bill, amount: str | int, **kwargs: Any) -> dict[str, Any]:
    payment: dict[str, Any] = {
        "tenantId": CITY,
        "totalDue": float(bill.total_amount),
        "totalAmountPaid": amount,
        "paymentMode": "CASH",
        "paidBy": "OWNER",
        "mobileNumber": "9876543210",
        "payerName": "Asha Devi",
        "paymentDetails": [
            {"billId": str(bill.pk), "businessService": "PT", "totalDue": 1100, "totalAmountPaid": amount}
        ],
    }
    payment.update(kwargs)
    return {"RequestInfo": REQUEST_INFO, "Payment": payment}


def post(client: Any, path: str, body: Any, query: str = "", *, at: Any = PAY_AT) -> Any:
    with clock.frozen(at):
        return client.post(f"{BASE}{path}{query}", body, format="json")


def codes(response: Any) -> list[str]:
    return [error["code"] for error in response.json()["Errors"]]


def test_create_answers_the_payment_with_the_apportioned_bill(client, bill):
    response = post(client, "_create", payment_body(bill, 600))

    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["ResponseInfo"] == {
        "apiId": "Rainmaker",
        "ver": ".01",
        "ts": 1700000000000,
        "resMsgId": None,
        "msgId": "20170310130900|en_IN",
        "status": "200 OK",
    }
    [payment] = data["Payments"]
    stored = Payment.objects.get()
    assert payment["id"] == str(stored.pk)
    assert (payment["tenantId"], payment["paymentMode"], payment["paymentStatus"], payment["instrumentStatus"]) == (
        CITY,
        "CASH",
        "NEW",
        "APPROVED",
    )
    assert (payment["totalDue"], payment["totalAmountPaid"]) == (1100, 600)
    assert (payment["transactionDate"], payment["instrumentDate"]) == (PAY_AT_MS, PAY_AT_MS)
    assert (payment["paidBy"], payment["mobileNumber"], payment["payerName"]) == ("OWNER", "9876543210", "Asha Devi")
    assert payment["auditDetails"]["createdBy"] == "cashier-api"
    [detail] = payment["paymentDetails"]
    assert (detail["receiptNumber"], detail["receiptDate"], detail["receiptType"], detail["businessService"]) == (
        "PT/AMRITSAR/2024-25/000001",
        PAY_AT_MS,
        "BILLBASED",
        "PT",
    )
    assert (detail["billId"], detail["totalDue"], detail["totalAmountPaid"]) == (str(bill.pk), 1100, 600)
    [period] = detail["bill"]["billDetails"]
    assert period["amountPaid"] == 600
    assert sorted((a["taxHeadCode"], a["amount"], a["adjustedAmount"]) for a in period["billAccountDetails"]) == [
        ("PT_FIRE_CESS", 100, 100),
        ("PT_TAX", 1000, 500),
    ]
    assert (detail["bill"]["status"], detail["bill"]["billNumber"]) == ("PARTIALLY_PAID", bill.bill_number)


def test_create_reads_keys_case_insensitively_and_token_from_request_info(seed, api_client_for, bill):
    cashier = api_client_for("cashier-ri", {CITY: [Role.CASHIER]})
    anonymous = type(cashier)()
    body = payment_body(bill, 1100)
    body["payment"] = body.pop("Payment")
    body["payment"]["PAYMENTMODE"] = body["payment"].pop("paymentMode")
    body["RequestInfo"] = {**REQUEST_INFO, "authToken": cashier.token}

    response = post(anonymous, "_create", body)

    assert response.status_code == 200, response.json()
    assert response.json()["Payments"][0]["paymentMode"] == "CASH"
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.PAID


def test_create_refusals_answer_errors_and_write_nothing(client, seed, api_client_for, bill):
    before = state()

    too_much = post(client, "_create", payment_body(bill, 1200, totalAmountPaid=1200))
    mode = post(client, "_create", payment_body(bill, 600, paymentMode="BITCOIN"))
    other = post(api_client_for("cashier-jal", {"pb.jalandhar": [Role.CASHIER]}), "_create", payment_body(bill, 600))
    anonymous = post(type(client)(), "_create", payment_body(bill, 600))

    assert (too_much.status_code, codes(too_much)) == (400, ["INVALID_PAYMENTDETAIL"])
    assert too_much.json()["ResponseInfo"] is None
    assert (mode.status_code, codes(mode)) == (400, ["invalid_choice.Payment.paymentMode"])
    assert (other.status_code, codes(other)) == (403, ["PERMISSION_DENIED"])
    assert (anonymous.status_code, codes(anonymous)) == (401, ["AUTHENTICATION_REQUIRED"])
    assert state() == before


def test_validate_checks_without_writing(client, bill):
    before = state()

    ok = post(client, "_validate", payment_body(bill, 600))
    bad = post(client, "_validate", payment_body(bill, 600, paymentDetails=[]))
    mismatch = post(client, "_validate", payment_body(bill, 600, totalAmountPaid=700))

    assert ok.status_code == 200, ok.json()
    assert ok.json()["Payments"] == [payment_body(bill, 600)["Payment"]]
    assert bad.status_code == 400
    assert (mismatch.status_code, codes(mismatch)) == (400, ["INVALID_PAYMENTDETAIL"])
    assert state() == before


@pytest.fixture
def three(employee: Caller, cashier: Caller) -> dict[str, Payment]:
    """PT-A CASH 500 (11:00), PT-B CHEQUE 300 (12:00)."""
    out: dict[str, Payment] = {}
    specs = [
        ("PT-A", pt_demand("PT-A", details=(line("PT_TAX", "500"),)), "500", "CASH"),
        ("PT-B", pt_demand("PT-B", details=(line("PT_TAX", "300"),)), "300", "CHEQUE"),
    ]
    for index, (code, demand, amount, mode) in enumerate(specs):
        bill = make_bill(employee, demand)
        out[code] = pay(cashier, bill, amount, mode=mode, at=PAY_AT.replace(hour=11 + index))
    return out


def search(client: Any, path: str, query: str) -> list[str]:
    response = post(client, path, {"RequestInfo": REQUEST_INFO}, query, at=CANCEL_AT)
    assert response.status_code == 200, response.json()
    return [p["paymentDetails"][0]["bill"]["consumerCode"] for p in response.json()["Payments"]]


def test_search_criteria(client, three):
    a, b = three["PT-A"], three["PT-B"]
    receipt_b = b.details.get().receipt_number
    assert receipt_b == "PT/AMRITSAR/2024-25/000002"
    assert search(client, "_search", f"?tenantId={CITY}") == ["PT-A", "PT-B"]
    assert search(client, "_search", f"?tenantId={CITY}&sort=-receiptNumber") == ["PT-B", "PT-A"]
    assert search(client, "_search", f"?TENANTID={CITY}&consumerCodes=PT-B,PT-X") == ["PT-B"]
    assert search(client, "_search", f"?tenantId={CITY}&receiptNumbers={receipt_b}") == ["PT-B"]
    assert search(client, "_search", f"?tenantId={CITY}&ids={a.pk}") == ["PT-A"]
    assert search(client, "_search", f"?tenantId={CITY}&billIds={b.details.get().bill_id}") == ["PT-B"]
    assert search(client, "_search", f"?tenantId={CITY}&paymentModes=CHEQUE") == ["PT-B"]
    assert search(client, "_search", f"?tenantId={CITY}&status=NEW") == ["PT-A", "PT-B"]
    assert search(client, "_search", f"?tenantId={CITY}&status=CANCELLED") == []
    assert search(client, "_search", f"?tenantId={CITY}&fromDate=1714564800000") == ["PT-B"]  # 12:00 UTC
    assert search(client, "_search", f"?tenantId={CITY}&toDate=1714561200000") == ["PT-A"]  # 11:00 UTC
    assert search(client, "_search", f"?tenantId={CITY}&pageSize=1&pageNumber=2") == ["PT-B"]
    assert search(client, "_search", f"?tenantId={CITY}&pageSize=500") == ["PT-A", "PT-B"]
    assert search(client, "_search", f"?tenantId={CITY}&mobileNumber=0000000000") == []
    assert search(client, "PT/_search", f"?tenantId={CITY}") == ["PT-A", "PT-B"]
    assert search(client, "WC/_search", f"?tenantId={CITY}") == []
    assert search(client, "_search", f"?tenantId={CITY}&ids=not-a-uuid") == []


def test_search_needs_a_tenant_and_is_scoped(client, seed, api_client_for, three):
    missing = post(client, "_search", {"RequestInfo": REQUEST_INFO}, at=CANCEL_AT)
    other = api_client_for("cashier-jal", {"pb.jalandhar": [Role.CASHIER]})

    assert (missing.status_code, codes(missing)) == (400, ["invalid.tenantId"])
    assert search(other, "_search", f"?tenantId={CITY}") == []
    assert search(other, "_search", "?tenantId=pb.jalandhar") == []


def workflow(payment: Payment, action: str, reason: str = "Wrong consumer") -> dict[str, Any]:
    return {
        "RequestInfo": REQUEST_INFO,
        "PaymentWorkflows": [{"paymentId": str(payment.pk), "action": action, "tenantId": CITY, "reason": reason}],
    }


def test_workflow_cancel_and_dishonour(client, three):
    cancelled = post(client, "PT/_workflow", workflow(three["PT-A"], "CANCEL"), at=CANCEL_AT)
    dishonoured = post(client, "PT/_workflow", workflow(three["PT-B"], "DISHONOUR", "bounced"), at=CANCEL_AT)

    assert cancelled.status_code == 200, cancelled.json()
    [payment] = cancelled.json()["Payments"]
    assert (payment["paymentStatus"], payment["instrumentStatus"], payment["cancelReason"]) == (
        "CANCELLED",
        "CANCELLED",
        "Wrong consumer",
    )
    # The bill as this payment apportioned it, even though the bill itself is now CANCELLED.
    bill = payment["paymentDetails"][0]["bill"]
    assert bill["status"] == "CANCELLED"
    assert bill["billDetails"][0]["amountPaid"] == 500
    assert list(
        DemandDetail.objects.filter(demand__consumer_code="PT-A").values_list("collection_amount", flat=True)
    ) == [D("0.00")]
    assert dishonoured.status_code == 200, dishonoured.json()
    assert dishonoured.json()["Payments"][0]["paymentStatus"] == "DISHONOURED"
    assert Payment.objects.get(pk=three["PT-B"].pk).status == PaymentStatus.DISHONOURED


def test_workflow_remit_deposits_a_new_payment_once(client, three):
    remitted = post(client, "PT/_workflow", workflow(three["PT-B"], "REMIT", ""), at=CANCEL_AT)
    assert remitted.status_code == 200, remitted.json()
    [payment] = remitted.json()["Payments"]
    assert (payment["paymentStatus"], payment["instrumentStatus"]) == ("DEPOSITED", "REMITTED")
    stored = Payment.objects.get(pk=three["PT-B"].pk)
    assert (stored.status, stored.instrument_status) == (PaymentStatus.DEPOSITED, "REMITTED")
    before = state()
    again = post(client, "PT/_workflow", workflow(three["PT-B"], "REMIT", ""), at=CANCEL_AT)
    assert (again.status_code, codes(again)) == (400, ["PAYMENT_NOT_REMITTABLE"])
    assert state() == before
    # A deposited cheque can still bounce.
    bounced = post(client, "PT/_workflow", workflow(three["PT-B"], "DISHONOUR", "bounced"), at=CANCEL_AT)
    assert bounced.json()["Payments"][0]["paymentStatus"] == "DISHONOURED"


def test_workflow_refusals_write_nothing(client, three):
    before = state()

    module = post(client, "WC/_workflow", workflow(three["PT-A"], "CANCEL"), at=CANCEL_AT)
    cash = post(client, "PT/_workflow", workflow(three["PT-A"], "DISHONOUR"), at=CANCEL_AT)
    no_reason = post(client, "PT/_workflow", workflow(three["PT-A"], "CANCEL", ""), at=CANCEL_AT)
    unknown = post(client, "PT/_workflow", workflow(three["PT-A"], "APPROVE"), at=CANCEL_AT)

    assert (module.status_code, codes(module)) == (400, ["INVALID_BUSINESS_SERVICE"])
    assert (cash.status_code, codes(cash)) == (400, ["PAYMENT_NOT_DISHONOURABLE"])
    assert (no_reason.status_code, codes(no_reason)) == (400, ["PAYMENT_REASON_REQUIRED"])
    assert (unknown.status_code, codes(unknown)) == (400, ["invalid_choice.PaymentWorkflows.0.action"])
    assert state() == before
