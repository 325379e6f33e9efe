"""Master data added and changed in the admin goes through the catalogue services; refusals show their code
and write nothing; masters are not deleted there; tenants, payers and GL codes are read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from masters.models import BusinessService, IdFormat, Role, TaxHeadMaster

pytestmark = pytest.mark.django_db
BS = "/admin/masters/businessservice/"


@pytest.fixture
def admin_client(user_factory: Callable[..., Any], tenant_factory: Any) -> tuple[Client, Any]:
    tenant = tenant_factory("pb.amritsar")
    user = user_factory("ba", {"pb.amritsar": [Role.BILLING_ADMIN]})
    client = Client()
    client.force_login(user)
    return client, tenant


def bs_form(tenant: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "tenant": tenant.pk,
        "code": "PT",
        "business_service": "PropertyTax",
        "collection_modes_not_allowed": "[]",
        "part_payment_allowed": "on",
        "min_amount_payable": "100",
        "type": "",
        "is_active": "on",
        "bill_genie_url": "",
        "demand_refresh_url": "",
        "extra": "{}",
    }
    return {**data, **overrides}


def test_add_and_change_a_business_service_through_the_services(admin_client: tuple[Client, Any]) -> None:
    client, tenant = admin_client
    added = client.post(f"{BS}add/", bs_form(tenant))
    service = BusinessService.objects.get()
    assert added["Location"] == BS
    assert (service.code, service.part_payment_allowed, str(service.min_amount_payable)) == ("PT", True, "100.00")
    changed = client.post(f"{BS}{service.pk}/change/", bs_form(tenant, min_amount_payable="250"))
    assert changed.status_code == 302
    assert str(BusinessService.objects.get().min_amount_payable) == "250.00"


def test_a_refusal_shows_its_code_and_writes_nothing(admin_client: tuple[Client, Any]) -> None:
    client, tenant = admin_client
    client.get(BS, follow=True)  # (reads the success message of the add)
    client.post(f"{BS}add/", bs_form(tenant), follow=True)
    again = client.post(f"{BS}add/", bs_form(tenant))
    assert "already exists" in again.content.decode()  # the form's own check, before any service call
    assert BusinessService.objects.count() == 1
    service = BusinessService.objects.get()
    negative = client.post(f"{BS}{service.pk}/change/", bs_form(tenant, min_amount_payable="-1"), follow=True)
    texts = [str(m) for m in get_messages(negative.wsgi_request)]
    assert "min_amount_payable cannot be negative. [VALIDATION_ERROR]" in texts, texts
    assert str(BusinessService.objects.get().min_amount_payable) == "100.00"
    renamed = client.post(f"{BS}{service.pk}/change/", bs_form(tenant, code="PT2"), follow=True)
    assert any("Cannot be changed here: code." in str(m) for m in get_messages(renamed.wsgi_request))
    assert BusinessService.objects.get().code == "PT"


def test_masters_are_not_deleted_and_some_pages_are_read_only(admin_client: tuple[Client, Any]) -> None:
    client, tenant = admin_client
    client.post(f"{BS}add/", bs_form(tenant))
    service = BusinessService.objects.get()
    assert client.post(f"{BS}{service.pk}/delete/", {"post": "yes"}).status_code == 403
    assert BusinessService.objects.count() == 1
    for page in ("tenant", "payer", "glcode"):
        assert client.get(f"/admin/masters/{page}/add/").status_code == 403


def test_a_tax_head_and_an_id_format_through_the_services(admin_client: tuple[Client, Any]) -> None:
    client, tenant = admin_client
    client.post(f"{BS}add/", bs_form(tenant))
    head = {"tenant": tenant.pk, "code": "PT_TAX", "service": "PT", "name": "Property tax", "category": "TAX"}
    head |= {"order": "1", "is_debit": "", "is_actual_demand": "on", "extra": "{}"}
    assert client.post("/admin/masters/taxheadmaster/add/", head).status_code == 302
    assert TaxHeadMaster.objects.get().name == "Property tax"
    fmt = {"tenant": tenant.pk, "id_name": "bill.number", "format": "BILL-[SEQ_bill]"}
    assert client.post("/admin/masters/idformat/add/", fmt).status_code == 302
    created = IdFormat.objects.get()
    client.post(f"/admin/masters/idformat/{created.pk}/change/", {**fmt, "format": "B-[SEQ_bill]"})
    assert IdFormat.objects.get().format == "B-[SEQ_bill]"
