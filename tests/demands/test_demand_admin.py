"""Demand admin: read-only lists with filters, detail page, consumer dues page, cancel action via the service."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from demands.models import Demand, DemandHistory

PERIOD = {"taxPeriodFrom": 1554076799000, "taxPeriodTo": 1585679399000}


def _demand(consumer_code: str, tenant: str = "pb.amritsar") -> dict:
    return {
        "tenantId": tenant,
        "consumerCode": consumer_code,
        "consumerType": "BUILTUP",
        "businessService": "PT",
        **PERIOD,
        "demandDetails": [
            {"taxHeadMasterCode": "PT_TAX", "taxAmount": 1000},
            {"taxHeadMasterCode": "PT_TIME_REBATE", "taxAmount": -50},
        ],
    }


@pytest.fixture
def demands(db, api_client_for):
    call_command("load_mdms", "masters/fixtures/mdms", stdout=io.StringIO())
    amritsar = api_client_for("amritsar-emp", {"pb.amritsar": ["EMPLOYEE"]})
    jalandhar = api_client_for("jalandhar-emp", {"pb.jalandhar": ["EMPLOYEE"]})
    assert (
        amritsar.post("/billing-service/demand/_create", {"Demands": [_demand("PT-1")]}, format="json").status_code
        == 201
    )
    assert (
        jalandhar.post(
            "/billing-service/demand/_create", {"Demands": [_demand("PT-J", "pb.jalandhar")]}, format="json"
        ).status_code
        == 201
    )
    return Demand.objects.get(consumer_code="PT-1"), Demand.objects.get(consumer_code="PT-J")


def test_admin_pages_answer(client, django_user_model, demands):
    demand, _ = demands
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))
    for url in [
        "/admin/demands/demand/",
        "/admin/demands/demand/?status__exact=ACTIVE&business_service=PT&q=PT-1",
        f"/admin/demands/demand/{demand.pk}/change/",
        "/admin/demands/consumeraccount/?q=PT-1",
        f"/admin/demands/consumeraccount/{demand.account_id}/dues/",
    ]:
        assert client.get(url).status_code == 200, url


def test_dues_page_shows_each_period_and_total(client, django_user_model, demands):
    demand, _ = demands
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))
    page = client.get(f"/admin/demands/consumeraccount/{demand.account_id}/dues/")
    assert page.context["total_due"] == Decimal("950.00")
    assert [(p.tax, p.collected, p.due) for p in page.context["periods"]] == [
        (Decimal("950.00"), Decimal("0.00"), Decimal("950.00"))
    ]


def test_cancel_action_asks_for_a_reason_then_goes_through_the_service(client, django_user_model, demands):
    """The list action now asks for confirmation and a reason first (issue 13), as bill and payment cancels do."""
    demand, _ = demands
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))
    selected = {"action": "cancel_demands", "_selected_action": [str(demand.pk)]}
    asked = client.post("/admin/demands/demand/", selected)
    assert asked.status_code == 200
    assert set(asked.context["form"].fields) == {"reason", "confirm"}
    unconfirmed = client.post("/admin/demands/demand/", {**selected, "apply": "yes", "reason": "Duplicate"})
    assert "confirm" in unconfirmed.context["form"].errors
    assert Demand.objects.get(pk=demand.pk).status == "ACTIVE"
    response = client.post(
        "/admin/demands/demand/", {**selected, "apply": "yes", "reason": "Duplicate", "confirm": "on"}
    )
    assert response.status_code == 302
    demand.refresh_from_db()
    assert demand.additional_details["cancellation"]["reason"] == "Duplicate"
    assert demand.status == "CANCELLED"
    assert list(DemandHistory.objects.filter(demand=demand).values_list("action", "changed_by")) == [
        ("CREATE", "amritsar-emp"),
        ("CANCEL", "root"),
    ]


def test_staff_see_only_their_tenants(client, django_user_model, demands, tenant_factory):
    from masters.models import UserRole

    demand, other = demands
    staff = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    UserRole.objects.create(user=staff, tenant=tenant_factory("pb.amritsar"), role="EMPLOYEE")
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_demand", "view_consumeraccount"]))
    client.force_login(staff)
    listing = client.get("/admin/demands/demand/")
    assert [d.consumer_code for d in listing.context["cl"].result_list] == ["PT-1"]
    assert client.get(f"/admin/demands/demand/{other.pk}/change/").status_code == 302  # not visible: redirected away


def test_cancel_button_on_the_demand_page_asks_then_cancels_and_records_history(client, django_user_model, demands):
    from django.contrib.admin.models import LogEntry

    demand, _ = demands
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))
    page = client.get(f"/admin/demands/demand/{demand.pk}/change/").content.decode()
    assert f'href="/admin/demands/demand/{demand.pk}/cancel/" id="cancel-demand"' in page
    missing = client.post(f"/admin/demands/demand/{demand.pk}/cancel/", {"reason": "", "confirm": "on"})
    assert "reason" in missing.context["form"].errors
    done = client.post(f"/admin/demands/demand/{demand.pk}/cancel/", {"reason": "Wrong owner", "confirm": "on"})
    assert done["Location"] == f"/admin/demands/demand/{demand.pk}/change/"
    demand.refresh_from_db()
    assert demand.status == "CANCELLED"
    assert list(LogEntry.objects.values_list("object_id", "change_message")) == [
        (str(demand.pk), "Cancelled — reason: Wrong owner")
    ]
    again = client.post(f"/admin/demands/demand/{demand.pk}/cancel/", {"reason": "again", "confirm": "on"})
    assert "EG_BS_DEMAND_ALREADY_CANCELLED" in again.content.decode()
