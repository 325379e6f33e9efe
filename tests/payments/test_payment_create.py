"""payment_create end to end: demand_create → bill_fetch → payment_create (reference §7.8, §7.9, §14.2–14.5)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from bills.models import Bill, BillStatus
from demands.models import ConsumerAccount, Demand, DemandDetailHistory, DemandHistory
from demands.services import PayerInput, demand_create
from masters.models import IdFormat, Tenant
from payments.models import (
    InstrumentStatus,
    PaymentAccountLine,
    PaymentApplication,
    PaymentStatus,
    PaymentWriteBack,
    WriteBackDirection,
)
from payments.services import PaymentDetailInput, PaymentInput, payment_create, payment_writeback_apply
from tests.payments.conftest import (
    AT,
    CITY,
    PAY_AT,
    PTAN2018_FROM,
    PTAN2018_TO,
    WCAN2020_FROM,
    WCAN2020_TO,
    fetch_bill,
    line,
    lines_of,
    make_bill,
    pay,
    pt_demand,
    state,
    wc_demand,
)

D = Decimal


def reference_14_2_bill(employee):
    return make_bill(
        employee,
        pt_demand(
            details=(
                line("PT_TAX", "1000"),
                line("PT_FIRE_CESS", "100"),
                line("PT_TIME_INTEREST", "50"),
                line("PT_TIME_REBATE", "-100"),
            )
        ),
    )


def test_reference_14_2_partial_payment_of_600(employee, cashier, interest_head):
    bill = reference_14_2_bill(employee)
    assert bill.total_amount == D("1050.00")
    revision = ConsumerAccount.objects.get(consumer_code="PT-107-001").revision

    payment = pay(cashier, bill, "600")

    assert lines_of("PT-107-001") == [
        ("PT_FIRE_CESS", D("100.00"), D("100.00")),
        ("PT_TAX", D("1000.00"), D("550.00")),
        ("PT_TIME_INTEREST", D("50.00"), D("50.00")),
        ("PT_TIME_REBATE", D("-100.00"), D("-100.00")),
    ]
    assert Demand.objects.get().is_payment_completed is False
    bill.refresh_from_db()
    assert bill.status == BillStatus.PARTIALLY_PAID
    [bill_detail] = bill.details.all()
    assert bill_detail.amount_paid == D("600.00")
    assert sorted(bill_detail.account_details.values_list("tax_head_code", "adjusted_amount")) == [
        ("PT_FIRE_CESS", D("100.00")),
        ("PT_TAX", D("550.00")),
        ("PT_TIME_INTEREST", D("50.00")),
        ("PT_TIME_REBATE", D("-100.00")),
    ]
    # The payment: totals, status, receipt, apportioned lines, what was applied, the write-back marker.
    assert (payment.total_due, payment.total_amount_paid) == (D("1050.00"), D("600.00"))
    assert (payment.status, payment.instrument_status) == (PaymentStatus.NEW, InstrumentStatus.APPROVED)
    assert payment.transaction_date == PAY_AT
    assert payment.instrument_date == PAY_AT
    [detail] = payment.details.all()
    assert (detail.receipt_number, detail.receipt_date, detail.receipt_type) == (
        "PT/AMRITSAR/2024-25/000001",
        PAY_AT,
        "BILLBASED",
    )
    assert (detail.total_due, detail.total_amount_paid, detail.bill_id) == (D("1050.00"), D("600.00"), bill.pk)
    assert sorted(
        PaymentAccountLine.objects.values_list("tax_head_code", "amount", "adjusted_amount", "advance_amount")
    ) == [
        ("PT_FIRE_CESS", D("100.00"), D("100.00"), D("0.00")),
        ("PT_TAX", D("1000.00"), D("550.00"), D("0.00")),
        ("PT_TIME_INTEREST", D("50.00"), D("50.00"), D("0.00")),
        ("PT_TIME_REBATE", D("-100.00"), D("-100.00"), D("0.00")),
    ]
    assert sorted(
        PaymentApplication.objects.values_list(
            "demand_detail__tax_head_code", "collection_delta", "tax_delta", "created_line"
        )
    ) == [
        ("PT_FIRE_CESS", D("100.00"), D("0.00"), False),
        ("PT_TAX", D("550.00"), D("0.00"), False),
        ("PT_TIME_INTEREST", D("50.00"), D("0.00"), False),
        ("PT_TIME_REBATE", D("-100.00"), D("0.00"), False),
    ]
    assert list(PaymentWriteBack.objects.values_list("direction", "at", "by")) == [
        (WriteBackDirection.APPLY, PAY_AT, "cashier-asr")
    ]
    # One revision bump, one history row per demand and per written line.
    assert ConsumerAccount.objects.get(consumer_code="PT-107-001").revision == revision + 1
    assert list(DemandHistory.objects.filter(action="PAYMENT").values_list("revision", "is_payment_completed")) == [
        (revision + 1, False)
    ]
    assert DemandDetailHistory.objects.filter(action="PAYMENT", revision=revision + 1).count() == 4

    # The next fetch builds a bill for the remaining 450.
    next_bill = fetch_bill(cashier, "PT-107-001", at=PAY_AT)
    assert next_bill is not None
    assert next_bill.pk != bill.pk
    assert next_bill.total_amount == D("450.00")
    [next_detail] = next_bill.details.all()
    assert sorted(next_detail.account_details.values_list("tax_head_code", "amount")) == [
        ("PT_FIRE_CESS", D("0.00")),
        ("PT_TAX", D("450.00")),
        ("PT_TIME_INTEREST", D("0.00")),
        ("PT_TIME_REBATE", D("0.00")),
    ]


def test_paying_the_rest_completes_the_demand_and_no_bill_is_built_after(employee, cashier, interest_head):
    bill = reference_14_2_bill(employee)
    pay(cashier, bill, "600")
    second = fetch_bill(cashier, "PT-107-001", at=PAY_AT)
    payment = pay(cashier, second, "450")
    assert lines_of("PT-107-001") == [
        ("PT_FIRE_CESS", D("100.00"), D("100.00")),
        ("PT_TAX", D("1000.00"), D("1000.00")),
        ("PT_TIME_INTEREST", D("50.00"), D("50.00")),
        ("PT_TIME_REBATE", D("-100.00"), D("-100.00")),
    ]
    assert Demand.objects.get().is_payment_completed is True
    assert Bill.objects.get(pk=second.pk).status == BillStatus.PAID
    assert payment.details.get().receipt_number == "PT/AMRITSAR/2024-25/000002"
    assert fetch_bill(cashier, "PT-107-001", at=PAY_AT) is None


def test_reference_14_3_arrears_are_paid_first(employee, cashier):
    bill = make_bill(
        employee,
        pt_demand(period=(PTAN2018_FROM, PTAN2018_TO), details=(line("PT_TAX", "500"),)),
        pt_demand(details=(line("PT_TAX", "1000"), line("PT_TIME_REBATE", "-50"))),
    )
    assert bill.total_amount == D("1450.00")
    pay(cashier, bill, "700")
    assert lines_of("PT-107-001") == [
        ("PT_TAX", D("500.00"), D("500.00")),
        ("PT_TAX", D("1000.00"), D("250.00")),
        ("PT_TIME_REBATE", D("-50.00"), D("-50.00")),
    ]
    assert [d.amount_paid for d in Bill.objects.get(pk=bill.pk).details.order_by("from_period")] == [
        D("500.00"),
        D("200.00"),
    ]
    assert list(Demand.objects.order_by("tax_period_from").values_list("is_payment_completed", flat=True)) == [
        True,
        False,
    ]
    assert fetch_bill(cashier, "PT-107-001", at=PAY_AT).total_amount == D("750.00")


def test_reference_14_4_overpayment_becomes_advance_and_the_next_demand_absorbs_it(employee, cashier, wc_masters):
    bill = make_bill(employee, wc_demand())
    assert bill.total_amount == D("1000.00")

    payment = pay(cashier, bill, "1200")

    assert lines_of("WS-107-001", "WC") == [
        ("WS_CHARGE", D("1000.00"), D("1000.00")),
        ("WS_ADVANCE_CARRYFORWARD", D("-200.00"), D("0.00")),
    ]
    assert Demand.objects.get().is_payment_completed is False  # Σtax 800 ≠ Σcollection 1000
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.PAID
    assert sorted(
        (head, bad is None, amount, adjusted, kept)
        for head, bad, amount, adjusted, kept in PaymentAccountLine.objects.values_list(
            "tax_head_code", "bill_account_detail_id", "amount", "adjusted_amount", "advance_amount"
        )
    ) == [
        ("WS_ADVANCE_CARRYFORWARD", True, D("0.00"), D("0.00"), D("200.00")),
        ("WS_CHARGE", False, D("1000.00"), D("1000.00"), D("0.00")),
    ]
    assert sorted(
        PaymentApplication.objects.values_list(
            "demand_detail__tax_head_code", "collection_delta", "tax_delta", "created_line"
        )
    ) == [
        ("WS_ADVANCE_CARRYFORWARD", D("0.00"), D("-200.00"), True),
        ("WS_CHARGE", D("1000.00"), D("0.00"), False),
    ]
    assert payment.details.get().receipt_number == "WC/AMRITSAR/2024-25/000001"
    # A credit balance of -200: no bill.
    assert fetch_bill(cashier, "WS-107-001", "WC", at=PAY_AT) is None

    # The next demand takes the advance over (reference §7.8.3): the next bill is 1300.
    demand_create(
        caller=employee,
        demands=[wc_demand(period=(WCAN2020_FROM, WCAN2020_TO), details=(line("WS_CHARGE", "1500"),))],
        at=PAY_AT,
    )
    assert lines_of("WS-107-001", "WC") == [
        ("WS_CHARGE", D("1000.00"), D("1000.00")),
        ("WS_ADVANCE_CARRYFORWARD", D("-200.00"), D("-200.00")),
        ("WS_CHARGE", D("1500.00"), D("200.00")),
    ]
    next_bill = fetch_bill(cashier, "WS-107-001", "WC", at=PAY_AT)
    assert next_bill.total_amount == D("1300.00")
    assert [d.amount for d in next_bill.details.all()] == [D("1300.00")]


def test_overpayment_onto_an_existing_advance_line(employee, cashier, wc_masters):
    """A demand that carries a used-up advance line (tax -200, collection -200) takes new advance on it."""
    bill = make_bill(
        employee,
        wc_demand(details=(line("WS_CHARGE", "500"), line("WS_ADVANCE_CARRYFORWARD", "-200", "-200"))),
    )
    assert bill.total_amount == D("500.00")
    pay(cashier, bill, "650")
    assert lines_of("WS-107-001", "WC") == [
        ("WS_ADVANCE_CARRYFORWARD", D("-350.00"), D("-200.00")),
        ("WS_CHARGE", D("500.00"), D("500.00")),
    ]
    assert PaymentApplication.objects.filter(created_line=True).count() == 0
    assert [
        (head, bad is None, amount, adjusted, kept)
        for head, bad, amount, adjusted, kept in PaymentAccountLine.objects.filter(advance_amount__gt=0).values_list(
            "tax_head_code", "bill_account_detail_id", "amount", "adjusted_amount", "advance_amount"
        )
    ] == [("WS_ADVANCE_CARRYFORWARD", False, D("0.00"), D("0.00"), D("150.00"))]


def test_reference_14_5_zero_bill_and_zero_payment_complete_the_demand(employee, cashier):
    bill = make_bill(employee, pt_demand(details=(line("PT_TAX", "100"), line("PT_OWNER_EXEMPTION", "-100"))))
    assert bill.total_amount == D("0.00")
    payment = pay(cashier, bill, "0")
    assert lines_of("PT-107-001") == [
        ("PT_OWNER_EXEMPTION", D("-100.00"), D("-100.00")),
        ("PT_TAX", D("100.00"), D("100.00")),
    ]
    assert Demand.objects.get().is_payment_completed is True
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.PAID
    assert payment.total_amount_paid == D("0.00")
    assert fetch_bill(cashier, "PT-107-001", at=PAY_AT) is None  # never billed again


def detail_input(bill: Bill, due: str, paid: str) -> PaymentDetailInput:
    return PaymentDetailInput(
        bill_id=bill.pk, business_service=bill.business_service, total_due=D(due), total_amount_paid=D(paid)
    )


def test_one_payment_settles_several_bills_with_one_receipt_each(employee, cashier, wc_masters):
    pt_bill = make_bill(employee, pt_demand(details=(line("PT_TAX", "300"),)))
    other = make_bill(employee, pt_demand("PT-107-002", details=(line("PT_TAX", "200"),)))
    wc_bill = make_bill(employee, wc_demand(details=(line("WS_CHARGE", "100"),)))
    revisions = dict(ConsumerAccount.objects.values_list("consumer_code", "revision"))

    payment = payment_create(
        caller=cashier,
        payment=PaymentInput(
            tenant_code=CITY,
            payment_mode="CASH",
            total_due=D("600"),
            total_amount_paid=D("550"),
            paid_by="Owner",
            details=(
                detail_input(wc_bill, "100", "100"),
                detail_input(pt_bill, "300", "250"),
                detail_input(other, "200", "200"),
            ),
        ),
        at=PAY_AT,
    )

    assert sorted(payment.details.values_list("bill__consumer_code", "receipt_number", "total_amount_paid")) == [
        ("PT-107-001", "PT/AMRITSAR/2024-25/000001", D("250.00")),
        ("PT-107-002", "PT/AMRITSAR/2024-25/000002", D("200.00")),
        ("WS-107-001", "WC/AMRITSAR/2024-25/000001", D("100.00")),
    ]
    assert dict(Bill.objects.values_list("consumer_code", "status")) == {
        "PT-107-001": BillStatus.PARTIALLY_PAID,
        "PT-107-002": BillStatus.PAID,
        "WS-107-001": BillStatus.PAID,
    }
    assert lines_of("PT-107-001") == [("PT_TAX", D("300.00"), D("250.00"))]
    assert lines_of("PT-107-002") == [("PT_TAX", D("200.00"), D("200.00"))]
    assert lines_of("WS-107-001", "WC") == [("WS_CHARGE", D("100.00"), D("100.00"))]
    # Each account bumped exactly once.
    assert dict(ConsumerAccount.objects.values_list("consumer_code", "revision")) == {
        code: revision + 1 for code, revision in revisions.items()
    }
    assert PaymentWriteBack.objects.count() == 1


def test_instrument_and_settled_modes(employee, cashier):
    cheque_bill = make_bill(employee, pt_demand(details=(line("PT_TAX", "300"),)))
    cheque = pay(cashier, cheque_bill, "300", mode="CHEQUE", instrument_number="654321", ifsc_code="SBIN0001")
    assert (cheque.status, cheque.instrument_status) == (PaymentStatus.NEW, InstrumentStatus.APPROVED)
    assert (cheque.instrument_number, cheque.instrument_date, cheque.ifsc_code) == ("654321", AT, "SBIN0001")

    card_bill = make_bill(employee, pt_demand("PT-107-002", details=(line("PT_TAX", "300"),)))
    card = pay(cashier, card_bill, "300", mode="CARD", transaction_number="TXN-1")
    assert (card.status, card.instrument_status, card.transaction_number) == (
        PaymentStatus.DEPOSITED,
        InstrumentStatus.REMITTED,
        "TXN-1",
    )


def test_payer_fields_default_to_the_bill(employee, cashier):
    asha = PayerInput(name="Asha Verma", mobile_number="9876500001")
    bill = make_bill(employee, pt_demand(details=(line("PT_TAX", "300"),), payer=asha))
    payment = pay(cashier, bill, "300")
    assert (payment.payer_name, payment.mobile_number, payment.payer.name) == ("Asha Verma", "9876500001", "Asha Verma")
    named = make_bill(employee, pt_demand("PT-107-002", details=(line("PT_TAX", "300"),)))
    other = pay(cashier, named, "300", payer_name="Ravi Singh", mobile_number="9876500002")
    assert (other.payer_name, other.mobile_number, other.payer) == ("Ravi Singh", "9876500002", None)


def test_receipt_number_format_is_configurable_per_tenant(employee, cashier):
    IdFormat.objects.create(
        tenant=Tenant.objects.get(code=CITY), id_name="receipt.number", format="RCPT-[cy:yyyy]-[SEQ_rcpt_[city]]"
    )
    bill = make_bill(employee, pt_demand(details=(line("PT_TAX", "300"),)))
    assert pay(cashier, bill, "300").details.get().receipt_number == "RCPT-2024-000001"


def test_replaying_the_write_back_changes_nothing(employee, cashier, interest_head):
    bill = reference_14_2_bill(employee)
    payment = pay(cashier, bill, "600")
    before = state()

    assert payment_writeback_apply(payment_id=payment.pk, at=PAY_AT) is False

    assert state() == before


def test_the_database_refuses_a_second_write_back_of_one_direction(employee, cashier, interest_head):
    payment = pay(cashier, reference_14_2_bill(employee), "600")
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentWriteBack.objects.create(payment=payment, direction=WriteBackDirection.APPLY, at=PAY_AT, by="x")
    assert PaymentWriteBack.objects.count() == 1
