"""Tenants, roles and API clients (masters.services.accounts) and the create_api_client command."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from billing_project.errors import DomainError
from masters.access import caller_for
from masters.models import Role, Tenant, UserRole
from masters.services import (
    VALID_ROLES,
    api_client_upsert,
    role_grant,
    role_revoke,
    superuser_ensure,
    tenant_ensure,
)

User = get_user_model()
ALL_ROLES = "SUPERUSER, BILLING_ADMIN, EMPLOYEE, CASHIER, AMENDMENT_APPROVER, CITIZEN, SYSTEM"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def tenants() -> list[tuple[str, str, str | None]]:
    return list(Tenant.objects.order_by("code").values_list("code", "name", "state__code"))


def roles_of(username: str) -> list[tuple[str, str]]:
    return list(
        UserRole.objects.filter(user__username=username)
        .order_by("tenant__code", "role")
        .values_list("tenant__code", "role")
    )


def nothing_written() -> bool:
    return not (Tenant.objects.exists() or User.objects.exists() or UserRole.objects.exists() or Token.objects.exists())


# --- tenant_ensure ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_tenant_ensure_creates_the_state_of_a_city():
    city = tenant_ensure(code="pb.amritsar", name="Amritsar")
    assert (city.code, city.name, city.state.code, city.is_state, city.state_code) == (
        "pb.amritsar",
        "Amritsar",
        "pb",
        False,
        "pb",
    )
    assert tenants() == [("pb", "", None), ("pb.amritsar", "Amritsar", "pb")]


@pytest.mark.django_db
def test_tenant_ensure_is_idempotent_and_only_a_given_name_replaces_the_stored_one():
    first = tenant_ensure(code="pb.amritsar", name="Amritsar")
    assert tenant_ensure(code="pb.amritsar").pk == first.pk
    assert tenant_ensure(code="pb.amritsar", name="   ").name == "Amritsar"
    assert tenant_ensure(code="pb.amritsar", name="Amritsar City").name == "Amritsar City"
    assert tenant_ensure(code="pb", name="Punjab").name == "Punjab"
    tenant_ensure(code="pb.jalandhar")
    assert tenants() == [("pb", "Punjab", None), ("pb.amritsar", "Amritsar City", "pb"), ("pb.jalandhar", "", "pb")]


@pytest.mark.django_db
def test_tenant_ensure_links_a_city_that_was_created_without_its_state():
    Tenant.objects.create(code="pb.amritsar", name="Amritsar")
    tenant_ensure(code="pb.amritsar")
    assert tenants() == [("pb", "", None), ("pb.amritsar", "Amritsar", "pb")]


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["", "PB", "pb.", ".pb", "pb.amritsar.x", "pb amritsar", "pb-amritsar", "pb.Amritsar"])
def test_tenant_ensure_refuses_bad_codes(code):
    with pytest.raises(DomainError) as info:
        tenant_ensure(code=code)
    assert info.value.code == "INVALID_TENANT"
    assert f"Invalid tenant code {code!r}" in info.value.message
    assert "e.g. 'pb' or 'pb.amritsar'" in info.value.message
    assert nothing_written()


# --- api_client_upsert -----------------------------------------------------------------------


@pytest.mark.django_db
def test_api_client_upsert_creates_a_token_user_with_exactly_the_roles():
    user, key = api_client_upsert(
        username="pt-module", tenant_code="pb.amritsar", roles=["system", "EMPLOYEE", "SYSTEM"]
    )
    assert (user.username, user.is_active, user.is_staff, user.is_superuser, user.has_usable_password()) == (
        "pt-module",
        True,
        False,
        False,
        False,
    )
    assert Token.objects.get(user=user).key == key
    assert len(key) == 40
    assert roles_of("pt-module") == [("pb.amritsar", "EMPLOYEE"), ("pb.amritsar", "SYSTEM")]
    assert tenants() == [("pb", "", None), ("pb.amritsar", "", "pb")]
    caller = caller_for(user)
    assert (caller.user_type, caller.has_role("pb.amritsar", [Role.EMPLOYEE]), caller.has_role("pb.jalandhar")) == (
        "EMPLOYEE",
        True,
        False,
    )


@pytest.mark.django_db
def test_api_client_upsert_again_keeps_the_token_and_replaces_the_roles_of_that_tenant_only():
    user, key = api_client_upsert(username="ws-module", tenant_code="pb.amritsar", roles=["SYSTEM", "CASHIER"])
    api_client_upsert(username="ws-module", tenant_code="pb.jalandhar", roles=["EMPLOYEE"])
    again, same_key = api_client_upsert(username="ws-module", tenant_code="pb.amritsar", roles=["SYSTEM", "EMPLOYEE"])
    assert (again.pk, same_key) == (user.pk, key)
    assert roles_of("ws-module") == [
        ("pb.amritsar", "EMPLOYEE"),
        ("pb.amritsar", "SYSTEM"),
        ("pb.jalandhar", "EMPLOYEE"),
    ]
    assert User.objects.count() == 1
    assert Token.objects.count() == 1


@pytest.mark.django_db
def test_api_client_upsert_keeps_an_existing_users_password(user_factory):
    user_factory("clerk", {"pb.amritsar": [Role.EMPLOYEE]})
    user, _ = api_client_upsert(username="clerk", tenant_code="pb.amritsar", roles=["CASHIER"])
    assert user.check_password("pw-clerk")
    assert roles_of("clerk") == [("pb.amritsar", "CASHIER")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("roles", "message"),
    [
        (["SYSTEM", "ROOT", "boss"], f"Unknown role(s): ROOT, BOSS; valid roles: {ALL_ROLES}."),
        ([], f"At least one role is required; valid roles: {ALL_ROLES}."),
        (["  "], f"At least one role is required; valid roles: {ALL_ROLES}."),
    ],
)
def test_api_client_upsert_refuses_unknown_roles_and_writes_nothing(roles, message):
    with pytest.raises(DomainError) as info:
        api_client_upsert(username="pt-module", tenant_code="pb.amritsar", roles=roles)
    assert (info.value.code, info.value.message) == ("INVALID_ROLE", message)
    assert nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("", "A username is required."),
        ("a b", "Invalid username 'a b': letters, digits and @/./+/-/_ only."),
        ("x" * 151, "A username has at most 150 characters."),
    ],
)
def test_api_client_upsert_refuses_bad_usernames(username, message):
    with pytest.raises(DomainError) as info:
        api_client_upsert(username=username, tenant_code="pb.amritsar", roles=["SYSTEM"])
    assert (info.value.code, info.value.message) == ("INVALID_USERNAME", message)
    assert nothing_written()


@pytest.mark.django_db
def test_api_client_upsert_refuses_a_bad_tenant_and_writes_nothing():
    with pytest.raises(DomainError) as info:
        api_client_upsert(username="pt-module", tenant_code="PB", roles=["SYSTEM"])
    assert info.value.code == "INVALID_TENANT"
    assert nothing_written()


def test_valid_roles_are_the_role_choices():
    assert ", ".join(VALID_ROLES) == ALL_ROLES


# --- role_grant / role_revoke / superuser_ensure ---------------------------------------------


@pytest.mark.django_db
def test_role_grant_and_revoke(user_factory):
    user_factory("approver")
    grant = role_grant(username="approver", tenant_code="pb.amritsar", role="amendment_approver")
    assert (grant.tenant.code, grant.role) == ("pb.amritsar", "AMENDMENT_APPROVER")
    assert role_grant(username="approver", tenant_code="pb.amritsar", role="AMENDMENT_APPROVER").pk == grant.pk
    role_grant(username="approver", tenant_code="pb", role="EMPLOYEE")
    assert roles_of("approver") == [("pb", "EMPLOYEE"), ("pb.amritsar", "AMENDMENT_APPROVER")]
    assert role_revoke(username="approver", tenant_code="pb", role="EMPLOYEE") is True
    assert role_revoke(username="approver", tenant_code="pb", role="EMPLOYEE") is False
    assert roles_of("approver") == [("pb.amritsar", "AMENDMENT_APPROVER")]


@pytest.mark.django_db
def test_role_grant_refuses_unknown_users_and_roles(user_factory):
    with pytest.raises(DomainError) as info:
        role_grant(username="ghost", tenant_code="pb", role="EMPLOYEE")
    assert (info.value.code, info.value.message, info.value.http_status) == (
        "USER_NOT_FOUND",
        "No user named 'ghost'.",
        404,
    )
    user_factory("clerk")
    with pytest.raises(DomainError) as info:
        role_grant(username="clerk", tenant_code="pb", role="KING")
    assert info.value.code == "INVALID_ROLE"
    assert UserRole.objects.count() == 0
    assert not Tenant.objects.exists()


@pytest.mark.django_db
def test_superuser_ensure_creates_then_updates():
    user = superuser_ensure(username="admin", password="first-pass", tenant_code="pb")
    assert (user.is_superuser, user.is_staff, user.check_password("first-pass")) == (True, True, True)
    again = superuser_ensure(username="admin", password="second-pass", tenant_code="pb")
    again.refresh_from_db()
    assert (again.pk, again.check_password("second-pass")) == (user.pk, True)
    assert roles_of("admin") == [("pb", "SUPERUSER")]
    with pytest.raises(DomainError) as info:
        superuser_ensure(username="admin2", password="", tenant_code="pb")
    assert info.value.code == "INVALID_PASSWORD"


# --- the command -----------------------------------------------------------------------------


def run_command(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("create_api_client", *args, stdout=out)
    return out.getvalue().splitlines()


@pytest.mark.django_db
def test_command_prints_a_summary_and_the_token_alone_on_the_last_line():
    lines = run_command("--username", "pt-module", "--tenant", "pb.amritsar", "--roles", "system, employee")
    user = User.objects.get(username="pt-module")
    token = Token.objects.get(user=user).key
    assert lines == [
        f"API client pt-module (id {user.pk}) in pb.amritsar with roles SYSTEM, EMPLOYEE",
        "Send it as 'Authorization: Token <key>' or in RequestInfo.authToken. Token:",
        token,
    ]
    assert roles_of("pt-module") == [("pb.amritsar", "EMPLOYEE"), ("pb.amritsar", "SYSTEM")]
    again = run_command("--username", "pt-module", "--tenant", "pb.amritsar", "--roles", "CASHIER")
    assert again[-1] == token
    assert roles_of("pt-module") == [("pb.amritsar", "CASHIER")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--username", "m", "--tenant", "pb.amritsar", "--roles", "SYSTEM,WIZARD"],
            "INVALID_ROLE: Unknown role(s): WIZARD",
        ),
        (["--username", "m", "--tenant", "pb.amritsar", "--roles", ","], "INVALID_ROLE: At least one role is required"),
        (
            ["--username", "m", "--tenant", "Punjab", "--roles", "SYSTEM"],
            "INVALID_TENANT: Invalid tenant code 'Punjab'",
        ),
        (["--username", "bad name", "--tenant", "pb", "--roles", "SYSTEM"], "INVALID_USERNAME: Invalid username"),
        (["--username", "m", "--tenant", "pb"], "the following arguments are required: --roles"),
    ],
)
def test_command_refuses_bad_input_clearly(args, message):
    with pytest.raises(CommandError) as info:
        run_command(*args)
    assert message in str(info.value)
    assert nothing_written()
