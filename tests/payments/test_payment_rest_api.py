"""REST face of payments: /api/v1/payments/ (create, list + filters + ordering, retrieve, cancel, dishonour)."""

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

PAYMENTS = "/api/v1/payments/"
D = Decimal


@pytest.fixture
def client(seed: Any, api_client_for: Any) -> Any:
    return api_client_for("cashier-api", {CITY: [Role.CASHIER]})


@pytest.fixture
def bill(employee: Caller) -> Bill:
    """PT-107-001, 2019-20: PT_TAX 1000 + PT_FIRE_CESS 100 = 1100."""
    return make_bill(employee, pt_demand(details=(line("PT_TAX", "1000"), line("PT_FIRE_CESS", "100"))))


def body(bill: Bill, amount: str, **kwargs: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "tenant": CITY,
        "payment_mode": "CASH",
        "total_due": str(bill.total_amount),
        "total_amount_paid": amount,
        "paid_by": "OWNER",
        "payer_name": "Asha Devi",
        "mobile_number": "9876543210",
        "details": [
            {
                "bill_id": str(bill.pk),
                "business_service": "PT",
                "total_due": str(bill.total_amount),
                "total_amount_paid": amount,
            }
        ],
    }
    data.update(kwargs)
    return data


def post(client: Any, url: str, data: dict[str, Any], *, at: Any = PAY_AT) -> Any:
    with clock.frozen(at):
        return client.post(url, data, format="json")


def test_create_apportions_and_answers_201_with_receipt_and_lines(client, bill):
    response = post(client, PAYMENTS, body(bill, "600"))

    assert response.status_code == 201, response.json()
    data = response.json()
    payment = Payment.objects.get()
    assert data["id"] == str(payment.pk)
    assert (data["tenant"], data["payment_mode"], data["status"], data["instrument_status"]) == (
        CITY,
        "CASH",
        "NEW",
        "APPROVED",
    )
    assert (data["total_due"], data["total_amount_paid"]) == ("1100.00", "600.00")
    assert (data["paid_by"], data["payer_name"], data["mobile_number"]) == ("OWNER", "Asha Devi", "9876543210")
    assert data["created_by"] == "cashier-api"
    [detail] = data["details"]
    assert detail["receipt_number"] == "PT/AMRITSAR/2024-25/000001"
    assert (detail["bill"], detail["bill_number"], detail["consumer_code"]) == (
        str(bill.pk),
        bill.bill_number,
        "PT-107-001",
    )
    assert (detail["total_due"], detail["total_amount_paid"], detail["receipt_type"]) == (
        "1100.00",
        "600.00",
        "BILLBASED",
    )
    # Smaller dues first: the cess is paid in full, the tax with the rest.
    assert sorted(
        (row["tax_head_code"], row["amount"], row["adjusted_amount"], row["advance_amount"])
        for row in detail["account_lines"]
    ) == [("PT_FIRE_CESS", "100.00", "100.00", "0.00"), ("PT_TAX", "1000.00", "500.00", "0.00")]
    assert sorted(DemandDetail.objects.values_list("tax_head_code", "collection_amount")) == [
        ("PT_FIRE_CESS", D("100.00")),
        ("PT_TAX", D("500.00")),
    ]
    bill.refresh_from_db()
    assert bill.status == BillStatus.PARTIALLY_PAID


def test_create_refusals_write_nothing(client, bill):
    before = state()

    mismatch = post(client, PAYMENTS, body(bill, "600", total_amount_paid="700"))
    missing = post(client, PAYMENTS, body(bill, "600", details=[]))
    cheque = post(client, PAYMENTS, body(bill, "600", payment_mode="CHEQUE"))

    assert mismatch.status_code == 400
    assert mismatch.json()["code"] == "INVALID_PAYMENTDETAIL"
    assert missing.status_code == 400
    assert missing.json()["code"] == "VALIDATION_ERROR"
    assert list(missing.json()["fields"]) == ["details.non_field_errors"]
    assert cheque.status_code == 400
    assert cheque.json()["code"] in ("INVALID_INST_NUMBER", "INVALID_INST_DATE")
    assert state() == before


def test_create_needs_a_payment_role_in_the_tenant(seed, api_client_for, bill):
    other = api_client_for("cashier-jal", {"pb.jalandhar": [Role.CASHIER]})
    before = state()

    response = post(other, PAYMENTS, body(bill, "600"))

    assert response.status_code == 403
    assert response.json()["code"] == "PERMISSION_DENIED"
    assert state() == before


