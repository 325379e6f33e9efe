"""Imports on PostgreSQL: concurrent imports of one file apply each line once; a line that fails inside its
transaction leaves nothing behind (DESIGN §3 rules 6, 7 and 10)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import OperationalError

from bills.models import Bill, BillStatus
from payments.gateway.models import GatewayTransaction, TransactionStatus
from payments.imports.models import ImportKind, ImportRow, ImportStatus, RowOutcome
from payments.imports.services import import_run_execute
from payments.models import Payment, PaymentApplication
from tests.concurrency import rows_locked_elsewhere, run_together
from tests.payments.conftest import PAY_AT, line, lines_of, make_bill, pt_demand, state
from tests.payments.imports.conftest import SETTLEMENT_HEADER, counts, create_run, csv_bytes, offline_csv, outcomes
from tests.payments.imports.test_settlement_import import make_txn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal
CONSUMERS = [f"PT-C{n}" for n in range(1, 7)]
FILE = offline_csv(*(f"{code},PT,500,CASH,R-{code},2024-05-01" for code in CONSUMERS))


def test_four_concurrent_imports_of_one_file_apply_each_line_once(employee, importer):
    for code in CONSUMERS:
        make_bill(employee, pt_demand(code, details=(line("PT_TAX", "500"),)))
    runs = [create_run(importer, FILE, name=f"copy-{n}.csv") for n in range(4)]

    results = run_together([lambda run=run: import_run_execute(run_id=run.pk, at=PAY_AT).status for run in runs])

    assert results == [ImportStatus.DONE] * 4
    for code in CONSUMERS:
        assert lines_of(code) == [("PT_TAX", D("500.00"), D("500.00"))]
    assert Payment.objects.count() == len(CONSUMERS)
    assert PaymentApplication.objects.count() == len(CONSUMERS)
    applied = ImportRow.objects.filter(outcome=RowOutcome.APPLIED)
    assert sorted(applied.values_list("line_number", flat=True)) == list(range(2, 8))
    assert set(ImportRow.objects.values_list("outcome", flat=True)) == {RowOutcome.APPLIED, RowOutcome.DUPLICATE}
    for run in runs:
        status, total, processed, n_applied, n_duplicate, rejected = counts(run)
        assert (status, total, processed, n_applied + n_duplicate, rejected) == (ImportStatus.DONE, 6, 6, 6, 0)
    for row in ImportRow.objects.filter(outcome=RowOutcome.DUPLICATE):
        assert row.duplicate_of is not None
        assert (row.duplicate_of.outcome, row.duplicate_of.row_key) == (RowOutcome.APPLIED, row.row_key)


def test_concurrent_imports_of_one_settlement_file_settle_each_transaction_once(employee, importer):
    bills = [make_bill(employee, pt_demand(code, details=(line("PT_TAX", "500"),))) for code in CONSUMERS[:4]]
    for number, bill in enumerate(bills, start=1):
        make_txn(bill, number, "500")
    content = csv_bytes(SETTLEMENT_HEADER, *(f"txn_{n:04d},500,SUCCESS,2024-05-01" for n in range(1, 5)))
    runs = [create_run(importer, content, kind=ImportKind.SETTLEMENT) for _ in range(3)]

    results = run_together([lambda run=run: import_run_execute(run_id=run.pk, at=PAY_AT).status for run in runs])

    assert results == [ImportStatus.DONE] * 3
    assert Payment.objects.count() == 4
    assert set(GatewayTransaction.objects.values_list("status", flat=True)) == {TransactionStatus.SUCCESS}
    assert GatewayTransaction.objects.filter(payment__isnull=True).count() == 0
    assert sorted(
        ImportRow.objects.filter(outcome=RowOutcome.APPLIED).values_list("gateway_transaction_id", flat=True)
    ) == [uuid.UUID(int=n) for n in range(1, 5)]
    assert ImportRow.objects.filter(outcome=RowOutcome.DUPLICATE).count() == 8
    for code in CONSUMERS[:4]:
        assert lines_of(code) == [("PT_TAX", D("500.00"), D("500.00"))]


def test_a_line_failing_inside_its_transaction_leaves_no_payment_and_no_write_back(employee, importer):
    """The bill is locked by another transaction: the line's transaction (row inserted, then ``payment_record``
    waiting on the bill) times out and rolls back whole; the run stays RUNNING and resumes the line later."""
    bill = make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))
    make_bill(employee, pt_demand("PT-2", details=(line("PT_TAX", "500"),)))
    run = create_run(importer, offline_csv("PT-2,PT,500,CASH,R-2,2024-05-01", "PT-1,PT,1000,CASH,R-1,2024-05-01"))
    import_run_execute(run_id=run.pk, at=PAY_AT, max_rows=1)
    before = state()
    with rows_locked_elsewhere(Bill.objects.filter(pk=bill.pk)):
        with pytest.raises(OperationalError, match="lock timeout"):
            import_run_execute(run_id=run.pk, at=PAY_AT)
        assert state() == before
        assert lines_of("PT-1") == [("PT_TAX", D("1000.00"), D("0.00"))]
        assert Bill.objects.get(pk=bill.pk).status == BillStatus.ACTIVE
        assert outcomes(run) == [(2, "APPLIED", "", "")]
        assert counts(run) == (ImportStatus.RUNNING, 2, 1, 1, 0, 0)

    done = import_run_execute(run_id=run.pk, at=PAY_AT)

    assert counts(done) == (ImportStatus.DONE, 2, 2, 2, 0, 0)
    assert outcomes(done) == [(2, "APPLIED", "", ""), (3, "APPLIED", "", "")]
    assert lines_of("PT-1") == [("PT_TAX", D("1000.00"), D("1000.00"))]
    assert Payment.objects.count() == 2
