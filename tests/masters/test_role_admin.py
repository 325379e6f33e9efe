"""Granting and revoking roles in the admin goes through ``user_role_grant`` / ``user_role_revoke``: a billing
administrator grants in her own tenants only, and never SUPERUSER or SYSTEM."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from billing_project.errors import DomainError
from masters.access import caller_for
from masters.models import Role, UserRole
from masters.services.accounts import user_role_grant, user_role_revoke

pytestmark = pytest.mark.django_db
ROLES = "/admin/masters/userrole/"


def test_a_billing_admin_grants_a_role_in_her_city_through_the_form(user_factory: Callable[..., Any]) -> None:
    admin = user_factory("ba", {"pb.amritsar": [Role.BILLING_ADMIN]})
    user_factory("newbie", {})
    client = Client()
    client.force_login(admin)
    form = client.get(f"{ROLES}add/")
    fields = form.context["adminform"].form.fields
    assert [t.code for t in fields["tenant"].queryset] == ["pb.amritsar"]
    assert {v for v, _ in fields["role"].choices} - {""} == {
        "BILLING_ADMIN",
        "EMPLOYEE",
        "CASHIER",
        "AMENDMENT_APPROVER",
        "CITIZEN",
    }
    tenant = fields["tenant"].queryset.get()
    done = client.post(f"{ROLES}add/", {"username": "newbie", "tenant": tenant.pk, "role": "CASHIER"})
    assert done.status_code == 302
    assert list(UserRole.objects.filter(user__username="newbie").values_list("tenant__code", "role")) == [
        ("pb.amritsar", "CASHIER")
    ]


def test_the_services_refuse_other_tenants_and_superuser_roles(user_factory: Callable[..., Any]) -> None:
    admin = caller_for(user_factory("ba", {"pb.amritsar": [Role.BILLING_ADMIN]}))
    other = user_factory("other", {"pb.jalandhar": [Role.CASHIER]})
    for tenant, role in (("pb.jalandhar", "CASHIER"), ("pb.amritsar", "SUPERUSER"), ("pb.amritsar", "SYSTEM")):
        with pytest.raises(DomainError) as refused:
            user_role_grant(caller=admin, user_id=other.pk, tenant_code=tenant, role=role)
        assert refused.value.code == "PERMISSION_DENIED"
    grant = UserRole.objects.get(user=other)
    with pytest.raises(DomainError):
        user_role_revoke(caller=admin, user_role_id=grant.pk)
    assert UserRole.objects.filter(pk=grant.pk).exists()


def test_revoke_is_an_action_through_the_service(user_factory: Callable[..., Any]) -> None:
    admin = user_factory("ba", {"pb.amritsar": [Role.BILLING_ADMIN]})
    user_factory("clerk1", {"pb.amritsar": [Role.EMPLOYEE]})
    grant = UserRole.objects.get(user__username="clerk1")
    client = Client()
    client.force_login(admin)
    done = client.post(ROLES, {"action": "revoke_roles", "_selected_action": [str(grant.pk)]})
    assert done.status_code == 302
    assert not UserRole.objects.filter(pk=grant.pk).exists()