@pytest.fixture
def three(employee: Caller, cashier: Caller) -> dict[str, Payment]:
    """Three payments in Amritsar (CASH 500 PT-A, CHEQUE 300 PT-B, CASH 200 PT-C, taken an hour apart)."""
    out: dict[str, Payment] = {}
    for index, (code, amount, mode) in enumerate(
        [("PT-A", "500", "CASH"), ("PT-B", "300", "CHEQUE"), ("PT-C", "200", "CASH")]
    ):
        bill = make_bill(employee, pt_demand(code, details=(line("PT_TAX", amount),)))
        out[code] = pay(cashier, bill, amount, mode=mode, at=PAY_AT.replace(hour=11 + index))
    return out


def get(client: Any, url: str, **params: Any) -> Any:
    with clock.frozen(CANCEL_AT):
        return client.get(url, params)


def consumers(response: Any) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["details"][0]["consumer_code"] for row in response.json()["results"]]


def test_list_filters_and_ordering(client, three):
    assert consumers(get(client, PAYMENTS)) == ["PT-C", "PT-B", "PT-A"]
    assert get(client, PAYMENTS).json()["count"] == 3
    assert consumers(get(client, PAYMENTS, ordering="total_amount_paid")) == ["PT-C", "PT-B", "PT-A"]
    assert consumers(get(client, PAYMENTS, ordering="created_at")) == ["PT-A", "PT-B", "PT-C"]
    assert consumers(get(client, PAYMENTS, consumer_code="PT-B")) == ["PT-B"]
    assert consumers(get(client, PAYMENTS, payment_mode="CASH")) == ["PT-C", "PT-A"]
    assert consumers(get(client, PAYMENTS, business_service="PT", tenant=CITY)) == ["PT-C", "PT-B", "PT-A"]
    assert consumers(get(client, PAYMENTS, business_service="WC")) == []
    receipt = three["PT-A"].details.get().receipt_number
    assert consumers(get(client, PAYMENTS, receipt_number=receipt)) == ["PT-A"]
    assert consumers(get(client, PAYMENTS, created_from="2024-05-01T12:00:00Z", created_to="2024-05-01T12:00:00Z")) == [
        "PT-B"
    ]
    assert consumers(get(client, PAYMENTS, status="NEW")) == ["PT-C", "PT-B", "PT-A"]
    assert get(client, PAYMENTS, ordering="payer_name").status_code == 400


def test_list_and_retrieve_are_scoped_to_the_callers_tenants(seed, api_client_for, three):
    other = api_client_for("cashier-jal", {"pb.jalandhar": [Role.CASHIER]})
    root = api_client_for("root", {}, superuser=True)
    payment = three["PT-A"]

    assert consumers(get(other, PAYMENTS)) == []
    assert get(other, f"{PAYMENTS}{payment.pk}/").status_code == 404
    assert consumers(get(root, PAYMENTS)) == ["PT-C", "PT-B", "PT-A"]
    detail = get(root, f"{PAYMENTS}{payment.pk}/")
    assert detail.status_code == 200
    assert (detail.json()["id"], detail.json()["total_amount_paid"]) == (str(payment.pk), "500.00")


def test_cancel_reverses_the_payment(client, three):
    payment = three["PT-A"]

    response = post(client, f"{PAYMENTS}{payment.pk}/cancel/", {"reason": "Wrong consumer"}, at=CANCEL_AT)

    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["status"], data["instrument_status"], data["cancel_reason"], data["cancelled_by"]) == (
        "CANCELLED",
        "CANCELLED",
        "Wrong consumer",
        "cashier-api",
    )
    assert list(
        DemandDetail.objects.filter(demand__consumer_code="PT-A").values_list("collection_amount", flat=True)
    ) == [D("0.00")]
    again = post(client, f"{PAYMENTS}{payment.pk}/cancel/", {"reason": "again"}, at=CANCEL_AT)
    assert again.status_code == 409
    assert again.json()["code"] == "PAYMENT_ALREADY_REVERSED"
    assert post(client, f"{PAYMENTS}{payment.pk}/cancel/", {}, at=CANCEL_AT).status_code == 400


def test_dishonour_only_instrument_payments(client, three):
    cash = post(client, f"{PAYMENTS}{three['PT-A'].pk}/dishonour/", {"reason": "bounced"}, at=CANCEL_AT)
    cheque = post(client, f"{PAYMENTS}{three['PT-B'].pk}/dishonour/", {"reason": "bounced"}, at=CANCEL_AT)

    assert cash.status_code == 400
    assert cash.json()["code"] == "PAYMENT_NOT_DISHONOURABLE"
    assert Payment.objects.get(pk=three["PT-A"].pk).status == PaymentStatus.NEW
    assert cheque.status_code == 200
    assert (cheque.json()["status"], cheque.json()["cancel_reason"]) == ("DISHONOURED", "bounced")


def test_anonymous_is_refused(anon_client, three):
    assert anon_client.get(PAYMENTS).status_code == 401
