"""Regression guard: the SQL statements of one counter payment (``docs/benchmarks.md``, counter payments).

A CASH payment of a two-period bill (5 demand lines) through ``payment_create``, the receipt sequence already
in use (its first draw creates the row: two more statements). The figure counts every statement the
connection runs, the transaction's own included (inside the test's transaction ``atomic(durable=True)`` is a
SAVEPOINT and its RELEASE; on a real connection BEGIN and COMMIT). Before the rework it was 33 (35 with the
sequence's first draw); a change that adds statements to the payment path must show up here.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_project.money import money_sum
from payments.models import PaymentApplication
from payments.services import PaymentDetailInput, PaymentInput, payment_create
from tests.payments.conftest import (
    CITY,
    PAY_AT,
    PTAN2018_FROM,
    PTAN2018_TO,
    line,
    make_bill,
    next_consumer,
    pay,
    pt_demand,
    wc_demand,
)

STATEMENTS = 26
# Statement by statement (the first word and the table), in order.
PLAN = [
    ("SELECT", "bills_bill"),  # validation: the bills with account, tenant, payer
    ("SELECT", "masters_businessservice"),  # the business services' rules
    ("SELECT", "masters_taxheadmaster"),  # their advance heads
    ("SAVEPOINT", ""),  # BEGIN
    ("SELECT", "demands_consumeraccount"),  # locks: account, demands, demand lines, bill (+ details, lines)
    ("SELECT", "demands_demand"),
    ("SELECT", "demands_demanddetail"),
    ("SELECT", "bills_bill"),
    ("SELECT", "bills_billdetail"),
    ("SELECT", "bills_billaccountdetail"),
    ("SELECT", "masters_idformat"),  # the receipt number: its format, one draw
    ("UPDATE", "masters_idsequence"),
    ("INSERT", "payments_payment"),  # the payment rows
    ("INSERT", "payments_paymentdetail"),
    ("INSERT", "payments_paymentaccountline"),
    ("UPDATE", "bills_billdetail"),  # the bill's paid amounts and status
    ("UPDATE", "bills_billaccountdetail"),
    ("UPDATE", "bills_bill"),
    ("UPDATE", "demands_demanddetail"),  # the write-back: lines, completion, revision, history, applications
    ("UPDATE", "demands_demand"),
    ("UPDATE", "demands_consumeraccount"),
    ("INSERT", "demands_demandhistory"),
    ("INSERT", "demands_demanddetailhistory"),
    ("INSERT", "payments_paymentapplication"),
    ("INSERT", "payments_paymentwriteback"),
    ("RELEASE", ""),  # COMMIT; the answer is built from the rows written (no read back)
]


def kind(sql: str) -> tuple[str, str]:
    verb = sql.split(None, 1)[0]
    table = re.search(r'\b(?:FROM|INTO|UPDATE) "(\w+)"', sql) if verb in ("SELECT", "INSERT", "UPDATE") else None
    return verb, table.group(1) if table else ""


def test_a_counter_payment_of_a_two_period_bill_stays_within_its_statements(
    employee, cashier, django_assert_max_num_queries
):
    warm = make_bill(employee, pt_demand(next_consumer(), details=(line("PT_TAX", "100"),)))
    pay(cashier, warm, "100")  # the receipt sequence row exists from here on
    code = next_consumer()
    bill = make_bill(
        employee,
        pt_demand(
            code, period=(PTAN2018_FROM, PTAN2018_TO), details=(line("PT_TAX", "500"), line("PT_FIRE_CESS", "20"))
        ),
        pt_demand(code, details=(line("PT_TAX", "600"), line("PT_FIRE_CESS", "30"), line("PT_TIME_REBATE", "-10"))),
    )
    assert bill.total_amount == Decimal("1140.00")

    with django_assert_max_num_queries(STATEMENTS), CaptureQueriesContext(connection) as queries:
        payment = pay(cashier, bill, "1140")

    assert [kind(query["sql"]) for query in queries.captured_queries] == PLAN
    assert PaymentApplication.objects.filter(payment_detail__payment=payment).count() == 5


def test_a_payment_of_two_bills_of_two_services_reads_the_masters_once(
    employee, cashier, wc_masters, django_assert_max_num_queries
):
    """Two bills (PT and WC, one consumer code): the business services and their advance heads are two queries
    for both services; each service draws its own receipt number; the answer is read back (three queries)."""
    for demand in (pt_demand(next_consumer(), details=(line("PT_TAX", "100"),)), wc_demand(next_consumer("WS"))):
        warm = make_bill(employee, demand)
        pay(cashier, warm, warm.total_amount)  # both receipt sequences exist from here on
    code = next_consumer()
    bills = [
        make_bill(employee, pt_demand(code, details=(line("PT_TAX", "300"),))),
        make_bill(employee, wc_demand(code)),
    ]
    payment = PaymentInput(
        tenant_code=CITY,
        payment_mode="CASH",
        total_due=money_sum(bill.total_amount for bill in bills),
        total_amount_paid=money_sum(bill.total_amount for bill in bills),
        paid_by="Owner",
        details=tuple(
            PaymentDetailInput(
                bill_id=bill.pk,
                business_service=bill.business_service,
                total_due=bill.total_amount,
                total_amount_paid=bill.total_amount,
            )
            for bill in bills
        ),
    )

    with django_assert_max_num_queries(31), CaptureQueriesContext(connection) as queries:
        payment_create(caller=cashier, payment=payment, at=PAY_AT)

    kinds = [kind(query["sql"]) for query in queries.captured_queries]
    assert kinds[:3] == [
        ("SELECT", "bills_bill"),
        ("SELECT", "masters_businessservice"),
        ("SELECT", "masters_taxheadmaster"),
    ]
    assert kinds.count(("SELECT", "masters_idformat")) == 2
    assert kinds.count(("UPDATE", "masters_idsequence")) == 2
