"""Concurrent payments on PostgreSQL: one bill is paid once (DESIGN §3 rules 6 and 7)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import OperationalError

from bills.models import Bill, BillStatus
from demands.models import ConsumerAccount, Demand, DemandHistory
from payments.models import Payment, PaymentApplication, PaymentDetail, PaymentWriteBack
from payments.services import payment_cancel, payment_create
from tests.concurrency import rows_locked_elsewhere
from tests.concurrency import run_together as shared_run_together
from tests.payments.conftest import CANCEL_AT, PAY_AT, line, lines_of, make_bill, pay_input, pt_demand

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = Decimal


def run_together(work: list[Callable[[], Any]]) -> list[str]:
    """Each outcome: "ok", a DomainError code or a repr."""
    return shared_run_together(work, success="ok")


def test_twenty_concurrent_full_payments_of_one_bill_apply_once(employee, cashier):
    bill = make_bill(employee, pt_demand(details=(line("PT_TAX", "1000"), line("PT_FIRE_CESS", "100"))))
    revision = ConsumerAccount.objects.get().revision
    payment = pay_input(bill, "1100")

    outcomes = run_together([lambda: payment_create(caller=cashier, payment=payment, at=PAY_AT)] * 20)

    assert outcomes.count("ok") == 1
    assert all(outcome in ("BILL_ALREADY_PAID", "BILL_EXPIRED") for outcome in outcomes if outcome != "ok"), outcomes
    assert lines_of("PT-107-001") == [
        ("PT_FIRE_CESS", D("100.00"), D("100.00")),
        ("PT_TAX", D("1000.00"), D("1000.00")),
    ]
    assert Payment.objects.count() == 1
    assert PaymentDetail.objects.get().receipt_number == "PT/AMRITSAR/2024-25/000001"
    assert PaymentApplication.objects.count() == 2
    assert PaymentWriteBack.objects.count() == 1
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.PAID
    assert ConsumerAccount.objects.get().revision == revision + 1
    assert DemandHistory.objects.filter(action="PAYMENT").count() == 1


def test_concurrent_cancels_of_one_payment_reverse_once(employee, cashier):
    bill = make_bill(employee, pt_demand(details=(line("PT_TAX", "800"),)))
    created = payment_create(caller=cashier, payment=pay_input(bill, "800"), at=PAY_AT)

    outcomes = run_together(
        [lambda: payment_cancel(caller=cashier, payment_id=created.pk, reason="twice", at=CANCEL_AT)] * 8
    )

    assert sorted(outcomes) == ["PAYMENT_ALREADY_REVERSED"] * 7 + ["ok"]
    assert lines_of("PT-107-001") == [("PT_TAX", D("800.00"), D("0.00"))]
    assert PaymentWriteBack.objects.count() == 2
    assert DemandHistory.objects.filter(action="PAYMENT_REVERSAL").count() == 1


def test_payments_of_different_consumers_run_side_by_side(employee, cashier):
    bills = [make_bill(employee, pt_demand(f"PT-200-{i:03d}", details=(line("PT_TAX", "300"),))) for i in range(10)]
    outcomes = run_together(
        [lambda bill=bill: payment_create(caller=cashier, payment=pay_input(bill, "300"), at=PAY_AT) for bill in bills]
    )
    assert outcomes == ["ok"] * 10
    assert sorted(PaymentDetail.objects.values_list("receipt_number", flat=True)) == [
        f"PT/AMRITSAR/2024-25/{n:06d}" for n in range(1, 11)
    ]


@pytest.mark.parametrize("held", ["account", "demand", "bill"])
def test_a_payment_takes_each_lock_before_it_writes(employee, cashier, held):
    """While another transaction holds the consumer account, a demand or the bill, payment_create waits on that
    lock and, with a lock timeout, fails without having written anything."""
    bill = make_bill(employee, pt_demand(details=(line("PT_TAX", "500"),)))
    rows = {
        "account": ConsumerAccount.objects.filter(pk=bill.account_id),
        "demand": Demand.objects.filter(account_id=bill.account_id),
        "bill": Bill.objects.filter(pk=bill.pk),
    }[held]
    with rows_locked_elsewhere(rows):
        with pytest.raises(OperationalError, match="lock timeout"):
            payment_create(caller=cashier, payment=pay_input(bill, "500"), at=PAY_AT)
        assert Payment.objects.count() == 0
        assert lines_of("PT-107-001") == [("PT_TAX", D("500.00"), D("0.00"))]
        assert Bill.objects.get(pk=bill.pk).status == BillStatus.ACTIVE
    assert payment_create(caller=cashier, payment=pay_input(bill, "500"), at=PAY_AT).total_amount_paid == D("500.00")
