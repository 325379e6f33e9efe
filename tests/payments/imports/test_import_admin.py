"""Admin: the upload form creates and queues a run; runs list with progress; rows inline by outcome; rows list."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from masters.models import Role
from payments.imports.models import ImportRun, ImportStatus
from tests.payments.conftest import CITY, line, make_bill, pt_demand
from tests.payments.imports.conftest import counts, offline_csv, run_file

pytestmark = pytest.mark.django_db
ADD = "/admin/payment_imports/importrun/add/"
FILE = offline_csv(
    "PT-1,PT,1000,CASH,R-1,2024-05-01", "PT-404,PT,5,CASH,R-2,2024-05-01", "PT-1,PT,x,CASH,R-3,2024-05-01"
)


@pytest.fixture
def admin_client_for(user_factory):
    def make(username: str = "admin", roles=None, *, superuser: bool = True) -> Client:
        user = user_factory(username, roles, superuser=superuser)
        user.is_staff = True
        user.save()
        client = Client()
        client.force_login(user)
        return client

    return make


def upload(client: Client, content: bytes = FILE, tenant: str = CITY):
    return client.post(
        ADD,
        {"kind": "OFFLINE_COLLECTIONS", "tenant": tenant, "file": SimpleUploadedFile("may.csv", content)},
    )


def test_the_upload_form_creates_the_run_and_queues_it(employee, admin_client_for, django_capture_on_commit_callbacks):
    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))
    client = admin_client_for()
    assert client.get(ADD).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client)

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/payment_imports/importrun/{run.pk}/change/"
    assert counts(run) == (ImportStatus.DONE, 3, 3, 1, 0, 2)
    page = client.get(response["Location"]).content.decode()
    assert "3/3 (100.0%)" in page
    assert "PAYMENT_IMPORT_UNKNOWN_CONSUMER" in page
    assert "PAYMENT_IMPORT_BAD_AMOUNT" in page
    applied_only = client.get(response["Location"] + "?outcome=APPLIED").content.decode()
    assert "PAYMENT_IMPORT_UNKNOWN_CONSUMER" not in applied_only
    listing = client.get("/admin/payment_imports/importrun/").content.decode()
    assert "may.csv" in listing
    assert "3/3 (100.0%)" in listing


def test_a_refused_file_is_shown_on_the_form_and_nothing_is_stored(seed, admin_client_for):
    response = upload(admin_client_for(), b"name\nx\n")

    assert response.status_code == 200
    assert "PAYMENT_IMPORT_MISSING_COLUMNS" in response.content.decode()
    assert ImportRun.objects.count() == 0


def test_the_rows_list_filters_by_outcome_and_error_code(employee, importer, admin_client_for):
    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))
    run = run_file(importer, FILE)
    client = admin_client_for()

    rows = client.get("/admin/payment_imports/importrow/", {"outcome": "REJECTED", "run__id__exact": str(run.pk)})
    assert rows.status_code == 200
    assert rows.context["cl"].result_count == 2
    by_code = client.get("/admin/payment_imports/importrow/", {"error_code": "PAYMENT_IMPORT_BAD_AMOUNT"})
    assert [row.line_number for row in by_code.context["cl"].result_list] == [4]


def test_staff_see_only_the_runs_of_their_tenants(seed, importer, admin_client_for):
    from django.contrib.auth.models import Permission

    run_file(importer, offline_csv("PT-404,PT,5,CASH,R-2,2024-05-01"))
    staff = admin_client_for("staff-jal", {"pb.jalandhar": [Role.CASHIER]}, superuser=False)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="staff-jal")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="payment_imports"))

    listing = staff.get("/admin/payment_imports/importrun/")
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 0
    assert staff.get("/admin/payment_imports/importrow/").context["cl"].result_count == 0
    form = staff.get(ADD)
    assert list(form.context["form"].fields["tenant"].queryset.values_list("code", flat=True)) == ["pb.jalandhar"]
    assert upload(staff, tenant=CITY).status_code == 200  # pb.amritsar is not offered: the form refuses it
    assert ImportRun.objects.count() == 1
