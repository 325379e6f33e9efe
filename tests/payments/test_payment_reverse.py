"""payment_cancel / payment_dishonour: the write-back undone exactly, once (reference §7.8.1 step 4, §7.9)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing_project.errors import DomainError
from bills.models import Bill, BillStatus
from demands.models import ConsumerAccount, DemandDetailHistory, DemandHistory
from demands.services import demand_create
from masters.access import caller_for
from masters.models import BusinessService, Role
from payments.models import InstrumentStatus, PaymentStatus, PaymentWriteBack, WriteBackDirection
from payments.services import payment_cancel, payment_dishonour, payment_writeback_apply
from tests.payments.conftest import (
    CANCEL_AT,
    CITY,
    PAY_AT,
    PTAN2018_FROM,
    PTAN2018_TO,
    WCAN2020_FROM,
    WCAN2020_TO,
    demand_flags,
    detail_snapshot,
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


def fourteen_two(employee):
    return make_bill(
        employee,
        pt_demand(period=(PTAN2018_FROM, PTAN2018_TO), details=(line("PT_TAX", "500"),)),
        pt_demand(
            details=(
                line("PT_TAX", "1000"),
                line("PT_FIRE_CESS", "100"),
                line("PT_TIME_INTEREST", "50"),
                line("PT_TIME_REBATE", "-100"),
            )
        ),
    )


def test_cancel_restores_the_exact_previous_demand_details(employee, cashier, interest_head):
    bill = fourteen_two(employee)
    details_before, flags_before = detail_snapshot(), demand_flags()
    payment = pay(cashier, bill, "1100")
    assert detail_snapshot() != details_before
    revision = ConsumerAccount.objects.get().revision

    cancelled = payment_cancel(caller=cashier, payment_id=payment.pk, reason="Entered twice", at=CANCEL_AT)

    assert detail_snapshot() == details_before
    assert demand_flags() == flags_before
    assert (cancelled.status, cancelled.instrument_status) == (PaymentStatus.CANCELLED, InstrumentStatus.CANCELLED)
    assert (cancelled.cancel_reason, cancelled.cancelled_by, cancelled.cancelled_at) == (
        "Entered twice",
        "cashier-asr",
        CANCEL_AT,
    )
    assert list(PaymentWriteBack.objects.order_by("at").values_list("direction", "at")) == [
        (WriteBackDirection.APPLY, PAY_AT),
        (WriteBackDirection.REVERSE, CANCEL_AT),
    ]
    assert ConsumerAccount.objects.get().revision == revision + 1
    assert DemandHistory.objects.filter(action="PAYMENT_REVERSAL", revision=revision + 1).count() == 2
    assert DemandDetailHistory.objects.filter(action="PAYMENT_REVERSAL").count() == 5
    # The paid bill is CANCELLED with its paid amounts cleared; the payment keeps what it had apportioned.
    bill = Bill.objects.get(pk=bill.pk)
    assert bill.status == BillStatus.CANCELLED
    assert [d.amount_paid for d in bill.details.all()] == [None, None]
    assert {a.adjusted_amount for d in bill.details.all() for a in d.account_details.all()} == {D("0.00")}
    assert cancelled.details.get().total_amount_paid == D("1100.00")
    assert sum(line.adjusted_amount for line in cancelled.details.get().account_lines.all()) == D("1100.00")

    # The next fetch builds a bill for the restored dues.
    again = fetch_bill(cashier, "PT-107-001", at=CANCEL_AT)
    assert again.total_amount == D("1550.00")
    assert [d.amount for d in again.details.all()] == [D("500.00"), D("1050.00")]


def test_cancel_of_an_advance_payment_leaves_the_created_line_at_zero(employee, cashier, wc_masters):
    bill = make_bill(employee, wc_demand())
    before = detail_snapshot()
    payment = pay(cashier, bill, "1200")
    created = lines_of("WS-107-001", "WC")[-1]
    assert created == ("WS_ADVANCE_CARRYFORWARD", D("-200.00"), D("0.00"))

    payment_cancel(caller=cashier, payment_id=payment.pk, reason="Bounced", at=CANCEL_AT)

    after = detail_snapshot()
    assert [row for row in after if row[0] in {b[0] for b in before}] == before
    assert lines_of("WS-107-001", "WC") == [
        ("WS_CHARGE", D("1000.00"), D("0.00")),
        ("WS_ADVANCE_CARRYFORWARD", D("0.00"), D("0.00")),
    ]
    # The created line keeps its history: written by the payment, zeroed by the reversal.
    assert list(
        DemandDetailHistory.objects.filter(tax_head_code="WS_ADVANCE_CARRYFORWARD")
        .order_by("pk")
        .values_list("action", "tax_amount", "collection_amount")
    ) == [("PAYMENT", D("-200.00"), D("0.00")), ("PAYMENT_REVERSAL", D("0.00"), D("0.00"))]
    assert fetch_bill(cashier, "WS-107-001", "WC", at=CANCEL_AT).total_amount == D("1000.00")


def test_a_reversal_after_the_advance_was_used_is_refused_and_writes_nothing(employee, cashier, wc_masters):
    payment = pay(cashier, make_bill(employee, wc_demand()), "1200")
    demand_create(
        caller=employee,
        demands=[wc_demand(period=(WCAN2020_FROM, WCAN2020_TO), details=(line("WS_CHARGE", "150"),))],
        at=PAY_AT,
    )
    assert lines_of("WS-107-001", "WC")[1] == ("WS_ADVANCE_CARRYFORWARD", D("-200.00"), D("-150.00"))
    before = state()

    with pytest.raises(DomainError) as error:
        payment_cancel(caller=cashier, payment_id=payment.pk, reason="Entered twice", at=CANCEL_AT)

    assert (error.value.code, error.value.http_status) == ("PAYMENT_REVERSAL_CONFLICT", 409)
    assert state() == before


def test_cancelling_twice_is_a_clear_error_and_changes_nothing(employee, cashier, interest_head):
    payment = pay(cashier, fourteen_two(employee), "600")
    payment_cancel(caller=cashier, payment_id=payment.pk, reason="Entered twice", at=CANCEL_AT)
    before = state()

    for reverse in (payment_cancel, payment_dishonour):
        with pytest.raises(DomainError) as error:
            reverse(caller=cashier, payment_id=payment.pk, reason="again", at=CANCEL_AT)
        assert (error.value.code, error.value.http_status) == ("PAYMENT_ALREADY_REVERSED", 409)
    # A replayed apply after the reversal does nothing either.
    assert payment_writeback_apply(payment_id=payment.pk, at=CANCEL_AT) is False
    assert state() == before


def test_dishonour_of_a_cheque(employee, cashier):
    bill = make_bill(employee, pt_demand(details=(line("PT_TAX", "800"),)))
    before = detail_snapshot()
    payment = pay(cashier, bill, "800", mode="CHEQUE")
    dishonoured = payment_dishonour(caller=cashier, payment_id=payment.pk, reason="Insufficient funds", at=CANCEL_AT)
    assert (dishonoured.status, dishonoured.instrument_status) == (
        PaymentStatus.DISHONOURED,
        InstrumentStatus.DISHONOURED,
    )
    assert detail_snapshot() == before
    assert fetch_bill(cashier, "PT-107-001", at=CANCEL_AT).total_amount == D("800.00")


@pytest.mark.parametrize("mode", ["CASH", "CARD", "ONLINE"])
def test_only_instruments_can_be_dishonoured(employee, cashier, mode):
    payment = pay(cashier, make_bill(employee, pt_demand()), "500", mode=mode, transaction_number=f"T-{mode}")
    before = state()
    with pytest.raises(DomainError) as error:
        payment_dishonour(caller=cashier, payment_id=payment.pk, reason="Bounced", at=CANCEL_AT)
    assert error.value.code == "PAYMENT_NOT_DISHONOURABLE"
    assert state() == before


def test_cancel_needs_a_reason_a_role_and_a_known_payment(employee, cashier, user_factory):
    payment = pay(cashier, make_bill(employee, pt_demand()), "500")
    before = state()
    with pytest.raises(DomainError) as error:
        payment_cancel(caller=cashier, payment_id=payment.pk, reason="  ", at=CANCEL_AT)
    assert error.value.code == "PAYMENT_REASON_REQUIRED"
    citizen = caller_for(user_factory("citizen", {CITY: [Role.CITIZEN]}))
    with pytest.raises(DomainError) as error:
        payment_cancel(caller=citizen, payment_id=payment.pk, reason="mine", at=CANCEL_AT)
    assert error.value.code == "PERMISSION_DENIED"
    for unknown in ("00000000-0000-0000-0000-000000000009", "nope"):
        with pytest.raises(DomainError) as error:
            payment_cancel(caller=cashier, payment_id=unknown, reason="x", at=CANCEL_AT)
        assert (error.value.code, error.value.http_status) == ("PAYMENT_NOT_FOUND", 404)
    assert state() == before


def test_cancelling_an_earlier_part_payment_keeps_the_later_one(employee, cashier, interest_head):
    first_bill = make_bill(
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
    first = pay(cashier, first_bill, "600")
    pay(cashier, fetch_bill(cashier, "PT-107-001", at=PAY_AT), "450")
    payment_cancel(caller=cashier, payment_id=first.pk, reason="Entered twice", at=CANCEL_AT)
    assert lines_of("PT-107-001") == [
        ("PT_FIRE_CESS", D("100.00"), D("0.00")),
        ("PT_TAX", D("1000.00"), D("450.00")),
        ("PT_TIME_INTEREST", D("50.00"), D("0.00")),
        ("PT_TIME_REBATE", D("-100.00"), D("0.00")),
    ]
    assert fetch_bill(cashier, "PT-107-001", at=CANCEL_AT).total_amount == D("600.00")


def test_cancel_of_a_zero_payment_reopens_the_zero_bill(employee, cashier):
    BusinessService.objects.filter(code="PT").update(part_payment_allowed=True)
    bill = make_bill(employee, pt_demand(details=(line("PT_TAX", "100"), line("PT_OWNER_EXEMPTION", "-100"))))
    payment = pay(cashier, bill, "0")
    assert fetch_bill(cashier, "PT-107-001", at=PAY_AT) is None
    payment_cancel(caller=cashier, payment_id=payment.pk, reason="Test entry", at=CANCEL_AT)
    assert lines_of("PT-107-001") == [
        ("PT_OWNER_EXEMPTION", D("-100.00"), D("0.00")),
        ("PT_TAX", D("100.00"), D("0.00")),
    ]
    assert fetch_bill(cashier, "PT-107-001", at=CANCEL_AT).total_amount == D("0.00")
