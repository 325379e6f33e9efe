"""``seed_demo`` — what ``make run`` loads: masters, logins, demo demands and an amendment awaiting approval."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from amendments.models import Amendment
from demands.models import Demand


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_creates_the_demo_data_once() -> None:
    first = seed()
    second = seed()

    assert "demo demands: 5 created" in first
    assert "demo amendment: DN-PT-107-002-000001 awaiting approval" in first
    assert "Demo logins" in first
    assert "run_sandbox_gateway" in first
    assert "demo demands: 0 created" in second
    assert "demo amendment" not in second
    assert sorted(Demand.objects.values_list("tenant__code", "consumer_code")) == [
        ("pb.amritsar", "PT-107-001"),
        ("pb.amritsar", "PT-107-001"),
        ("pb.amritsar", "PT-107-002"),
        ("pb.amritsar", "PT-107-003"),
        ("pb.jalandhar", "PT-201-001"),
    ]
    amendment = Amendment.objects.get()
    assert (amendment.amendment_id, amendment.state, amendment.status, amendment.created_by) == (
        "DN-PT-107-002-000001",
        "APPROVALPENDING",
        "INWORKFLOW",
        "demo-module",
    )
    assert get_user_model().objects.get(username="admin").is_superuser
    staff = {
        user.username: (user.is_staff, user.is_superuser, sorted(user.tenant_roles.values_list("tenant__code", "role")))
        for user in get_user_model().objects.filter(username__in=["cashier", "clerk", "approver", "billadmin"])
    }
    assert staff == {
        "cashier": (False, False, [("pb.amritsar", "CASHIER")]),
        "clerk": (False, False, [("pb.amritsar", "EMPLOYEE")]),
        "approver": (False, False, [("pb.amritsar", "AMENDMENT_APPROVER")]),
        "billadmin": (False, False, [("pb.amritsar", "BILLING_ADMIN")]),
    }
    for username in staff:
        assert f"  {username:<12} password {username:<12} pb.amritsar" in first


@pytest.mark.django_db
@override_settings(PRODUCTION=True)
def test_seed_demo_is_refused_in_production() -> None:
    with pytest.raises(CommandError, match="refused when DJANGO_ENV=production"):
        seed()
    assert not Demand.objects.exists()


@pytest.mark.django_db
@override_settings(PAYMENT_GATEWAY_CALLBACK_BASE_URL="http://127.0.0.1:8014")
def test_seed_demo_prints_the_address_make_run_serves_on() -> None:
    """`make run PORT=8014` sets PAYMENT_GATEWAY_CALLBACK_BASE_URL; every printed URL follows it."""
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert "back-office at http://127.0.0.1:8014/admin/ (counter desk http://127.0.0.1:8014/admin/counter/)" in text
    assert "'http://127.0.0.1:8014/billing-service/demand/_search?" in text
    assert "(callbacks to http://127.0.0.1:8014)" in text
    assert ":8000" not in text
