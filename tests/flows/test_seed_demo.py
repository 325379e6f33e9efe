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

    assert "demo demands: 3 created" in first
    assert "demo amendment: DN-PT-107-002-000001 awaiting approval" in first
    assert "Demo logins" in first
    assert "run_sandbox_gateway" in first
    assert "demo demands: 0 created" in second
    assert "demo amendment" not in second
    assert sorted(Demand.objects.values_list("consumer_code", flat=True)) == ["PT-107-001", "PT-107-001", "PT-107-002"]
    amendment = Amendment.objects.get()
    assert (amendment.amendment_id, amendment.state, amendment.status, amendment.created_by) == (
        "DN-PT-107-002-000001",
        "APPROVALPENDING",
        "INWORKFLOW",
        "demo-module",
    )
    assert get_user_model().objects.get(username="admin").is_superuser


@pytest.mark.django_db
@override_settings(PRODUCTION=True)
def test_seed_demo_is_refused_in_production() -> None:
    with pytest.raises(CommandError, match="refused when DJANGO_ENV=production"):
        seed()
    assert not Demand.objects.exists()
