"""Offline-collections imports: counter payments recorded in bulk, idempotent, each line exactly reported."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from demands.services import demand_create
from masters.models import BusinessService
from payments.imports.models import ImportRow, ImportRun, ImportStatus, RowOutcome
from payments.imports.services import import_run_execute
from payments.models import InstrumentStatus, Payment, PaymentMode, PaymentStatus
from tests.payments.conftest import AT, PAY_AT, line, lines_of, make_bill, pt_demand, state
from tests.payments.imports.conftest import counts, create_run, offline_csv, outcomes, run_file

pytestmark = pytest.mark.django_db
D = Decimal
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def three_bills(employee):
    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"), line("PT_FIRE_CESS", "100"))))
    make_bill(employee, pt_demand("PT-2", details=(line("PT_TAX", "500"),)))
    make_bill(employee, pt_demand("PT-3", details=(line("PT_TAX", "800"),)))


GOOD = offline_csv(
    "PT-1,PT,1100.00,CASH,R-0001,2024-05-01",
    "PT-2,PT,200,CHEQUE,004512,2024-04-30",
    "PT-3,PT,800,CASH, r-0002 ,2024-05-01",
)
KEYS = [
    '["OFFLINE","pb.amritsar","PT","PT-1","CASH","R-0001","1100.00","2024-05-01"]',
    '["OFFLINE","pb.amritsar","PT","PT-2","CHEQUE","004512","200.00","2024-04-30"]',
    '["OFFLINE","pb.amritsar","PT","PT-3","CASH","R-0002","800.00","2024-05-01"]',
]
COLLECTED = {
    "PT-1": [("PT_FIRE_CESS", D("100.00"), D("100.00")), ("PT_TAX", D("1000.00"), D("1000.00"))],
    "PT-2": [("PT_TAX", D("500.00"), D("200.00"))],
    "PT-3": [("PT_TAX", D("800.00"), D("800.00"))],
}


def collected() -> dict[str, list[tuple[str, Decimal, Decimal]]]:
    return {code: lines_of(code) for code in COLLECTED}


def test_a_file_of_good_lines_records_one_payment_per_line(employee, importer):
    three_bills(employee)

    run = run_file(importer, GOOD)

    assert counts(run) == (ImportStatus.DONE, 3, 3, 3, 0, 0)
    assert (run.started_at, run.finished_at, run.error) == (PAY_AT, PAY_AT, "")
    assert outcomes(run) == [(2, "APPLIED", "", ""), (3, "APPLIED", "", ""), (4, "APPLIED", "", "")]
    rows = list(ImportRow.objects.filter(run=run).order_by("line_number"))
    assert [row.row_key for row in rows] == KEYS
    assert rows[2].raw == {
        "consumer_code": "PT-3",
        "business_service": "PT",
        "amount": "800",
        "mode": "CASH",
        "instrument_reference": " r-0002 ",
        "date": "2024-05-01",
    }
    cash, cheque, _ = (row.payment for row in rows)
    assert cash is not None
    assert cheque is not None
    assert (cash.payment_mode, cash.total_amount_paid, cash.total_due, cash.instrument_number, cash.status) == (
        PaymentMode.CASH,
        D("1100.00"),
        D("1100.00"),
        "",
        PaymentStatus.NEW,
    )
    assert (cash.transaction_date, cash.instrument_date) == (dt.datetime(2024, 5, 1, tzinfo=IST),) * 2
    assert (cash.created_at, cash.created_by) == (PAY_AT, "importer-asr")
    assert cash.additional_details == {"import": {"run": str(run.pk), "line": 2, "file": "collections.csv"}}
    assert [d.manual_receipt_number for d in cash.details.all()] == ["R-0001"]
    assert [d.receipt_number for d in cash.details.all()] == ["PT/AMRITSAR/2024-25/000001"]
    assert (cheque.payment_mode, cheque.total_amount_paid, cheque.instrument_number, cheque.instrument_status) == (
        PaymentMode.CHEQUE,
        D("200.00"),
        "004512",
        InstrumentStatus.APPROVED,
    )
    assert (cheque.transaction_date, cheque.instrument_date) == (dt.datetime(2024, 4, 30, tzinfo=IST),) * 2
    assert [d.manual_receipt_number for d in cheque.details.all()] == [""]
    assert collected() == COLLECTED
    assert Payment.objects.count() == 3


def test_reimporting_the_same_file_applies_nothing_twice(employee, importer):
    three_bills(employee)
    first = run_file(importer, GOOD)
    before = state()

    second = run_file(importer, GOOD)

    assert counts(second) == (ImportStatus.DONE, 3, 3, 0, 3, 0)
    assert outcomes(second) == [(2, "DUPLICATE", "", ""), (3, "DUPLICATE", "", ""), (4, "DUPLICATE", "", "")]
    firsts = dict(ImportRow.objects.filter(run=first).values_list("line_number", "pk"))
    assert list(
        ImportRow.objects.filter(run=second).order_by("line_number").values_list("duplicate_of", "payment")
    ) == [
        (firsts[2], None),
        (firsts[3], None),
        (firsts[4], None),
    ]
    assert state() == before
    assert Payment.objects.count() == 3
    assert collected() == COLLECTED


def test_a_reformatted_export_of_the_same_lines_is_recognised(employee, importer):
    """Amount written differently, reference in other case and spacing, codes in lower case: the same lines."""
    three_bills(employee)
    run_file(importer, GOOD)
    before = state()

    again = run_file(
        importer,
        offline_csv(
            "PT-1 ,pt,1100,cash,r-0001,2024-05-01",
            "PT-2,PT,200.0,Cheque,  004512,2024-04-30",
            'PT-3,PT,"800.00",CASH,R-0002,2024-05-01',
            header="Consumer_Code, business_service ,AMOUNT,mode,instrument_reference,date",
        ),
    )

    assert counts(again) == (ImportStatus.DONE, 3, 3, 0, 3, 0)
    assert list(ImportRow.objects.filter(run=again).order_by("line_number").values_list("row_key", flat=True)) == KEYS
    assert state() == before


def test_a_line_repeated_within_a_file_applies_once(employee, importer):
    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))
    run = run_file(importer, offline_csv("PT-1,PT,400,CASH,R-1,2024-05-01", "PT-1,PT,400.00,CASH,R-1,2024-05-01"))

    assert outcomes(run) == [(2, "APPLIED", "", ""), (3, "DUPLICATE", "", "")]
    assert lines_of("PT-1") == [("PT_TAX", D("1000.00"), D("400.00"))]


def test_two_part_payments_of_one_consumer_in_one_file_each_get_a_fresh_bill(employee, importer):
    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))
    run = run_file(importer, offline_csv("PT-1,PT,400,CASH,R-1,2024-05-01", "PT-1,PT,600,CASH,R-2,2024-05-01"))

    assert outcomes(run) == [(2, "APPLIED", "", ""), (3, "APPLIED", "", "")]
    assert lines_of("PT-1") == [("PT_TAX", D("1000.00"), D("1000.00"))]
    assert sorted(Payment.objects.values_list("total_amount_paid", "total_due")) == [
        (D("400.00"), D("1000.00")),
        (D("600.00"), D("600.00")),
    ]


BAD = offline_csv(
    "PT-1,PT,1100,CASH,R-1,2024-05-01",  # 2 good
    "PT-404,PT,100,CASH,R-2,2024-05-01",  # 3 unknown consumer
    "PT-1,PT,100,CASH,R-3,2024-05-01",  # 4 nothing due any more (line 2 paid it all)
    "PT-2,PT,12.345,CASH,R-4,2024-05-01",  # 5
    'PT-2,PT,"1,000",CASH,R-5,2024-05-01',  # 6
    "PT-2,PT,-5,CASH,R-6,2024-05-01",  # 7
    "PT-2,PT,1e3,CASH,R-7,2024-05-01",  # 8
    "PT-2,PT,0,CASH,R-8,2024-05-01",  # 9
    "PT-2,PT,100,CASH,R-9,01/05/2024",  # 10
    "PT-2,PT,100,CASH,R-10,2024-02-30",  # 11
    "PT-2,PT,100,CASH,R-11,2024-05-02",  # 12 after the import day
    "PT-2,PT,100,CASH,,2024-05-01",  # 13
    "PT-2,PT,100,CASH,R-13",  # 14
    "PT-2,PT,100,CASH,R-14,2024-05-01,extra",  # 15
    "PT-2,PT,100,ONLINE,R-15,2024-05-01",  # 16
    "PT-2,PT,100,BARTER,R-16,2024-05-01",  # 17
    "PT-2,PT,100,DD,R-17,2024-05-01",  # 18 DD is not allowed for PT
    "PT-2,PT,900,CASH,R-18,2024-05-01",  # 19 more than due, PT takes no advance
    "PT-2,PT,300.50,CASH,R-19,2024-05-01",  # 20 PT takes whole amounts only
    "PT-2,PT,500,CASH,R-20,2024-05-01",  # 21 good
)


def test_a_file_with_bad_lines_applies_the_good_ones_and_reports_each_bad_one_exactly(employee, importer):
    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"), line("PT_FIRE_CESS", "100"))))
    make_bill(employee, pt_demand("PT-2", details=(line("PT_TAX", "500"),)))

    run = run_file(importer, BAD)

    assert counts(run) == (ImportStatus.DONE, 20, 20, 2, 0, 18)
    amount_rule = "is not an amount: digits with at most two decimals, no sign, no thousands separator"
    assert outcomes(run) == [
        (2, "APPLIED", "", ""),
        (3, "REJECTED", "PAYMENT_IMPORT_UNKNOWN_CONSUMER", "No consumer PT-404 of PT in pb.amritsar"),
        (4, "REJECTED", "PAYMENT_IMPORT_NO_DUES", "Consumer PT-1 of PT in pb.amritsar has nothing due"),
        (5, "REJECTED", "PAYMENT_IMPORT_BAD_AMOUNT", f"amount '12.345' {amount_rule}"),
        (6, "REJECTED", "PAYMENT_IMPORT_BAD_AMOUNT", f"amount '1,000' {amount_rule}"),
        (7, "REJECTED", "PAYMENT_IMPORT_BAD_AMOUNT", f"amount '-5' {amount_rule}"),
        (8, "REJECTED", "PAYMENT_IMPORT_BAD_AMOUNT", f"amount '1e3' {amount_rule}"),
        (9, "REJECTED", "PAYMENT_IMPORT_BAD_AMOUNT", "amount '0' must be more than 0"),
        (10, "REJECTED", "PAYMENT_IMPORT_BAD_DATE", "date '01/05/2024' is not a date in the form YYYY-MM-DD"),
        (11, "REJECTED", "PAYMENT_IMPORT_BAD_DATE", "date '2024-02-30' is not a valid date"),
        (12, "REJECTED", "PAYMENT_IMPORT_FUTURE_DATE", "date 2024-05-02 is after today (2024-05-01)"),
        (13, "REJECTED", "PAYMENT_IMPORT_MISSING_VALUE", "instrument_reference is empty"),
        (14, "REJECTED", "PAYMENT_IMPORT_MALFORMED_ROW", "The line has 5 fields; the header has 6"),
        (15, "REJECTED", "PAYMENT_IMPORT_MALFORMED_ROW", "The line has 7 fields; the header has 6"),
        (
            16,
            "REJECTED",
            "PAYMENT_IMPORT_MODE_NOT_ALLOWED",
            "mode ONLINE is not accepted here: online payments are recorded by the payment gateway "
            "(import a settlement file)",
        ),
        (
            17,
            "REJECTED",
            "PAYMENT_IMPORT_MODE_NOT_ALLOWED",
            "Unknown mode 'BARTER'; accepted: CARD, CASH, CHEQUE, DD, OFFLINE_NEFT, OFFLINE_RTGS, POSTAL_ORDER",
        ),
        (
            18,
            "REJECTED",
            "INVALID_PAYMENTDETAIL",
            f"The paymentMode: DD is not allowed for the bill: {bill_of('PT-2')}",
        ),
        (19, "REJECTED", "INVALID_PAYMENTDETAIL", "The amount to be paid is more than amount due"),
        (20, "REJECTED", "INVALID_PAYMENTDETAIL", "The amount paid cannot be fractional"),
        (21, "APPLIED", "", ""),
    ]
    assert ImportRow.objects.get(run=run, line_number=15).raw["_extra"] == "extra"
    assert ImportRow.objects.get(run=run, line_number=14).row_key == ""
    assert ImportRow.objects.get(run=run, line_number=3).row_key.startswith('["OFFLINE","pb.amritsar","PT","PT-404"')
    assert lines_of("PT-1") == [("PT_FIRE_CESS", D("100.00"), D("100.00")), ("PT_TAX", D("1000.00"), D("1000.00"))]
    assert lines_of("PT-2") == [("PT_TAX", D("500.00"), D("500.00"))]
    assert Payment.objects.count() == 2


def bill_of(consumer_code: str) -> str:
    from bills.models import Bill

    return str(Bill.objects.filter(consumer_code=consumer_code).order_by("created_at").first().pk)


def test_several_rule_errors_of_one_line_are_all_reported(employee, importer):
    make_bill(employee, pt_demand("PT-2", details=(line("PT_TAX", "500"),)))

    run = run_file(importer, offline_csv("PT-2,PT,900.50,CASH,R-1,2024-05-01"))

    assert outcomes(run) == [
        (
            2,
            "REJECTED",
            "INVALID_PAYMENTDETAIL",
            "INVALID_PAYMENTDETAIL: The amount to be paid is more than amount due; "
            "INVALID_PAYMENTDETAIL: The amount paid cannot be fractional",
        )
    ]
    assert lines_of("PT-2") == [("PT_TAX", D("500.00"), D("0.00"))]


def test_optional_columns_payer_mobile_instrument_date_ifsc_and_tenant(employee, importer, user_factory):
    from masters.access import caller_for
    from masters.models import Role

    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))
    make_bill(employee, pt_demand("PT-2", details=(line("PT_TAX", "500"),)))
    jalandhar = caller_for(user_factory("emp-jal", {"pb.jalandhar": [Role.EMPLOYEE]}))
    demand_create(
        caller=jalandhar, demands=[pt_demand("PT-J", tenant="pb.jalandhar", details=(line("PT_TAX", "500"),))], at=AT
    )
    header = (
        "tenant_id,consumer_code,business_service,amount,mode,instrument_reference,date,"
        "payer_name,mobile_number,instrument_date,ifsc_code"
    )
    run = run_file(
        importer,
        offline_csv(
            "pb.amritsar,PT-1,PT,1000,CHEQUE,778899,2024-05-01,Asha Rani,9876543210,2024-04-28,sbin0001234",
            ",PT-2,PT,500,CASH,R-1,2024-05-01,,,,",
            "pb.jalandhar,PT-J,PT,500,CASH,R-2,2024-05-01,,,,",
            "pb.amritsar,PT-2,PT,100,CASH,R-3,2024-05-01,,98765,,",
            header=header,
        ),
    )

    assert outcomes(run) == [
        (2, "APPLIED", "", ""),
        (3, "APPLIED", "", ""),
        (
            4,
            "REJECTED",
            "PAYMENT_IMPORT_TENANT_MISMATCH",
            "tenant_id pb.jalandhar is not a city of the run's tenant pb.amritsar",
        ),
        (5, "REJECTED", "PAYMENT_IMPORT_BAD_MOBILE", "mobile_number '98765' is not 10 digits"),
    ]
    cheque = ImportRow.objects.get(run=run, line_number=2).payment
    assert (cheque.payer_name, cheque.paid_by, cheque.mobile_number, cheque.ifsc_code, cheque.instrument_number) == (
        "Asha Rani",
        "Asha Rani",
        "9876543210",
        "SBIN0001234",
        "778899",
    )
    assert cheque.instrument_date == dt.datetime(2024, 4, 28, tzinfo=IST)
    assert cheque.transaction_date == dt.datetime(2024, 5, 1, tzinfo=IST)
    assert lines_of("PT-J") == [("PT_TAX", D("500.00"), D("0.00"))]


def test_a_state_level_run_needs_the_city_of_each_line(employee, user_factory):
    from masters.access import caller_for
    from masters.models import Role

    state_cashier = caller_for(user_factory("state-cashier", {"pb": [Role.CASHIER]}))
    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))
    header = "tenant_id,consumer_code,business_service,amount,mode,instrument_reference,date"
    run = run_file(
        state_cashier,
        offline_csv(",PT-1,PT,1000,CASH,R-1,2024-05-01", "pb.amritsar,PT-1,PT,1000,CASH,R-1,2024-05-01", header=header),
        tenant="pb",
    )

    assert outcomes(run) == [
        (
            2,
            "REJECTED",
            "PAYMENT_IMPORT_TENANT_MISMATCH",
            "The run's tenant pb is a state: each line needs the tenant_id of its city",
        ),
        (3, "APPLIED", "", ""),
    ]


def test_a_mode_the_business_service_refuses_is_reported_with_the_payment_rule(employee, importer):
    BusinessService.objects.filter(code="PT").update(collection_modes_not_allowed=["CASH"])
    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))
    bill = bill_of("PT-1")

    run = run_file(importer, offline_csv("PT-1,PT,1000,CASH,R-1,2024-05-01"))

    assert outcomes(run) == [
        (2, "REJECTED", "INVALID_PAYMENTDETAIL", f"The paymentMode: CASH is not allowed for the bill: {bill}")
    ]
    assert Payment.objects.count() == 0


def test_a_run_stopped_midway_resumes_after_its_last_recorded_line(employee, importer):
    three_bills(employee)
    run = create_run(importer, GOOD)

    stopped = import_run_execute(run_id=run.pk, at=PAY_AT, max_rows=2)

    assert counts(stopped) == (ImportStatus.RUNNING, 3, 2, 2, 0, 0)
    assert Payment.objects.count() == 2
    done = import_run_execute(run_id=run.pk, at=PAY_AT)
    assert counts(done) == (ImportStatus.DONE, 3, 3, 3, 0, 0)
    assert outcomes(done) == [(2, "APPLIED", "", ""), (3, "APPLIED", "", ""), (4, "APPLIED", "", "")]
    assert collected() == COLLECTED
    assert import_run_execute(run_id=run.pk, at=PAY_AT).status == ImportStatus.DONE  # finished: nothing more
    assert ImportRow.objects.count() == 3


def test_the_run_acts_with_the_uploaders_present_roles(employee, importer, importer_user):
    from masters.models import UserRole

    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))
    run = create_run(importer, offline_csv("PT-1,PT,1000,CASH,R-1,2024-05-01"))
    UserRole.objects.filter(user=importer_user).delete()

    done = import_run_execute(run_id=run.pk, at=PAY_AT)

    assert outcomes(done) == [
        (
            2,
            "REJECTED",
            "PERMISSION_DENIED",
            "You need one of the roles CASHIER, EMPLOYEE, BILLING_ADMIN, SYSTEM in pb.amritsar to take payments.",
        )
    ]
    assert Payment.objects.count() == 0


def test_a_run_whose_uploader_was_deleted_fails_without_applying_anything(employee, importer, importer_user):
    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))
    run = create_run(importer, offline_csv("PT-1,PT,1000,CASH,R-1,2024-05-01"))
    importer_user.delete()

    done = import_run_execute(run_id=run.pk, at=PAY_AT)

    assert (done.status, done.error, done.processed) == (
        ImportStatus.FAILED,
        "PERMISSION_DENIED: The uploader importer-asr no longer exists",
        0,
    )
    assert Payment.objects.count() == ImportRow.objects.count() == 0


def test_an_unknown_run_is_not_found(db):
    from billing_project.errors import DomainError

    with pytest.raises(DomainError) as caught:
        import_run_execute(run_id="not-a-uuid", at=PAY_AT)
    assert (caught.value.code, caught.value.http_status) == ("PAYMENT_IMPORT_RUN_NOT_FOUND", 404)
    assert ImportRun.objects.count() == 0
    assert RowOutcome.APPLIED == "APPLIED"


def test_a_line_failing_inside_its_transaction_leaves_nothing_and_fails_the_run(employee, importer):
    """The receipt sequence is set back (a broken master): the second line's receipt number is taken, so its
    transaction fails after the payment row was inserted — and rolls back whole: no payment, no write-back, no
    row, no count. An error that is not a business rule stops the run FAILED, naming the line."""
    from masters.models import IdSequence

    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))
    make_bill(employee, pt_demand("PT-2", details=(line("PT_TAX", "500"),)))
    run = create_run(importer, offline_csv("PT-1,PT,1000,CASH,R-1,2024-05-01", "PT-2,PT,500,CASH,R-2,2024-05-01"))
    import_run_execute(run_id=run.pk, at=PAY_AT, max_rows=1)
    assert IdSequence.objects.filter(name="seq_egcl_receipt_pt_pb_amritsar").update(last_value=0) == 1
    before = state()

    failed = import_run_execute(run_id=run.pk, at=PAY_AT)

    assert (failed.status, failed.finished_at) == (ImportStatus.FAILED, PAY_AT)
    assert failed.error.startswith("line 3: IntegrityError: ")
    assert counts(failed) == (ImportStatus.FAILED, 2, 1, 1, 0, 0)
    assert outcomes(failed) == [(2, "APPLIED", "", "")]
    assert state() == before
    assert lines_of("PT-2") == [("PT_TAX", D("500.00"), D("0.00"))]
    assert Payment.objects.count() == 1
    assert import_run_execute(run_id=run.pk, at=PAY_AT).status == ImportStatus.FAILED  # final: not run again


def test_an_amount_too_large_for_any_column_rejects_its_line_and_the_run_goes_on(employee, importer):
    # 30 digits: more than the decimal context holds (to_money raises MoneyError); once this failed the run.
    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"), line("PT_FIRE_CESS", "100"))))
    run = run_file(
        importer,
        offline_csv(
            f"PT-1,PT,{'9' * 30},CASH,R-0001,2024-05-01",
            f"PT-1,PT,{'9' * 13},CASH,R-0002,2024-05-01",
            "PT-1,PT,1100,CASH,R-0003,2024-05-01",
        ),
    )

    assert counts(run) == (ImportStatus.DONE, 3, 3, 1, 0, 2)
    assert run.error == ""
    assert outcomes(run) == [
        (2, "REJECTED", "PAYMENT_IMPORT_BAD_AMOUNT", f"amount '{'9' * 30}' is too large"),
        (3, "REJECTED", "PAYMENT_IMPORT_BAD_AMOUNT", f"amount '{'9' * 13}' is too large"),
        (4, "APPLIED", "", ""),
    ]
    assert lines_of("PT-1") == [("PT_FIRE_CESS", D("100.00"), D("100.00")), ("PT_TAX", D("1000.00"), D("1000.00"))]
    assert Payment.objects.count() == 1
