"""Admin of the masters app: the MDMS upload page, every changelist, read-only sequences, tenant scoping."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from masters.models import (
    BusinessService,
    GLCode,
    IdFormat,
    IdSequence,
    Payer,
    Role,
    TaxHeadMaster,
    TaxPeriod,
    Tenant,
)
from masters.services import mdms_load

DATA_DIR = Path(__file__).parent / "data" / "mdms_pb"
SEED_DIR = Path(__file__).resolve().parents[2] / "masters" / "fixtures" / "mdms" / "pb"
UPLOAD_URL = "/admin/masters/businessservice/upload-mdms/"
MASTER_TABLES = (Tenant, BusinessService, TaxHeadMaster, TaxPeriod, GLCode, IdFormat, IdSequence)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MASTER_TABLES}


def upload(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes(), "application/json")


def texts(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_client_pb(user_factory: Callable[..., Any]) -> Client:
    user_factory("root", superuser=True)
    client = Client()
    assert client.login(username="root", password="pw-root")
    return client


def test_upload_url_is_named() -> None:
    assert reverse("admin:masters_businessservice_upload_mdms") == UPLOAD_URL


def test_changelist_links_to_the_upload_page(admin_client_pb: Client) -> None:
    response = admin_client_pb.get("/admin/masters/businessservice/")
    assert response.status_code == 200
    assert f'href="{UPLOAD_URL}"' in response.content.decode()


def test_upload_page_shows_the_form(admin_client_pb: Client) -> None:
    response = admin_client_pb.get(UPLOAD_URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'enctype="multipart/form-data"' in body
    assert 'name="documents"' in body
    assert "multiple" in body
    assert "BillingService.TaxPeriod" in body


def test_uploading_files_loads_them_and_reports(admin_client_pb: Client) -> None:
    files = [upload(path) for path in sorted(SEED_DIR.glob("*.json"))]

    response = admin_client_pb.post(UPLOAD_URL, {"documents": files}, follow=True)

    assert response.redirect_chain == [("/admin/masters/businessservice/", 302)]
    assert texts(response) == [
        "BusinessService.json [pb]: BusinessService 3 created, 0 updated, 0 unchanged",
        "TaxHeadMaster.json [pb]: TaxHeadMaster 7 created, 0 updated, 0 unchanged",
        "TaxPeriod.json [pb]: TaxPeriod 5 created, 0 updated, 0 unchanged",
        "Tenants created: pb",
        "Total: 15 created, 0 updated, 0 unchanged in 3 file(s); 0 file(s) skipped",
    ]
    assert (BusinessService.objects.count(), TaxHeadMaster.objects.count(), TaxPeriod.objects.count()) == (3, 7, 5)
    assert BusinessService.objects.get(code="PT").is_bill_amendment_enabled is True


def test_uploading_a_bad_file_shows_the_error_and_writes_nothing(admin_client_pb: Client) -> None:
    bad = json.dumps(
        {
            "tenantId": "pb",
            "moduleName": "BillingService",
            "TaxPeriod": [{"code": "A", "service": "PT", "fromDate": "soon", "toDate": 1, "periodCycle": "ANNUAL"}],
        }
    ).encode()
    before = counts()

    response = admin_client_pb.post(
        UPLOAD_URL,
        {
            "documents": [
                upload(SEED_DIR / "BusinessService.json"),
                SimpleUploadedFile("periods.json", bad, "application/json"),
            ]
        },
    )

    assert response.status_code == 200
    assert texts(response) == [
        "The upload was refused; nothing was loaded.",
        "periods.json: TaxPeriod[0]: fromDate must be epoch milliseconds, got 'soon'",
    ]
    assert counts() == before


def test_uploading_nothing_is_a_form_error(admin_client_pb: Client) -> None:
    response = admin_client_pb.post(UPLOAD_URL, {})
    assert response.status_code == 200
    assert response.context["form"].errors == {"documents": ["This field is required."]}
    assert counts()["Tenant"] == 0


def test_upload_is_for_superusers_only(user_factory: Callable[..., Any]) -> None:
    """A BILLING_ADMIN role (which gives add_businessservice) is per tenant, while the files may name any tenant."""
    user = user_factory("clerk", {"pb": [Role.BILLING_ADMIN]})
    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="view_businessservice"))
    assert user.has_perm("masters.add_businessservice")
    client = Client()
    client.force_login(user)

    get = client.get(UPLOAD_URL)
    post = client.post(UPLOAD_URL, {"documents": [upload(SEED_DIR / "BusinessService.json")]})

    assert (get.status_code, post.status_code) == (403, 403)
    assert BusinessService.objects.count() == 0
    assert UPLOAD_URL not in client.get("/admin/masters/businessservice/").content.decode()


@pytest.fixture
def loaded(user_factory: Callable[..., Any]) -> dict[str, Any]:
    """The reference masters, a second state, a city, a payer, a role and two sequences."""
    names = [
        "BillingService_BusinessService.json",
        "BillingService_TaxHeadMaster.json",
        "BillingService_TaxPeriod.json",
        "BillingService_GLCode.json",
        "common-masters_IdFormat_billing_excerpt.json",
    ]
    mdms_load(documents=[(name, (DATA_DIR / name).read_bytes()) for name in names])
    hr_heads = {"code": "HR_TAX", "service": "HRT", "name": "Haryana tax", "category": "FEE", "order": "0"}
    mdms_load(
        documents=[
            ("hr.json", json.dumps({"tenantId": "hr", "moduleName": "BillingService", "TaxHeadMaster": [hr_heads]})),
            ("city.json", json.dumps({"tenantId": "pb.amritsar", "moduleName": "BillingService", "GLCode": []})),
        ]
    )
    pb = Tenant.objects.get(code="pb")
    cashier = user_factory("cashier1", {"pb.amritsar": [Role.CASHIER]})
    Payer.objects.create(tenant=pb, name="Asha Rani", mobile_number="9876543210", email="asha@example.org")
    Payer.objects.create(tenant=Tenant.objects.get(code="hr"), name="Ravi", mobile_number="9123456780")
    IdSequence.objects.create(name="SEQ_EGBS_BILLNUMBER_PB", last_value=7)
    IdSequence.objects.create(name="SEQ_BS_MUTATION_PB", last_value=0)
    return {"pb": pb, "cashier": cashier}


CHANGELISTS = [
    pytest.param("tenant", {"q": "amritsar", "state__id__exact": "{pb}"}, ["pb.amritsar"], id="tenant"),
    pytest.param("userrole", {"q": "cashier1", "role__exact": "CASHIER"}, ["cashier1 CASHIER@pb.amritsar"], id="role"),
    pytest.param(
        "businessservice",
        {"q": "Property", "tenant__id__exact": "{pb}", "is_active__exact": "1"},
        ["PT (pb)", "TX.Transfer_Property_Fees (pb)"],
        id="businessservice",
    ),
    pytest.param(
        "taxheadmaster",
        {"q": "WS_", "category__exact": "PENALTY", "service__exact": "WS"},
        ["WS_TIME_PENALTY (pb)"],
        id="taxhead",
    ),
    pytest.param(
        "taxperiod",
        {"q": "2020-2030", "period_cycle__exact": "FORTENYEARS", "tenant__id__exact": "{pb}"},
        ["FSM.TRIP_CHARGES/FSMTRIPCHARGE10YRS (pb)"],
        id="taxperiod",
    ),
    pytest.param("glcode", {"q": "BIRTH", "cb__exact": "pb.amritsar"}, ["BIRTH_CERT"], id="glcode"),
    pytest.param("payer", {"q": "98765", "type__exact": "CITIZEN"}, ["Asha Rani (9876543210)"], id="payer"),
    pytest.param(
        "idformat",
        {"q": "bill", "tenant__id__exact": "{pb}"},
        ["billnumberid=BILL-[SEQ_EGOV_COMMON_TEST_AUTOCRE] (pb)"],
        id="idformat",
    ),
    pytest.param("idsequence", {"q": "SEQ_", "used": "yes"}, ["SEQ_EGBS_BILLNUMBER_PB=7"], id="idsequence"),
]


@pytest.mark.parametrize(("model", "params", "expected"), CHANGELISTS)
def test_changelists_answer_with_search_and_filter(
    admin_client_pb: Client, loaded: dict[str, Any], model: str, params: dict[str, str], expected: list[str]
) -> None:
    url = f"/admin/masters/{model}/"
    assert admin_client_pb.get(url).status_code == 200
    query = {key: value.format(pb=loaded["pb"].pk) for key, value in params.items()}

    response = admin_client_pb.get(url, query)

    assert response.status_code == 200
    changelist = response.context["cl"]
    assert sorted(str(row) for row in changelist.result_list) == expected


def test_id_sequences_are_read_only(admin_client_pb: Client, loaded: dict[str, Any]) -> None:
    sequence = IdSequence.objects.get(name="SEQ_EGBS_BILLNUMBER_PB")
    change_url = f"/admin/masters/idsequence/{sequence.pk}/change/"

    view = admin_client_pb.get(change_url)
    assert view.status_code == 200
    assert 'name="last_value"' not in view.content.decode()
    assert admin_client_pb.post(change_url, {"name": sequence.name, "last_value": "1"}).status_code == 403
    assert admin_client_pb.get("/admin/masters/idsequence/add/").status_code == 403
    assert admin_client_pb.post(f"/admin/masters/idsequence/{sequence.pk}/delete/", {"post": "yes"}).status_code == 403
    sequence.refresh_from_db()
    assert sequence.last_value == 7


def test_staff_see_their_tenants_and_change_only_where_billing_admin(
    user_factory: Callable[..., Any], loaded: dict[str, Any]
) -> None:
    user = user_factory("cityadmin", {"pb.amritsar": [Role.BILLING_ADMIN]})
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_taxheadmaster", "change_taxheadmaster", "view_tenant"])
    )
    client = Client()
    client.force_login(user)

    heads = client.get("/admin/masters/taxheadmaster/", {"q": "TAX"})
    tenants = client.get("/admin/masters/tenant/")

    assert heads.status_code == 200
    assert {row.tenant.code for row in heads.context["cl"].result_list} == {"pb"}  # the state's, not hr's
    assert sorted(str(row) for row in tenants.context["cl"].result_list) == ["pb", "pb.amritsar"]
    state_head = TaxHeadMaster.objects.get(code="PT_TAX")
    assert client.post(f"/admin/masters/taxheadmaster/{state_head.pk}/change/", {"name": "x"}).status_code == 403
    hr_head = TaxHeadMaster.objects.get(code="HR_TAX")
    assert client.get(f"/admin/masters/taxheadmaster/{hr_head.pk}/change/").status_code == 302  # not found for them
    state_head.refresh_from_db()
    assert state_head.name == "propertytax"
