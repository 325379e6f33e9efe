"""What ``payment_create`` answers is exactly what ``payments_with_details`` reads after the commit.

A one-detail payment is answered from the rows it wrote (``payments.services.stored``), without reading them
back; these tests compare that answer with a fresh read field by field — values, their types and ``repr`` (two
decimal places, UTC times, JSON key order), the related rows loaded with it, the prefetched lists and their
querysets — and check that walking it runs no query. Payments it cannot build exactly (several bills, JSON the
column may store differently) are read back as before, with the same result.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from demands.services import PayerInput
from masters.models import Payer
from payments.models import Payment
from payments.selectors import payments_with_details
from payments.services import PaymentDetailInput, PaymentInput, payment_create
from tests.payments.conftest import (
    CITY,
    PAY_AT,
    PTAN2018_FROM,
    PTAN2018_TO,
    line,
    make_bill,
    next_consumer,
    pay_input,
    pt_demand,
    wc_demand,
)

D = Decimal
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def snapshot(instance: Model | None, parent: Model | None = None) -> Any:
    """Everything a reader of the object sees: column values (type and repr), related rows loaded with it, the
    prefetched lists (objects and the SQL of their querysets), its state."""
    if instance is None:
        return None
    values = tuple(
        (field.attname, type(value).__name__, repr(value))
        for field in type(instance)._meta.concrete_fields
        for value in [getattr(instance, field.attname)]
    )
    related = tuple(
        sorted(
            (name, ("the parent", obj is parent) if obj is not None and obj is parent else snapshot(obj, instance))
            for name, obj in instance._state.fields_cache.items()
        )
    )
    prefetched = tuple(
        sorted(
            (name, str(queryset.query), tuple(snapshot(obj, instance) for obj in queryset._result_cache))
            for name, queryset in getattr(instance, "_prefetched_objects_cache", {}).items()
        )
    )
    return (type(instance).__name__, values, related, prefetched, instance._state.adding, instance._state.db)


def walk(payment: Payment) -> list[Any]:
    """Read what a receipt shows (must not query)."""
    seen: list[Any] = [payment.tenant.code, payment.payer]
    for detail in payment.details.all():
        seen += [detail.bill.status, detail.payment.pk]
        seen += [
            (line.tax_head_code, line.adjusted_amount, line.payment_detail.pk) for line in detail.account_lines.all()
        ]
    return seen


def create(caller, payment: PaymentInput) -> tuple[Payment, bool]:
    """The answer of payment_create, and whether it was built without reading the payment back."""
    with CaptureQueriesContext(connection) as queries:
        answer = payment_create(caller=caller, payment=payment, at=PAY_AT)
    return answer, queries.captured_queries[-1]["sql"].startswith("RELEASE SAVEPOINT")


def assert_as_read(answer: Payment, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        walk(answer)
    assert snapshot(answer) == snapshot(payments_with_details().get(pk=answer.pk))


def test_a_full_payment_of_a_two_period_bill(employee, cashier, django_assert_num_queries):
    code = next_consumer()
    bill = make_bill(
        employee,
        pt_demand(
            code, period=(PTAN2018_FROM, PTAN2018_TO), details=(line("PT_TAX", "500"), line("PT_FIRE_CESS", "20"))
        ),
        pt_demand(code, details=(line("PT_TAX", "600"), line("PT_TIME_REBATE", "-10"))),
    )
    answer, from_memory = create(cashier, pay_input(bill, "1110"))
    assert from_memory
    assert_as_read(answer, django_assert_num_queries)
    assert [detail.bill.status for detail in answer.details.all()] == ["PAID"]
    assert answer.payer is None


def test_a_part_payment_by_cheque_with_times_in_another_zone_and_json_details(
    employee, cashier, django_assert_num_queries
):
    bill = make_bill(
        employee, pt_demand(next_consumer(), details=(line("PT_TAX", "1000"), line("PT_FIRE_CESS", "100")))
    )
    payment = pay_input(
        bill,
        "600",
        mode="CHEQUE",
        instrument_date=dt.datetime(2024, 4, 30, 9, 15, 30, 250000, tzinfo=IST),
        transaction_date=dt.datetime(2024, 5, 1, 16, 0, tzinfo=IST),
        additional_details={"a": 1, "ab": {"k": "v", "kk": [1, "x", True, None]}, "bb": []},
    )
    answer, from_memory = create(cashier, payment)
    assert from_memory
    assert_as_read(answer, django_assert_num_queries)
    assert answer.instrument_date == dt.datetime(2024, 4, 30, 3, 45, 30, 250000, tzinfo=dt.UTC)
    assert repr(answer.instrument_date.tzinfo) == "datetime.timezone.utc"
    assert payment.additional_details is not answer.additional_details  # a copy, as a read gives


def test_an_overpayment_kept_as_advance(employee, cashier, wc_masters, django_assert_num_queries):
    bill = make_bill(employee, wc_demand(next_consumer("WS")))
    answer, from_memory = create(cashier, pay_input(bill, "1200"))
    assert from_memory
    assert_as_read(answer, django_assert_num_queries)
    [detail] = answer.details.all()
    assert sorted((line.tax_head_code, line.advance_amount) for line in detail.account_lines.all()) == [
        ("WS_ADVANCE_CARRYFORWARD", D("200.00")),
        ("WS_CHARGE", D("0.00")),
    ]


def test_a_registered_payer_named_by_the_payment(employee, cashier, django_assert_num_queries):
    bill = make_bill(
        employee,
        pt_demand(
            next_consumer(), details=(line("PT_TAX", "300"),), payer=PayerInput(name="Asha", mobile_number="9876500001")
        ),
    )
    payer = Payer.objects.get(name="Asha")
    answer, from_memory = create(cashier, pay_input(bill, "300", payer_id=payer.pk))
    assert from_memory
    assert_as_read(answer, django_assert_num_queries)
    assert answer.payer == payer


@pytest.mark.parametrize(
    "details",
    [
        {"amount": 1.5},  # a float: the column may give it back as another number
        {"codes": ("A", "B")},  # a tuple comes back as a list
        {"bb": 1, "a": 2},  # keys out of jsonb order (PostgreSQL reorders them; SQLite keeps them)
    ],
)
def test_json_the_column_may_store_differently_is_read_back(employee, cashier, details, django_assert_num_queries):
    bill = make_bill(employee, pt_demand(next_consumer(), details=(line("PT_TAX", "300"),)))
    answer, from_memory = create(cashier, pay_input(bill, "300", additional_details=details))
    assert from_memory is (connection.vendor == "sqlite" and details == {"bb": 1, "a": 2})
    assert_as_read(answer, django_assert_num_queries)


def test_a_payment_of_two_bills_is_read_back(employee, cashier, wc_masters, django_assert_num_queries):
    code = next_consumer()
    pt_bill = make_bill(employee, pt_demand(code, details=(line("PT_TAX", "300"),)))
    wc_bill = make_bill(employee, wc_demand(code))
    payment = PaymentInput(
        tenant_code=CITY,
        payment_mode="CASH",
        total_due=pt_bill.total_amount + wc_bill.total_amount,
        total_amount_paid=pt_bill.total_amount + wc_bill.total_amount,
        paid_by="Owner",
        details=tuple(
            PaymentDetailInput(
                bill_id=bill.pk,
                business_service=bill.business_service,
                total_due=bill.total_amount,
                total_amount_paid=bill.total_amount,
            )
            for bill in (wc_bill, pt_bill)
        ),
    )
    answer, from_memory = create(cashier, payment)
    assert not from_memory
    assert_as_read(answer, django_assert_num_queries)
    assert [detail.business_service for detail in answer.details.all()] == ["PT", "WC"]
