"""Settlement imports: each line goes through the gateway's one verdict path (source SETTLEMENT)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from bills.models import Bill, BillStatus
from payments.gateway.models import AttentionReason, GatewayTransaction, TransactionStatus
from payments.gateway.services import SOURCE_CALLBACK, GatewayVerdict, gateway_verdict_apply
from payments.imports.models import ImportKind, ImportRow, ImportStatus
from payments.models import Payment, PaymentMode
from tests.payments.conftest import AT, PAY_AT, line, lines_of, make_bill, pt_demand, state
from tests.payments.imports.conftest import SETTLEMENT_HEADER, counts, csv_bytes, outcomes, run_file

pytestmark = pytest.mark.django_db
D = Decimal
SETTLEMENT = ImportKind.SETTLEMENT


def settlement_csv(*lines: str) -> bytes:
    return csv_bytes(SETTLEMENT_HEADER, *lines)


def make_txn(bill: Bill, number: int, amount: str, *, status: str = TransactionStatus.PENDING, **kwargs: Any):
    """A gateway transaction row as initiated at ``AT`` (test data written directly: no gateway is called)."""
    txn_id = uuid.UUID(int=number)
    fields: dict[str, Any] = {
        "id": txn_id,
        "merchant_reference": f"GTX-{number:04d}",
        "idempotency_key": f"GTX-{number:04d}:initiate",
        "gateway": "sandbox",
        "gateway_transaction_id": f"txn_{number:04d}",
        "tenant": bill.tenant,
        "bill": bill,
        "consumer_code": bill.consumer_code,
        "business_service": bill.business_service,
        "amount": D(amount),
        "status": status,
        "created_by": "test",
        "created_at": AT,
        "updated_at": AT,
    }
    fields.update(kwargs)
    return GatewayTransaction.objects.create(**fields)


@pytest.fixture
def txns(employee):
    """1: PENDING 1100 (PT-1); 2: SUCCESS 500 with its payment (PT-2, settled by a callback); 3: PENDING 800
    (PT-3); 4: SUCCESS 300 paid by callback (PT-4)."""
    bills = [
        make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"), line("PT_FIRE_CESS", "100")))),
        make_bill(employee, pt_demand("PT-2", details=(line("PT_TAX", "500"),))),
        make_bill(employee, pt_demand("PT-3", details=(line("PT_TAX", "800"),))),
        make_bill(employee, pt_demand("PT-4", details=(line("PT_TAX", "300"),))),
    ]
    made = [
        make_txn(bills[0], 1, "1100"),
        make_txn(bills[1], 2, "500"),
        make_txn(bills[2], 3, "800"),
        make_txn(bills[3], 4, "300"),
    ]
    for txn in (made[1], made[3]):
        outcome = gateway_verdict_apply(
            transaction_id=txn.pk,
            verdict=GatewayVerdict(
                status="SUCCESS", amount=txn.amount, gateway_transaction_id=txn.gateway_transaction_id
            ),
            source=SOURCE_CALLBACK,
            at=AT + dt.timedelta(minutes=10),
        )
        assert outcome.result == "applied"
    return made


def txn_state(number: int) -> tuple[Any, ...]:
    txn = GatewayTransaction.objects.get(pk=uuid.UUID(int=number))
    return (txn.status, txn.verdict_source, txn.payment_id is not None, txn.needs_attention, txn.attention_reason)


def test_a_pending_transaction_is_settled_with_exactly_one_payment(txns, importer):
    run = run_file(importer, settlement_csv("txn_0001,1100.00,SUCCESS,2024-04-30"), kind=SETTLEMENT)

    assert counts(run) == (ImportStatus.DONE, 1, 1, 1, 0, 0)
    assert outcomes(run) == [(2, "APPLIED", "", "")]
    row = ImportRow.objects.get(run=run)
    txn = GatewayTransaction.objects.get(pk=txns[0].pk)
    assert (txn.status, txn.verdict_source, txn.settled_at) == (TransactionStatus.SUCCESS, "SETTLEMENT", PAY_AT)
    assert (row.gateway_transaction_id, row.payment_id, row.settlement_date) == (
        txn.pk,
        txn.payment_id,
        dt.date(2024, 4, 30),
    )
    assert row.row_key == f'["SETTLEMENT","pb.amritsar","{txn.pk}"]'
    assert row.note == "settled SUCCESS by this line"
    payment = Payment.objects.get(pk=txn.payment_id)
    assert (payment.payment_mode, payment.total_amount_paid, payment.transaction_number) == (
        PaymentMode.ONLINE,
        D("1100.00"),
        "txn_0001",
    )
    assert Payment.objects.filter(details__bill__consumer_code="PT-1").count() == 1
    assert lines_of("PT-1") == [("PT_FIRE_CESS", D("100.00"), D("100.00")), ("PT_TAX", D("1000.00"), D("1000.00"))]


def test_a_success_already_recorded_is_confirmed_without_a_new_payment(txns, importer):
    before = state()

    run = run_file(importer, settlement_csv("GTX-0002,500,SUCCESS,2024-05-01"), kind=SETTLEMENT)

    assert outcomes(run) == [(2, "APPLIED", "", "")]
    row = ImportRow.objects.get(run=run)
    txn = GatewayTransaction.objects.get(pk=txns[1].pk)
    assert row.note == f"confirmed: already SUCCESS (by CALLBACK at {txn.settled_at.isoformat()})"
    assert (row.gateway_transaction_id, row.payment_id) == (txn.pk, txn.payment_id)
    assert state() == before
    assert txn_state(2) == (TransactionStatus.SUCCESS, "CALLBACK", True, False, "")


def test_a_failure_closes_an_open_transaction_without_a_payment(txns, importer):
    run = run_file(importer, settlement_csv("txn_0003,800,failure,2024-05-01"), kind=SETTLEMENT)

    assert outcomes(run) == [(2, "APPLIED", "", "")]
    assert txn_state(3) == (TransactionStatus.FAILURE, "SETTLEMENT", False, False, "")
    assert ImportRow.objects.get(run=run).payment_id is None
    assert lines_of("PT-3") == [("PT_TAX", D("800.00"), D("0.00"))]


FILE = settlement_csv(
    "txn_0001,1100.00,SUCCESS,2024-04-30",  # 2 settles a pending one
    "GTX-0002,500,SUCCESS,2024-05-01",  # 3 confirms a success
    "txn_9999,100,SUCCESS,2024-05-01",  # 4 unknown
    "txn_0003,80.00,SUCCESS,2024-05-01",  # 5 amount mismatch
    "txn_0004,300,FAILURE,2024-05-01",  # 6 we recorded SUCCESS
    "GTX-0001,1100,SUCCESS,2024-04-30",  # 7 the same transaction as line 2, by our reference
    "txn_0003,800,PAID,2024-05-01",  # 8
    "txn_0003,800,SUCCESS,30-04-2024",  # 9
    "txn_0003,8OO,SUCCESS,2024-05-01",  # 10
)


def test_a_settlement_file_reports_every_line_exactly(txns, importer):
    run = run_file(importer, FILE, kind=SETTLEMENT)

    assert counts(run) == (ImportStatus.DONE, 9, 9, 2, 1, 6)
    assert outcomes(run) == [
        (2, "APPLIED", "", ""),
        (3, "APPLIED", "", ""),
        (
            4,
            "REJECTED",
            "PAYMENT_IMPORT_UNKNOWN_TRANSACTION",
            "No gateway transaction with the id or merchant reference 'txn_9999' in pb.amritsar",
        ),
        (
            5,
            "REJECTED",
            "PAYMENT_IMPORT_AMOUNT_MISMATCH",
            "The file says 80.00; transaction GTX-0003 is for 800.00 (flagged for attention)",
        ),
        (
            6,
            "REJECTED",
            "PAYMENT_IMPORT_STATUS_CONFLICT",
            "The file says FAILURE; transaction GTX-0004 is SUCCESS (flagged for attention)",
        ),
        (7, "DUPLICATE", "", ""),
        (8, "REJECTED", "PAYMENT_IMPORT_BAD_STATUS", "status 'PAID' is not one of SUCCESS, FAILURE"),
        (9, "REJECTED", "PAYMENT_IMPORT_BAD_DATE", "settlement_date '30-04-2024' is not a date in the form YYYY-MM-DD"),
        (
            10,
            "REJECTED",
            "PAYMENT_IMPORT_BAD_AMOUNT",
            "amount '8OO' is not an amount: digits with at most two decimals, no sign, no thousands separator",
        ),
    ]
    first = ImportRow.objects.get(run=run, line_number=2)
    assert ImportRow.objects.get(run=run, line_number=7).duplicate_of_id == first.pk
    assert txn_state(1) == (TransactionStatus.SUCCESS, "SETTLEMENT", True, False, "")
    assert txn_state(3) == (TransactionStatus.PENDING, "", False, True, AttentionReason.AMOUNT_MISMATCH)
    assert txn_state(4) == (
        TransactionStatus.SUCCESS,
        "CALLBACK",
        True,
        True,
        AttentionReason.CONFLICTING_FINAL_VERDICT,
    )
    assert Payment.objects.count() == 3  # two by callback, one by the file
    assert Bill.objects.get(consumer_code="PT-4", status=BillStatus.PAID)


def test_reimporting_a_settlement_file_applies_nothing_twice(txns, importer):
    run_file(importer, FILE, kind=SETTLEMENT)
    before = state()
    transactions = list(GatewayTransaction.objects.order_by("pk").values_list("pk", "status", "payment_id"))

    again = run_file(importer, FILE, kind=SETTLEMENT)

    assert counts(again) == (ImportStatus.DONE, 9, 9, 0, 3, 6)
    assert [o[:2] for o in outcomes(again)] == [
        (2, "DUPLICATE"),
        (3, "DUPLICATE"),
        (4, "REJECTED"),
        (5, "REJECTED"),
        (6, "REJECTED"),
        (7, "DUPLICATE"),
        (8, "REJECTED"),
        (9, "REJECTED"),
        (10, "REJECTED"),
    ]
    assert state() == before
    assert list(GatewayTransaction.objects.order_by("pk").values_list("pk", "status", "payment_id")) == transactions


def test_a_transaction_of_another_tenant_is_unknown_to_the_run(txns, user_factory):
    from masters.access import caller_for
    from masters.models import Role

    other = caller_for(user_factory("cashier-jal", {"pb.jalandhar": [Role.CASHIER]}))
    run = run_file(other, settlement_csv("txn_0001,1100,SUCCESS,2024-05-01"), kind=SETTLEMENT, tenant="pb.jalandhar")

    assert outcomes(run) == [
        (
            2,
            "REJECTED",
            "PAYMENT_IMPORT_UNKNOWN_TRANSACTION",
            "No gateway transaction with the id or merchant reference 'txn_0001' in pb.jalandhar",
        )
    ]
    assert txn_state(1) == (TransactionStatus.PENDING, "", False, False, "")
