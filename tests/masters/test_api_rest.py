"""REST face of the masters: listing, filters, ordering, pagination, writes and tenant scoping."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_project.errors import DomainError
from masters.models import BusinessService, IdFormat, Role, TaxHeadMaster, TaxPeriod
from masters.services import catalogue

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
EMPLOYEE_OF_AMRITSAR = {"pb.amritsar": [Role.EMPLOYEE]}


def _period(tenant, service, code, year):
    return TaxPeriod.objects.create(
        tenant=tenant,
        service=service,
        code=code,
        from_date=dt.datetime(year, 4, 1, tzinfo=IST),
        to_date=dt.datetime(year + 1, 3, 31, 23, 59, 59, 999000, tzinfo=IST),
        period_cycle="ANNUAL",
        financial_year=f"{year}-{(year + 1) % 100:02d}",
    )


@pytest.fixture
def masters(tenant_factory):
    pb, amritsar, jalandhar = tenant_factory("pb"), tenant_factory("pb.amritsar"), tenant_factory("pb.jalandhar")
    rows = {
        "pb_pt": BusinessService.objects.create(
            tenant=pb,
            code="PT",
            business_service="PropertyTax",
            collection_modes_not_allowed=["DD", "OFFLINE_NEFT"],
            part_payment_allowed=True,
            min_amount_payable=Decimal("100.00"),
            demand_update_time=86400000,
        ),
        "pb_ws": BusinessService.objects.create(tenant=pb, code="WS", business_service="WaterCharges"),
        "asr_pt": BusinessService.objects.create(tenant=amritsar, code="PT", business_service="PropertyTax ASR"),
        "jal_tl": BusinessService.objects.create(tenant=jalandhar, code="TL", business_service="TradeLicence"),
        "pt_tax": TaxHeadMaster.objects.create(
            tenant=pb, code="PT_TAX", service="PT", name="Property tax", category="TAX", order=3
        ),
        "pt_rebate": TaxHeadMaster.objects.create(
            tenant=pb, code="PT_TIME_REBATE", service="PT", name="Time rebate", category="REBATE", order=0
        ),
        "ws_charge": TaxHeadMaster.objects.create(
            tenant=pb, code="WS_CHARGE", service="WS", name="Water charge", category="CHARGES", order=1
        ),
        "asr_pt_tax": TaxHeadMaster.objects.create(
            tenant=amritsar, code="PT_TAX", service="PT", name="Property tax ASR", category="TAX", order=5
        ),
        "jal_tl_tax": TaxHeadMaster.objects.create(
            tenant=jalandhar, code="TL_TAX", service="TL", name="Licence fee", category="FEE", order=0
        ),
        "pt_2023": _period(pb, "PT", "PTAN2023", 2023),
        "pt_2024": _period(pb, "PT", "PTAN2024", 2024),
        "asr_2024": _period(amritsar, "PT", "PTAN2024", 2024),
        "jal_2024": _period(jalandhar, "TL", "TLAN2024", 2024),
        "pb_bill": IdFormat.objects.create(tenant=pb, id_name="billnumberid", format="BILLNO-{module}-[SEQ_PB]"),
        "jal_bill": IdFormat.objects.create(tenant=jalandhar, id_name="billnumberid", format="JAL-[SEQ_JAL]"),
    }
    return rows


def _codes(response):
    return [(row["tenant"], row["code"]) for row in response.json()["results"]]


# --- reading ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_business_service_list_whole_body(masters, api_client_for):
    client = api_client_for("emp", EMPLOYEE_OF_AMRITSAR)
    response = client.get("/api/v1/business-services/", {"tenant": "pb", "code": "PT"})
    assert response.status_code == 200
    pt = masters["pb_pt"]
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": pt.pk,
                "tenant": "pb",
                "code": "PT",
                "business_service": "PropertyTax",
                "collection_modes_not_allowed": ["DD", "OFFLINE_NEFT"],
                "part_payment_allowed": True,
                "is_advance_allowed": False,
                "is_bill_amendment_enabled": False,
                "fractional_payment_allowed": False,
                "min_amount_payable": "100.00",
                "demand_update_time": 86400000,
                "is_voucher_creation_enabled": False,
                "bill_genie_url": "",
                "type": "",
                "is_active": True,
                "is_citizen": False,
                "demand_refresh_url": "",
                "extra": {},
                "updated_at": pt.updated_at.isoformat().replace("+00:00", "Z"),
            }
        ],
    }


@pytest.mark.django_db
def test_city_employee_sees_their_city_and_state_but_not_another_city(masters, api_client_for):
    client = api_client_for("emp", EMPLOYEE_OF_AMRITSAR)
    assert _codes(client.get("/api/v1/business-services/")) == [("pb", "PT"), ("pb", "WS"), ("pb.amritsar", "PT")]
    assert _codes(client.get("/api/v1/tax-heads/")) == [
        ("pb", "PT_TIME_REBATE"),
        ("pb", "PT_TAX"),
        ("pb", "WS_CHARGE"),
        ("pb.amritsar", "PT_TAX"),
    ]
    assert _codes(client.get("/api/v1/tax-periods/")) == [
        ("pb", "PTAN2023"),
        ("pb", "PTAN2024"),
        ("pb.amritsar", "PTAN2024"),
    ]
    id_formats = client.get("/api/v1/id-formats/").json()["results"]
    assert [(row["tenant"], row["id_name"]) for row in id_formats] == [("pb", "billnumberid")]
    for url in (
        f"/api/v1/business-services/{masters['jal_tl'].pk}/",
        f"/api/v1/tax-heads/{masters['jal_tl_tax'].pk}/",
        f"/api/v1/tax-periods/{masters['jal_2024'].pk}/",
        f"/api/v1/id-formats/{masters['jal_bill'].pk}/",
    ):
        response = client.get(url)
        assert (response.status_code, response.json()) == (
            404,
            {"code": "NOT_FOUND", "message": "Not found.", "fields": {}},
        ), url
    assert client.get(f"/api/v1/tax-heads/{masters['asr_pt_tax'].pk}/").json()["name"] == "Property tax ASR"


@pytest.mark.django_db
def test_state_role_reaches_every_city(masters, api_client_for):
    client = api_client_for("admin", {"pb": [Role.BILLING_ADMIN]})
    assert len(client.get("/api/v1/business-services/").json()["results"]) == 4
    assert client.get(f"/api/v1/tax-heads/{masters['jal_tl_tax'].pk}/").status_code == 200


@pytest.mark.django_db
def test_user_without_any_role_is_refused(masters, api_client_for):
    client = api_client_for("nobody", {})
    response = client.get("/api/v1/tax-heads/")
    assert (response.status_code, response.json()) == (
        403,
        {"code": "PERMISSION_DENIED", "message": "Your account has no role in any tenant.", "fields": {}},
    )


@pytest.mark.django_db
def test_tax_head_filters(masters, api_client_for):
    client = api_client_for("emp", EMPLOYEE_OF_AMRITSAR)
    assert _codes(client.get("/api/v1/tax-heads/", {"service": "PT", "category": "TAX"})) == [
        ("pb", "PT_TAX"),
        ("pb.amritsar", "PT_TAX"),
    ]
    assert _codes(client.get("/api/v1/tax-heads/", {"code": "PT_TIME_REBATE,WS_CHARGE"})) == [
        ("pb", "PT_TIME_REBATE"),
        ("pb", "WS_CHARGE"),
    ]
    assert _codes(client.get("/api/v1/tax-heads/", {"name": "REBATE"})) == [("pb", "PT_TIME_REBATE")]
    assert _codes(client.get("/api/v1/tax-heads/", {"tenant": "pb.amritsar"})) == [("pb.amritsar", "PT_TAX")]
    assert _codes(client.get("/api/v1/tax-heads/", {"effective_for": "pb.amritsar", "service": "PT"})) == [
        ("pb", "PT_TIME_REBATE"),
        ("pb.amritsar", "PT_TAX"),
    ]
    bad = client.get("/api/v1/tax-heads/", {"category": "BRIBE"})
    assert bad.status_code == 400
    assert bad.json() == {
        "code": "VALIDATION_ERROR",
        "message": "Invalid input.",
        "fields": {"category": ["Select a valid choice. BRIBE is not one of the available choices."]},
    }


@pytest.mark.django_db
def test_tax_period_filters(masters, api_client_for):
    client = api_client_for("emp", EMPLOYEE_OF_AMRITSAR)
    assert _codes(client.get("/api/v1/tax-periods/", {"financial_year": "2023-24"})) == [("pb", "PTAN2023")]
    assert _codes(client.get("/api/v1/tax-periods/", {"from_date_after": "2024-04-01T00:00:00+05:30"})) == [
        ("pb", "PTAN2024"),
        ("pb.amritsar", "PTAN2024"),
    ]
    assert _codes(client.get("/api/v1/tax-periods/", {"to_date_before": "2024-04-01T00:00:00+05:30"})) == [
        ("pb", "PTAN2023")
    ]
    assert _codes(client.get("/api/v1/tax-periods/", {"date": "2023-12-25T10:00:00Z"})) == [("pb", "PTAN2023")]
    assert _codes(client.get("/api/v1/tax-periods/", {"effective_for": "pb.amritsar"})) == [
        ("pb", "PTAN2023"),
        ("pb.amritsar", "PTAN2024"),
    ]
    detail = client.get(f"/api/v1/tax-periods/{masters['pt_2024'].pk}/").json()
    assert (detail["from_date"], detail["to_date"], detail["period_cycle"]) == (
        "2024-03-31T18:30:00Z",
        "2025-03-31T18:29:59.999000Z",
        "ANNUAL",
    )


@pytest.mark.django_db
def test_ordering_and_unknown_ordering_field(masters, api_client_for):
    client = api_client_for("emp", EMPLOYEE_OF_AMRITSAR)
    ordered = client.get("/api/v1/tax-heads/", {"ordering": "-order,code"})
    assert [(row["code"], row["order"]) for row in ordered.json()["results"]] == [
        ("PT_TAX", 5),
        ("PT_TAX", 3),
        ("WS_CHARGE", 1),
        ("PT_TIME_REBATE", 0),
    ]
    bad = client.get("/api/v1/tax-heads/", {"ordering": "secret"})
    assert bad.status_code == 400
    assert bad.json() == {
        "code": "VALIDATION_ERROR",
        "message": "Invalid input.",
        "fields": {
            "ordering": [
                "Unknown ordering field(s): secret. Allowed: category, code, id, name, order, service, tenant__code, "
                "updated_at."
            ]
        },
    }


@pytest.mark.django_db
def test_pagination(masters, api_client_for):
    client = api_client_for("emp", EMPLOYEE_OF_AMRITSAR)
    first = client.get("/api/v1/tax-heads/", {"page_size": 3, "ordering": "id"}).json()
    assert first["count"] == 4
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/tax-heads/?ordering=id&page=2&page_size=3"
    assert [row["id"] for row in first["results"]] == sorted(
        [masters[k].pk for k in ("pt_tax", "pt_rebate", "ws_charge")]
    )
    second = client.get("/api/v1/tax-heads/", {"page_size": 3, "ordering": "id", "page": 2}).json()
    assert [row["id"] for row in second["results"]] == [masters["asr_pt_tax"].pk]
    assert second["next"] is None
    beyond = client.get("/api/v1/tax-heads/", {"page": 9})
    assert beyond.status_code == 404
    assert beyond.json() == {"code": "NOT_FOUND", "message": "Invalid page.", "fields": {}}


@pytest.mark.django_db
def test_tenants_are_read_only_and_addressed_by_code(masters, api_client_for):
    client = api_client_for("emp", EMPLOYEE_OF_AMRITSAR)
    listing = client.get("/api/v1/tenants/")
    assert listing.json()["results"] == [
        {"code": "pb", "name": "pb", "state": None, "is_state": True, "is_active": True},
        {"code": "pb.amritsar", "name": "pb.amritsar", "state": "pb", "is_state": False, "is_active": True},
    ]
    assert client.get("/api/v1/tenants/pb.amritsar/").json()["state"] == "pb"
    assert client.get("/api/v1/tenants/pb.jalandhar/").status_code == 404
    refused = client.post("/api/v1/tenants/", {"code": "pb.x"})
    assert (refused.status_code, refused.json()["code"]) == (405, "METHOD_NOT_ALLOWED")


# --- writing ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_billing_admin_creates_a_business_service(masters, api_client_for):
    client = api_client_for("admin", {"pb.amritsar": [Role.BILLING_ADMIN]})
    response = client.post(
        "/api/v1/business-services/",
        {
            "tenant": "pb.amritsar",
            "code": "WS",
            "business_service": "WaterCharges ASR",
            "collection_modes_not_allowed": ["CHEQUE"],
            "is_advance_allowed": True,
            "min_amount_payable": "50.5",
        },
    )
    assert response.status_code == 201
    row = BusinessService.objects.get(tenant__code="pb.amritsar", code="WS")
    assert response.json() == {
        "id": row.pk,
        "tenant": "pb.amritsar",
        "code": "WS",
        "business_service": "WaterCharges ASR",
        "collection_modes_not_allowed": ["CHEQUE"],
        "part_payment_allowed": False,
        "is_advance_allowed": True,
        "is_bill_amendment_enabled": False,
        "fractional_payment_allowed": False,
        "min_amount_payable": "50.50",
        "demand_update_time": None,
        "is_voucher_creation_enabled": False,
        "bill_genie_url": "",
        "type": "",
        "is_active": True,
        "is_citizen": False,
        "demand_refresh_url": "",
        "extra": {},
        "updated_at": row.updated_at.isoformat().replace("+00:00", "Z"),
    }
    assert row.min_amount_payable == Decimal("50.50")


@pytest.mark.django_db
def test_employee_cannot_create_masters(masters, api_client_for):
    client = api_client_for("emp", EMPLOYEE_OF_AMRITSAR)
    before = BusinessService.objects.count()
    response = client.post(
        "/api/v1/business-services/", {"tenant": "pb.amritsar", "code": "XX", "business_service": "X"}
    )
    assert response.status_code == 403
    assert response.json() == {
        "code": "PERMISSION_DENIED",
        "message": "Only a BILLING_ADMIN may change master data.",
        "fields": {},
    }
    assert BusinessService.objects.count() == before


@pytest.mark.django_db
def test_city_admin_cannot_write_for_the_state_or_another_city(masters, api_client_for):
    client = api_client_for("admin", {"pb.amritsar": [Role.BILLING_ADMIN]})
    response = client.post("/api/v1/id-formats/", {"tenant": "pb", "id_name": "x", "format": "X-[SEQ]"})
    assert response.status_code == 403
    assert response.json() == {
        "code": "PERMISSION_DENIED",
        "message": "You need one of the roles BILLING_ADMIN in pb to create master data.",
        "fields": {},
    }
    state_row = client.patch(f"/api/v1/tax-heads/{masters['pt_tax'].pk}/", {"order": 9})
    assert state_row.status_code == 403
    assert state_row.json()["message"] == "You need one of the roles BILLING_ADMIN in pb to change master data."
    other_city = client.patch(f"/api/v1/tax-heads/{masters['jal_tl_tax'].pk}/", {"order": 9})
    assert other_city.status_code == 404
    assert TaxHeadMaster.objects.get(pk=masters["pt_tax"].pk).order == 3
    assert not IdFormat.objects.filter(id_name="x").exists()


@pytest.mark.django_db
def test_invalid_input_is_refused_with_fields(masters, api_client_for):
    client = api_client_for("admin", {"pb": [Role.BILLING_ADMIN]})
    missing = client.post("/api/v1/tax-heads/", {"tenant": "pb", "code": "PT_X", "category": "BRIBE", "order": "x"})
    assert missing.status_code == 400
    assert missing.json() == {
        "code": "VALIDATION_ERROR",
        "message": "Invalid input.",
        "fields": {
            "service": ["This field is required."],
            "name": ["This field is required."],
            "category": ['"BRIBE" is not a valid choice.'],
            "order": ["A valid integer is required."],
        },
    }
    unknown_service = client.post(
        "/api/v1/tax-heads/", {"tenant": "pb.amritsar", "code": "TL_X", "service": "TL", "name": "X", "category": "FEE"}
    )
    assert unknown_service.status_code == 400
    assert unknown_service.json() == {
        "code": "EG_BS_BUSINESSSERVICE_NOTFOUND",
        "message": "No Business Service masters found for give codes ['TL']",
        "fields": {"service": ["No business service 'TL' for pb.amritsar or its state."]},
    }
    backwards = client.post(
        "/api/v1/tax-periods/",
        {
            "tenant": "pb",
            "service": "PT",
            "code": "BAD",
            "from_date": "2025-04-01T00:00:00+05:30",
            "to_date": "2024-04-01T00:00:00+05:30",
            "period_cycle": "ANNUAL",
            "financial_year": "2025-26",
        },
    )
    assert backwards.status_code == 400
    assert backwards.json() == {
        "code": "INVALID_TAX_PERIOD_RANGE",
        "message": "A tax period cannot end before it starts.",
        "fields": {"to_date": ["Must not be before from_date."]},
    }
    no_tenant = client.post("/api/v1/id-formats/", {"tenant": "pb.nowhere", "id_name": "x", "format": "X"})
    assert no_tenant.status_code == 400
    assert no_tenant.json()["code"] == "TENANT_NOT_FOUND"
    assert not TaxHeadMaster.objects.filter(code__in=["PT_X", "TL_X"]).exists()
    assert not TaxPeriod.objects.filter(code="BAD").exists()


@pytest.mark.django_db
def test_duplicate_natural_key_is_a_conflict(masters, api_client_for):
    client = api_client_for("admin", {"pb": [Role.BILLING_ADMIN]})
    response = client.post(
        "/api/v1/tax-heads/", {"tenant": "pb", "code": "PT_TAX", "service": "PT", "name": "Again", "category": "TAX"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "code": "DUPLICATE_MASTER",
        "message": "A tax head with code 'PT_TAX' already exists in pb.",
        "fields": {"code": ["A tax head with code 'PT_TAX' already exists in pb."]},
    }
    assert TaxHeadMaster.objects.filter(code="PT_TAX").count() == 2


@pytest.mark.django_db
def test_city_admin_overrides_a_state_tax_period_and_updates_it(masters, api_client_for):
    client = api_client_for("admin", {"pb.jalandhar": [Role.BILLING_ADMIN]})
    created = client.post(
        "/api/v1/tax-periods/",
        {
            "tenant": "pb.jalandhar",
            "service": "PT",
            "code": "PTAN2024",
            "from_date": "2024-04-01T00:00:00+05:30",
            "to_date": "2025-03-31T23:59:59.999+05:30",
            "period_cycle": "ANNUAL",
            "financial_year": "2024-25",
        },
    )
    assert created.status_code == 201, created.json()
    period_id = created.json()["id"]
    changed = client.patch(f"/api/v1/tax-periods/{period_id}/", {"period_cycle": "HALFYEAR", "code": "IGNORED"})
    assert changed.status_code == 200
    assert (changed.json()["code"], changed.json()["period_cycle"]) == ("PTAN2024", "HALFYEAR")
    bad_year = client.patch(f"/api/v1/tax-periods/{period_id}/", {"financial_year": "2024/25"})
    assert bad_year.status_code == 400
    assert bad_year.json()["code"] == "INVALID_FINANCIAL_YEAR"
    assert TaxPeriod.objects.get(pk=period_id).financial_year == "2024-25"


@pytest.mark.django_db
def test_put_replaces_and_patch_changes_a_business_service(masters, api_client_for):
    client = api_client_for("admin", {"pb": [Role.BILLING_ADMIN]})
    url = f"/api/v1/business-services/{masters['pb_ws'].pk}/"
    incomplete = client.put(url, {"is_active": False})
    assert incomplete.status_code == 400
    assert incomplete.json()["fields"] == {"business_service": ["This field is required."]}
    replaced = client.put(url, {"business_service": "Water", "part_payment_allowed": True})
    assert replaced.status_code == 200
    patched = client.patch(url, {"demand_refresh_url": "https://ws.example.org/refresh"})
    assert patched.status_code == 200
    row = BusinessService.objects.get(pk=masters["pb_ws"].pk)
    assert (row.code, row.business_service, row.part_payment_allowed, row.demand_refresh_url) == (
        "WS",
        "Water",
        True,
        "https://ws.example.org/refresh",
    )
    gone = client.delete(url)
    assert (gone.status_code, gone.json()) == (
        405,
        {"code": "METHOD_NOT_ALLOWED", "message": 'Method "DELETE" not allowed.', "fields": {}},
    )
    assert BusinessService.objects.filter(pk=masters["pb_ws"].pk).exists()


@pytest.mark.django_db
def test_id_format_create_and_update(masters, api_client_for):
    client = api_client_for("admin", {"pb.amritsar": [Role.BILLING_ADMIN]})
    created = client.post(
        "/api/v1/id-formats/", {"tenant": "pb.amritsar", "id_name": "billnumberid", "format": "ASR-[SEQ_ASR]"}
    )
    assert created.status_code == 201
    body = created.json()
    assert body == {"id": body["id"], "tenant": "pb.amritsar", "id_name": "billnumberid", "format": "ASR-[SEQ_ASR]"}
    updated = client.put(f"/api/v1/id-formats/{body['id']}/", {"format": "ASR2-[SEQ_ASR]"})
    assert updated.json()["format"] == "ASR2-[SEQ_ASR]"
    assert IdFormat.objects.get(pk=body["id"]).format == "ASR2-[SEQ_ASR]"


def test_an_empty_patch_changes_nothing_on_every_master(masters, api_client_for):
    """PATCH {} is a partial update with no changes: 200 and the row as it was (it was a TypeError 500 on id
    formats)."""
    client = api_client_for("admin", {"pb": [Role.BILLING_ADMIN]})
    for path, row in (
        ("id-formats", masters["pb_bill"]),
        ("business-services", masters["pb_pt"]),
        ("tax-heads", masters["pt_tax"]),
        ("tax-periods", masters["pt_2024"]),
    ):
        before = client.get(f"/api/v1/{path}/{row.pk}/").json()
        response = client.patch(f"/api/v1/{path}/{row.pk}/", {}, format="json")
        assert (response.status_code, response.json()) == (200, before), path
    patched = client.patch(f"/api/v1/id-formats/{masters['pb_bill'].pk}/", {"format": "PB-[SEQ_PB2]"}, format="json")
    assert (patched.status_code, patched.json()["format"]) == (200, "PB-[SEQ_PB2]")
    assert IdFormat.objects.get(pk=masters["pb_bill"].pk).format == "PB-[SEQ_PB2]"
    put = client.put(f"/api/v1/id-formats/{masters['pb_bill'].pk}/", {}, format="json")
    assert (put.status_code, put.json()) == (
        400,
        {"code": "VALIDATION_ERROR", "message": "Invalid input.", "fields": {"format": ["This field is required."]}},
    )


# --- the catalogue services behind the endpoints (rules the REST serializers do not pre-empt) ---


@pytest.mark.django_db
def test_service_refuses_unknown_category_and_services_of_other_tenants(masters):
    with pytest.raises(DomainError) as excinfo:
        catalogue.tax_head_create(tenant_code="pb", code="PT_X", service="PT", name="X", category="BRIBE")
    assert (excinfo.value.code, excinfo.value.fields) == (
        "INVALID_CATEGORY",
        {"category": ["Must be one of TAX, FEE, REBATE, EXEMPTION, ADVANCE_COLLECTION, PENALTY, FINES, CHARGES."]},
    )
    with pytest.raises(DomainError) as excinfo:  # TL exists for Jalandhar only, not for the state
        catalogue.tax_head_create(tenant_code="pb", code="TL_X", service="TL", name="X", category="FEE")
    assert excinfo.value.code == "EG_BS_BUSINESSSERVICE_NOTFOUND"
    with pytest.raises(DomainError) as excinfo:
        catalogue.tax_period_create(
            tenant_code="pb.amritsar",
            service="TL",
            code="TLAN2024",
            from_date=dt.datetime(2024, 4, 1, tzinfo=IST),
            to_date=dt.datetime(2025, 3, 31, tzinfo=IST),
            period_cycle="ANNUAL",
            financial_year="2024-25",
        )
    assert excinfo.value.code == "EG_BS_BUSINESSSERVICE_NOTFOUND"
    assert not TaxHeadMaster.objects.filter(code__in=["PT_X", "TL_X"]).exists()
    assert not TaxPeriod.objects.filter(tenant__code="pb.amritsar", service="TL").exists()


@pytest.mark.django_db
def test_service_refuses_bad_business_service_values(masters):
    with pytest.raises(DomainError) as excinfo:
        catalogue.business_service_create(
            tenant_code="pb", code="FN", business_service="Fines", min_amount_payable=Decimal("-1")
        )
    assert (excinfo.value.code, excinfo.value.fields) == (
        "VALIDATION_ERROR",
        {"min_amount_payable": ["Must not be negative."]},
    )
    with pytest.raises(DomainError) as excinfo:
        catalogue.business_service_create(
            tenant_code="pb", code="FN", business_service="Fines", demand_refresh_url="not a url"
        )
    assert excinfo.value.fields == {"demand_refresh_url": ["Enter a valid URL."]}
    with pytest.raises(DomainError) as excinfo:
        catalogue.business_service_create(tenant_code="pb", code="PT", business_service="Again")
    assert (excinfo.value.code, excinfo.value.http_status) == ("DUPLICATE_MASTER", 409)
    assert not BusinessService.objects.filter(code="FN").exists()
    assert BusinessService.objects.get(tenant__code="pb", code="PT").business_service == "PropertyTax"


@pytest.mark.django_db
def test_service_refuses_naive_times_and_unknown_rows(masters):
    with pytest.raises(DomainError) as excinfo:
        catalogue.tax_period_update(tax_period_id=masters["pt_2024"].pk, to_date=dt.datetime(2025, 3, 31))
    assert (excinfo.value.code, excinfo.value.fields) == ("VALIDATION_ERROR", {"to_date": ["Must be timezone-aware."]})
    with pytest.raises(DomainError) as excinfo:
        catalogue.id_format_update(id_format_id=987654, format="X")
    assert (excinfo.value.code, excinfo.value.http_status) == ("NOT_FOUND", 404)
    assert TaxPeriod.objects.get(pk=masters["pt_2024"].pk).to_date == dt.datetime(
        2025, 3, 31, 23, 59, 59, 999000, tzinfo=IST
    )


@pytest.mark.postgres
@pytest.mark.django_db
def test_update_locks_the_row_before_writing(masters):
    with CaptureQueriesContext(connection) as queries:
        catalogue.tax_head_update(tax_head_id=masters["pt_tax"].pk, order=7)
    statements = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("SELECT", "UPDATE"))]
    assert statements[0].startswith("SELECT")
    assert 'FOR UPDATE OF "masters_taxheadmaster"' in statements[0]
    assert statements[-1].startswith('UPDATE "masters_taxheadmaster"')
    assert [s.split(" ", 1)[0] for s in statements] == ["SELECT", "SELECT", "UPDATE"]  # lock, service check, write
    assert TaxHeadMaster.objects.get(pk=masters["pt_tax"].pk).order == 7
