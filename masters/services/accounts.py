"""Tenants, per-tenant roles and API clients (users that authenticate with a DRF token).

Public functions are service entry points, each one durable transaction; the ``_``-prefixed helpers run
inside the caller's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from billing_project.errors import PERMISSION_DENIED, DomainError, NotFound, PermissionDeniedError
from masters.access import Caller, require_role
from masters.errors import (
    INVALID_PASSWORD,
    INVALID_ROLE,
    INVALID_TENANT,
    INVALID_USERNAME,
    USER_NOT_FOUND,
    USER_ROLE_NOT_FOUND,
)
from masters.models import Role, Tenant, UserRole

TENANT_CODE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)?$")
VALID_ROLES: tuple[str, ...] = tuple(Role.values)


def tenant_ensure(*, code: str, name: str = "") -> Tenant:
    """The tenant ``code`` (``pb`` or ``pb.amritsar``), created with its state when missing.

    A non-blank ``name`` replaces the stored one.
    """
    with transaction.atomic(durable=True):
        return _tenant_ensure(code=code, name=name)


def api_client_upsert(*, username: str, tenant_code: str, roles: Sequence[str]) -> tuple[User, str]:
    """Create or update the API client ``username`` holding exactly ``roles`` in ``tenant_code``.

    Roles in other tenants are left alone. A new client gets no password (it signs in with its token only).
    Returns the user and its API token key (created once, then returned unchanged).
    """
    wanted = _normalise_roles(roles)
    username = _validate_username(username)
    with transaction.atomic(durable=True):
        tenant = _tenant_ensure(code=tenant_code)
        user = _user_ensure(username)
        _roles_set(user=user, tenant=tenant, roles=wanted)
        token, _ = Token.objects.get_or_create(user=user)
    return user, token.key


def superuser_ensure(*, username: str, password: str, tenant_code: str) -> User:
    """A Django superuser with ``password`` and the SUPERUSER role in ``tenant_code`` (for staff bootstrap)."""
    username = _validate_username(username)
    if not password:
        raise DomainError(INVALID_PASSWORD, "A superuser needs a password.")
    with transaction.atomic(durable=True):
        tenant = _tenant_ensure(code=tenant_code)
        user = _user_ensure(username)
        user.is_superuser = True
        user.is_staff = True
        user.is_active = True
        user.set_password(password)
        user.save(update_fields=["is_superuser", "is_staff", "is_active", "password"])
        UserRole.objects.get_or_create(user=user, tenant=tenant, role=Role.SUPERUSER)
    return user


def staff_user_ensure(*, username: str, password: str, tenant_code: str, roles: Sequence[str]) -> User:
    """A back-office user with ``password`` holding exactly ``roles`` in ``tenant_code`` (demo and bootstrap).

    No Django flag or permission is set: the billing roles give the back-office (``masters.permissions``).
    Roles in other tenants are left alone."""
    wanted = _normalise_roles(roles)
    username = _validate_username(username)
    if not password:
        raise DomainError(INVALID_PASSWORD, "A back-office user needs a password.")
    with transaction.atomic(durable=True):
        tenant = _tenant_ensure(code=tenant_code)
        user = _user_ensure(username)
        user.is_active = True
        user.set_password(password)
        user.save(update_fields=["is_active", "password"])
        _roles_set(user=user, tenant=tenant, roles=wanted)
    return user


def role_grant(*, username: str, tenant_code: str, role: str) -> UserRole:
    """Give the existing user ``username`` the ``role`` in ``tenant_code`` (idempotent)."""
    (wanted,) = _normalise_roles([role])
    with transaction.atomic(durable=True):
        user = _user_get(username)
        tenant = _tenant_ensure(code=tenant_code)
        grant, _ = UserRole.objects.get_or_create(user=user, tenant=tenant, role=wanted)
    return grant


#: Who may grant and revoke roles in a tenant from the back-office (a state role covers its cities).
ROLE_GRANTERS = (Role.BILLING_ADMIN, Role.SUPERUSER)
#: Roles only a Django superuser may hand out.
SUPERUSER_ONLY_ROLES = frozenset({Role.SUPERUSER, Role.SYSTEM})


def _require_granter(caller: Caller, tenant_code: str, role: str) -> None:
    require_role(caller, tenant_code, ROLE_GRANTERS, "grant or revoke roles")
    if role in SUPERUSER_ONLY_ROLES and not caller.is_superuser:
        raise PermissionDeniedError(PERMISSION_DENIED, f"Only a superuser may grant or revoke the role {role}.")


def user_role_grant(*, caller: Caller, user_id: int, tenant_code: str, role: str) -> UserRole:
    """Staff grant ``role`` in ``tenant_code`` to the user ``user_id`` (idempotent): BILLING_ADMIN or SUPERUSER
    of that tenant; SUPERUSER and SYSTEM only by a Django superuser."""
    (wanted,) = _normalise_roles([role])
    _require_granter(caller, tenant_code, wanted)
    with transaction.atomic(durable=True):
        user = get_user_model().objects.filter(pk=user_id).first()
        if user is None:
            raise NotFound(USER_NOT_FOUND, f"No user {user_id}.")
        tenant = Tenant.objects.filter(code=tenant_code).first()
        if tenant is None:
            raise DomainError(INVALID_TENANT, f"No tenant {tenant_code!r}.")
        grant, _ = UserRole.objects.get_or_create(user=user, tenant=tenant, role=wanted)
    return grant


def user_role_revoke(*, caller: Caller, user_role_id: int) -> None:
    """Staff take a granted role away, with the same rights as ``user_role_grant``."""
    grant = UserRole.objects.select_related("tenant").filter(pk=user_role_id).first()
    if grant is None:
        raise NotFound(USER_ROLE_NOT_FOUND, f"No role grant {user_role_id}.")
    _require_granter(caller, grant.tenant.code, grant.role)
    with transaction.atomic(durable=True):
        UserRole.objects.filter(pk=grant.pk).delete()


def role_revoke(*, username: str, tenant_code: str, role: str) -> bool:
    """Take ``role`` in ``tenant_code`` away from ``username``; False when the user did not hold it."""
    (wanted,) = _normalise_roles([role])
    with transaction.atomic(durable=True):
        user = _user_get(username)
        deleted, _ = UserRole.objects.filter(user=user, tenant__code=tenant_code, role=wanted).delete()
    return deleted > 0


# --- helpers (inside the caller's transaction) ----------------------------------------------


def _tenant_ensure(*, code: str, name: str = "") -> Tenant:
    if not isinstance(code, str) or not TENANT_CODE.fullmatch(code):
        raise DomainError(
            INVALID_TENANT,
            f"Invalid tenant code {code!r}: expected 'state' or 'state.city' "
            "(lower-case letters, digits and '_'), e.g. 'pb' or 'pb.amritsar'.",
        )
    name = name.strip()
    with transaction.atomic(savepoint=False):
        state = None
        if "." in code:
            state, _ = Tenant.objects.get_or_create(code=code.split(".", 1)[0])
        tenant, created = Tenant.objects.get_or_create(code=code, defaults={"name": name, "state": state})
        changed = []
        if not created and name and tenant.name != name:
            tenant.name = name
            changed.append("name")
        if not created and state is not None and tenant.state_id != state.pk:
            tenant.state = state
            changed.append("state")
        if changed:
            tenant.save(update_fields=changed)
    return tenant


def _normalise_roles(roles: Iterable[str]) -> list[str]:
    if isinstance(roles, str):
        roles = [roles]
    names = [str(role).strip().upper() for role in roles if str(role).strip()]
    valid = ", ".join(VALID_ROLES)
    if not names:
        raise DomainError(INVALID_ROLE, f"At least one role is required; valid roles: {valid}.")
    unknown = [name for name in names if name not in VALID_ROLES]
    if unknown:
        raise DomainError(INVALID_ROLE, f"Unknown role(s): {', '.join(unknown)}; valid roles: {valid}.")
    return list(dict.fromkeys(names))


def _validate_username(username: str) -> str:
    username = (username or "").strip()
    max_length = get_user_model()._meta.get_field("username").max_length or 150
    problem = None
    if not username:
        problem = "A username is required."
    elif len(username) > max_length:
        problem = f"A username has at most {max_length} characters."
    else:
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError:
            problem = f"Invalid username {username!r}: letters, digits and @/./+/-/_ only."
    if problem:
        raise DomainError(INVALID_USERNAME, problem)
    return username


def _user_ensure(username: str) -> User:
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _user_get(username: str) -> User:
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise NotFound(USER_NOT_FOUND, f"No user named {username!r}.") from None


def _roles_set(*, user: User, tenant: Tenant, roles: Sequence[str]) -> None:
    """Exactly ``roles`` for ``user`` in ``tenant``."""
    UserRole.objects.filter(user=user, tenant=tenant).exclude(role__in=roles).delete()
    UserRole.objects.bulk_create(
        [UserRole(user=user, tenant=tenant, role=role) for role in roles], ignore_conflicts=True
    )


__all__ = [
    "VALID_ROLES",
    "api_client_upsert",
    "role_grant",
    "role_revoke",
    "staff_user_ensure",
    "superuser_ensure",
    "tenant_ensure",
    "user_role_grant",
    "user_role_revoke",
]
