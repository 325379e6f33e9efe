"""REST face: ``/api/v1/payment-imports/`` (multipart upload, list, detail, rows)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from masters.models import Role
from payments.imports.models import ImportRun
from tests.payments.conftest import CITY, line, lines_of, make_bill, pt_demand
from tests.payments.imports.conftest import create_run, offline_csv, run_file

pytestmark = pytest.mark.django_db
URL = "/api/v1/payment-imports/"
D = Decimal
FILE = offline_csv("PT-1,PT,1000,CASH,R-1,2024-05-01", "PT-404,PT,5,CASH,R-2,2024-05-01")


@pytest.fixture
def cashier_client(seed, api_client_for):
    return api_client_for("cashier-api", {CITY: [Role.CASHIER]})


def upload(client, content: bytes = FILE, **fields: str):
    data = {"kind": "OFFLINE_COLLECTIONS", "tenant": CITY, **fields}
    data["file"] = SimpleUploadedFile("april.csv", content, content_type="text/csv")  # type: ignore[assignment]
    return client.post(URL, data, format="multipart")


def test_an_upload_creates_the_run_and_queues_it(employee, cashier_client, django_capture_on_commit_callbacks):
    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(cashier_client)

    assert response.status_code == 201, response.json()
    body = response.json()
    run = ImportRun.objects.get()
    assert len(callbacks) == 1
    assert body == {
        "id": str(run.pk),
        "kind": "OFFLINE_COLLECTIONS",
        "tenant": CITY,
        "file_name": "april.csv",
        "file_sha256": run.file_sha256,
        "uploaded_by": "cashier-api",
        "status": "QUEUED",  # answered before the commit; the task ran after it
        "total_rows": 2,
        "processed": 0,
        "progress_percent": 0.0,
        "applied": 0,
        "duplicate": 0,
        "rejected": 0,
        "error": "",
        "created_at": body["created_at"],
        "started_at": None,
        "finished_at": None,
        "updated_at": body["updated_at"],
    }
    detail = cashier_client.get(f"{URL}{run.pk}/").json()
    assert {k: detail[k] for k in ("status", "processed", "progress_percent", "applied", "rejected")} == {
        "status": "DONE",
        "processed": 2,
        "progress_percent": 100.0,
        "applied": 1,
        "rejected": 1,
    }
    assert lines_of("PT-1") == [("PT_TAX", D("1000.00"), D("1000.00"))]


def test_the_rows_of_a_run_paginated_and_filtered_by_outcome(employee, importer, cashier_client):
    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))
    run = run_file(importer, FILE)
    applied = run.rows.get(line_number=2)

    page = cashier_client.get(f"{URL}{run.pk}/rows/", {"page_size": 1}).json()
    assert (page["count"], len(page["results"]), page["next"] is not None) == (2, 1, True)
    assert page["results"][0] == {
        "line_number": 2,
        "outcome": "APPLIED",
        "error_code": "",
        "error_message": "",
        "note": "",
        "row_key": '["OFFLINE","pb.amritsar","PT","PT-1","CASH","R-1","1000.00","2024-05-01"]',
        "raw": {
            "consumer_code": "PT-1",
            "business_service": "PT",
            "amount": "1000",
            "mode": "CASH",
            "instrument_reference": "R-1",
            "date": "2024-05-01",
        },
        "payment": str(applied.payment_id),
        "gateway_transaction": None,
        "duplicate_of": None,
        "duplicate_of_run": None,
        "duplicate_of_line": None,
        "settlement_date": None,
        "created_at": page["results"][0]["created_at"],
    }
    rejected = cashier_client.get(f"{URL}{run.pk}/rows/", {"outcome": "REJECTED"}).json()
    assert [(r["line_number"], r["error_code"], r["error_message"]) for r in rejected["results"]] == [
        (3, "PAYMENT_IMPORT_UNKNOWN_CONSUMER", "No consumer PT-404 of PT in pb.amritsar")
    ]
    again = run_file(importer, FILE)
    duplicate = cashier_client.get(f"{URL}{again.pk}/rows/", {"outcome": "DUPLICATE"}).json()["results"]
    assert [(r["duplicate_of"], r["duplicate_of_run"], r["duplicate_of_line"]) for r in duplicate] == [
        (applied.pk, str(run.pk), 2)
    ]
    bad = cashier_client.get(f"{URL}{run.pk}/rows/", {"outcome": "LOST"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "VALIDATION_ERROR"
    unknown = cashier_client.get(f"{URL}{run.pk}/rows/", {"result": "REJECTED"})
    allowed = "format, outcome, page, page_size"
    assert (unknown.status_code, unknown.json()) == (
        400,
        {
            "code": "UNKNOWN_QUERY_PARAMETER",
            "message": f"Unknown query parameter(s): result. Allowed: {allowed}.",
            "fields": {"result": [f"Unknown query parameter. Allowed: {allowed}."]},
        },
    )


def test_a_refused_file_is_400_with_its_code_and_nothing_is_stored(cashier_client):
    response = upload(cashier_client, b"name,amount\nx,1\n")

    assert response.status_code == 400
    assert response.json() == {
        "code": "PAYMENT_IMPORT_MISSING_COLUMNS",
        "message": "The header lacks the column(s) consumer_code, business_service, mode, instrument_reference, "
        "date; expected consumer_code,business_service,amount,mode,instrument_reference,date "
        "(optional: tenant_id,payer_name,mobile_number,instrument_date,ifsc_code)",
        "fields": {},
    }
    assert ImportRun.objects.count() == 0


def test_a_bad_upload_form_is_400(cashier_client):
    response = cashier_client.post(URL, {"kind": "PAYROLL", "tenant": "pb.nowhere"}, format="multipart")

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], sorted(body["fields"])) == ("VALIDATION_ERROR", ["file", "kind", "tenant"])
    assert ImportRun.objects.count() == 0


def test_runs_are_scoped_to_the_callers_tenants(importer, api_client_for, cashier_client):
    run = create_run(importer, FILE)
    outsider = api_client_for("cashier-jal", {"pb.jalandhar": [Role.CASHIER]})
    citizen = api_client_for("citizen", {CITY: [Role.CITIZEN]})

    assert [r["id"] for r in cashier_client.get(URL).json()["results"]] == [str(run.pk)]
    assert cashier_client.get(URL, {"tenant": "pb.jalandhar"}).json()["results"] == []
    assert outsider.get(URL).json()["results"] == []
    assert outsider.get(f"{URL}{run.pk}/").status_code == 404
    assert outsider.get(f"{URL}{run.pk}/rows/").status_code == 404
    assert citizen.get(f"{URL}{run.pk}/").status_code == 404
    denied = upload(outsider)
    assert (denied.status_code, denied.json()["code"]) == (403, "PERMISSION_DENIED")
    assert upload(citizen).status_code == 403
    assert ImportRun.objects.count() == 1


def test_anonymous_callers_are_refused(anon_client):
    assert anon_client.get(URL).status_code == 401


def test_a_retried_upload_with_the_same_idempotency_key_creates_one_run(seed, cashier_client):
    first = cashier_client.post(
        URL,
        {"kind": "OFFLINE_COLLECTIONS", "tenant": CITY, "file": SimpleUploadedFile("a.csv", FILE)},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="upload-1",
    )
    again = cashier_client.post(
        URL,
        {"kind": "OFFLINE_COLLECTIONS", "tenant": CITY, "file": SimpleUploadedFile("a.csv", FILE)},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="upload-1",
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert ImportRun.objects.count() == 1
