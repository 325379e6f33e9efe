"""Creating runs (whole-file checks, access), the Celery task, and the run-level behaviour."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from billing_project.errors import DomainError
from billing_project.outbox import OutboxMessage, OutboxStatus
from payments.imports import tasks
from payments.imports.domain import csvfile
from payments.imports.models import ImportKind, ImportRun, ImportStatus
from payments.imports.services import import_run_create, run_subject
from payments.models import Payment
from tests.payments.conftest import CITY, PAY_AT, line, make_bill, pt_demand
from tests.payments.imports.conftest import OFFLINE_HEADER, counts, create_run, offline_csv

pytestmark = pytest.mark.django_db

GOOD_LINE = "PT-1,PT,1000,CASH,R-1,2024-05-01"


def refused(caller, content: bytes, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(DomainError) as caught:
        create_run(caller, content, **kwargs)
    assert ImportRun.objects.count() == 0
    return caught.value.code, caught.value.message


def test_a_run_is_stored_queued_with_its_file(importer):
    content = offline_csv(GOOD_LINE, "", " , , , , , ", "PT-2,PT,10,CASH,R-2,2024-05-01")

    run = create_run(importer, content, name="  april.csv ")

    stored = ImportRun.objects.get()
    assert (stored.pk, stored.kind, stored.tenant.code, stored.file_name, stored.status) == (
        run.pk,
        ImportKind.OFFLINE_COLLECTIONS,
        CITY,
        "april.csv",
        ImportStatus.QUEUED,
    )
    assert stored.file_sha256 == hashlib.sha256(content).hexdigest()
    assert stored.content == content.decode()
    assert (stored.total_rows, stored.processed, stored.uploaded_by_name, stored.run_as_system) == (
        2,
        0,
        "importer-asr",
        False,
    )
    assert (stored.created_at, stored.updated_at, stored.started_at) == (PAY_AT, PAY_AT, None)


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (
            b"\xff\xfeconsumer_code",
            "PAYMENT_IMPORT_NOT_CSV",
            "The file is not UTF-8 text (byte 0): export it as CSV UTF-8",
        ),
        (b"consumer_code\x00,x\n", "PAYMENT_IMPORT_NOT_CSV", "The file holds NUL bytes: it is not a CSV text file"),
        (b"", "PAYMENT_IMPORT_EMPTY_FILE", "The file is empty: expected a header line and data lines"),
        (b"\r\n\r\n", "PAYMENT_IMPORT_EMPTY_FILE", "The file is empty: expected a header line and data lines"),
        (OFFLINE_HEADER.encode() + b"\n", "PAYMENT_IMPORT_EMPTY_FILE", "The file has a header but no data lines"),
        (
            b"consumer_code,business_service,amount,mode,date\nPT-1,PT,1,CASH,2024-05-01\n",
            "PAYMENT_IMPORT_MISSING_COLUMNS",
            "The header lacks the column(s) instrument_reference; expected "
            "consumer_code,business_service,amount,mode,instrument_reference,date "
            "(optional: tenant_id,payer_name,mobile_number,instrument_date,ifsc_code)",
        ),
        (
            b"%PDF-1.4 binary garbage\n",
            "PAYMENT_IMPORT_MISSING_COLUMNS",
            "The header lacks the column(s) consumer_code, business_service, amount, mode, instrument_reference, "
            "date; expected consumer_code,business_service,amount,mode,instrument_reference,date "
            "(optional: tenant_id,payer_name,mobile_number,instrument_date,ifsc_code)",
        ),
        (
            (OFFLINE_HEADER + ",mobile\n" + GOOD_LINE + ",9876543210\n").encode(),
            "PAYMENT_IMPORT_UNKNOWN_COLUMNS",
            "Unknown column(s) 'mobile'; allowed: consumer_code,business_service,amount,mode,instrument_reference,"
            "date,tenant_id,payer_name,mobile_number,instrument_date,ifsc_code",
        ),
        (
            (OFFLINE_HEADER + ",amount\n" + GOOD_LINE + ",1\n").encode(),
            "PAYMENT_IMPORT_DUPLICATE_COLUMNS",
            "Repeated column(s) amount",
        ),
        (
            (OFFLINE_HEADER + '\nPT-1,PT,1000,CASH,"R-1,2024-05-01\n').encode(),
            "PAYMENT_IMPORT_NOT_CSV",
            "Line 2: not valid CSV (unexpected end of data)",
        ),
        (
            (OFFLINE_HEADER + '\nPT-1,PT,1000,CASH,"R"-1,2024-05-01\n').encode(),
            "PAYMENT_IMPORT_NOT_CSV",
            "Line 2: not valid CSV (',' expected after '\"')",
        ),
    ],
    ids=[
        "utf16",
        "nul",
        "empty",
        "blank-lines",
        "header-only",
        "missing-column",
        "not-csv",
        "unknown-column",
        "repeated-column",
        "open-quote",
        "bad-quote",
    ],
)
def test_a_file_that_is_not_a_valid_csv_of_its_kind_is_refused_whole(importer, content, code, message):
    assert refused(importer, content) == (code, message)


def test_a_settlement_file_needs_the_settlement_columns(importer):
    assert refused(importer, offline_csv(GOOD_LINE), kind=ImportKind.SETTLEMENT) == (
        "PAYMENT_IMPORT_MISSING_COLUMNS",
        "The header lacks the column(s) transaction_id, status, settlement_date; expected "
        "transaction_id,amount,status,settlement_date",
    )


def test_size_and_line_limits(importer, monkeypatch):
    monkeypatch.setattr(csvfile, "MAX_FILE_BYTES", 100)
    assert refused(importer, offline_csv(GOOD_LINE, GOOD_LINE)) == (
        "PAYMENT_IMPORT_FILE_TOO_LARGE",
        "The file has 138 bytes; at most 100 are accepted (split it)",
    )
    monkeypatch.setattr(csvfile, "MAX_FILE_BYTES", 10_000)
    monkeypatch.setattr(csvfile, "MAX_ROWS", 2)
    assert refused(importer, offline_csv(GOOD_LINE, GOOD_LINE, GOOD_LINE)) == (
        "PAYMENT_IMPORT_TOO_MANY_ROWS",
        "More than 2 data lines: split the file",
    )
    assert create_run(importer, offline_csv(GOOD_LINE, GOOD_LINE)).total_rows == 2


def test_a_utf8_bom_and_crlf_or_lf_line_ends_are_accepted(importer):
    run = create_run(importer, b"\xef\xbb\xbf" + (OFFLINE_HEADER + "\n" + GOOD_LINE + "\n").encode())
    assert (run.total_rows, run.content.startswith("consumer_code")) == (1, True)


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        (
            {"kind": "PAYROLL"},
            "PAYMENT_IMPORT_UNKNOWN_KIND",
            "Unknown import kind 'PAYROLL'; one of OFFLINE_COLLECTIONS, SETTLEMENT",
        ),
        ({"tenant": "pb.nowhere"}, "PAYMENT_IMPORT_UNKNOWN_TENANT", "No tenant pb.nowhere"),
        (
            {"tenant": "pb.jalandhar"},
            "PERMISSION_DENIED",
            "You need one of the roles CASHIER, EMPLOYEE, BILLING_ADMIN, SYSTEM in pb.jalandhar to import payments.",
        ),
        ({"name": "   "}, "PAYMENT_IMPORT_BAD_FILE_NAME", "The file name must have 1 to 255 characters"),
    ],
)
def test_a_run_the_caller_may_not_start_is_refused(importer, kwargs, code, message):
    assert refused(importer, offline_csv(GOOD_LINE), **kwargs) == (code, message)


def test_a_citizen_may_not_import(seed, user_factory):
    from masters.access import caller_for
    from masters.models import Role

    citizen = caller_for(user_factory("citizen", {"pb": [Role.CITIZEN]}))
    assert refused(citizen, offline_csv(GOOD_LINE))[0] == "PERMISSION_DENIED"


def test_creating_a_run_queues_its_task_after_the_commit(employee, importer, django_capture_on_commit_callbacks):
    """With no broker configured the task runs in-process (eager) once the run is committed."""
    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = import_run_create(
            caller=importer,
            kind=ImportKind.OFFLINE_COLLECTIONS,
            tenant_code=CITY,
            file_name="f.csv",
            content=offline_csv(GOOD_LINE),
            at=PAY_AT,
        )
    assert len(callbacks) == 1
    assert counts(run)[0] == ImportStatus.QUEUED  # nothing ran before the commit
    # The job is recorded with the run, in its transaction (the outbox hands it over after the commit).
    message = OutboxMessage.objects.get(subject=run_subject(run.pk))
    assert (message.destination, message.payload, message.status) == (
        "payments.imports.execute_run",
        {"run_id": str(run.pk)},
        OutboxStatus.PENDING,
    )
    callbacks[0]()
    assert counts(run)[:4] == (ImportStatus.DONE, 1, 1, 1)
    assert Payment.objects.count() == 1


def test_the_task_works_in_batches_and_queues_the_rest(employee, importer):
    for code in ("PT-1", "PT-2", "PT-3"):
        make_bill(employee, pt_demand(code, details=(line("PT_TAX", "100"),)))
    run = create_run(
        importer,
        offline_csv(*(f"PT-{n},PT,100,CASH,R-{n},2024-05-01" for n in (1, 2, 3))),
    )

    status = tasks.execute_run.run(run_id=str(run.pk), rows_per_task=2)  # as a worker runs it: not eager

    assert status == ImportStatus.RUNNING
    assert counts(run)[:3] == (ImportStatus.RUNNING, 3, 2)
    # The rest is submitted through the outbox, once per count of processed lines.
    [message] = OutboxMessage.objects.filter(subject=run_subject(run.pk))
    assert (message.channel, message.destination, message.payload, message.dedupe_key) == (
        "celery",
        "payments.imports.execute_run",
        {"run_id": str(run.pk), "rows_per_task": 2},
        f"payment_imports.importrun:{run.pk}:continue:2",
    )
    assert tasks.execute_run.delay(run_id=str(run.pk)).get() == ImportStatus.DONE  # eager here: to the end
    assert counts(run) == (ImportStatus.DONE, 3, 3, 3, 0, 0)
