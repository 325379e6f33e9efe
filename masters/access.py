"""Who may see and do what, per tenant.

A user holds roles per tenant (``UserRole``). A role held in a state (``pb``) covers every city of the
state (``pb.*``); a role held in a city covers that city only. Django superusers see every tenant.
Every query of tenant-owned data goes through ``scope_by_tenant`` (REST) or ``resolve_search_tenant``
(DIGIT searches, reference §2.3).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Model, Q, QuerySet
from rest_framework.permissions import BasePermission

from billing_project.errors import PERMISSION_DENIED, DomainError, PermissionDeniedError
from masters.errors import EG_BS_INVALID_TENANTID
from masters.models import PayerType, Role, UserRole

STAFF_ROLES = frozenset({Role.SUPERUSER, Role.BILLING_ADMIN, Role.EMPLOYEE, Role.CASHIER, Role.AMENDMENT_APPROVER})
M = TypeVar("M", bound=Model)


def covers(granted_tenant: str, tenant: str) -> bool:
    """A role in ``granted_tenant`` reaches ``tenant``: same tenant, or a city of that state."""
    return tenant == granted_tenant or ("." not in granted_tenant and tenant.startswith(granted_tenant + "."))


@dataclass(frozen=True)
class Caller:
    """The authenticated user with their roles per tenant code."""

    user_id: int | None
    username: str
    is_superuser: bool
    roles: tuple[tuple[str, str], ...]  # (tenant code, role)
    # A DIGIT citizen is also the payer stored under their egov-user uuid and the payers with their (verified)
    # mobile number; both None for our own logins.
    payer_uuid: str | None = None
    payer_mobile: str | None = None

    @property
    def user_type(self) -> str:
        """CITIZEN, EMPLOYEE or SYSTEM — the reference's ``userInfo.type``, derived from the roles."""
        names = {role for _, role in self.roles}
        if self.is_superuser or names & STAFF_ROLES:
            return PayerType.EMPLOYEE
        if Role.SYSTEM in names:
            return PayerType.SYSTEM
        return PayerType.CITIZEN

    @property
    def is_citizen(self) -> bool:
        return self.user_type == PayerType.CITIZEN

    def role_names(self) -> frozenset[str]:
        return frozenset(role for _, role in self.roles)

    def tenants_with(self, roles: Iterable[str] | None = None) -> frozenset[str]:
        wanted = None if roles is None else set(roles)
        return frozenset(t for t, r in self.roles if wanted is None or r in wanted)

    def has_role(self, tenant: str, roles: Iterable[str] | None = None) -> bool:
        """True when the caller holds one of ``roles`` (any role when None) reaching ``tenant``."""
        if self.is_superuser:
            return True
        wanted = None if roles is None else {str(r) for r in roles} | {Role.SUPERUSER}
        return any(covers(t, tenant) and (wanted is None or r in wanted) for t, r in self.roles)

    def tenant_q(self, field: str = "tenant__code", roles: Iterable[str] | None = None) -> Q:
        """Q matching the rows of the tenants the caller reaches (with ``roles`` when given)."""
        if self.is_superuser:
            # Always true, and safe to OR with another Q (an empty ``Q()`` would vanish from ``Q() | other``).
            return ~Q(pk__in=[])
        query = Q(pk__in=[])
        for tenant in self.tenants_with(None if roles is None else {*map(str, roles), Role.SUPERUSER}):
            query |= Q(**{field: tenant})
            if "." not in tenant:
                query |= Q(**{f"{field}__startswith": tenant + "."})
        return query

    def master_tenant_codes(self) -> frozenset[str] | None:
        """Tenants whose master data the caller may read: their tenants and those tenants' states."""
        if self.is_superuser:
            return None
        codes = set(self.tenants_with())
        return frozenset(codes | {c.split(".", 1)[0] for c in codes})


ANONYMOUS = Caller(user_id=None, username="", is_superuser=False, roles=())


def caller_for(user: Any) -> Caller:
    """The Caller of a Django user (cached on the user object for the request)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    cached = getattr(user, "_billing_caller", None)
    if isinstance(cached, Caller):
        return cached
    roles = tuple(
        UserRole.objects.filter(user_id=user.pk).values_list("tenant__code", "role").order_by("tenant__code", "role")
    )
    caller = Caller(user_id=user.pk, username=user.get_username(), is_superuser=bool(user.is_superuser), roles=roles)
    user._billing_caller = caller
    return caller


def admin_tenant_scope(request: Any, field: str) -> Q:
    """The kernel admin's tenant rule (``billing_project.admin.tenant_scope_q``): the tenants the user reaches."""
    return caller_for(getattr(request, "user", None)).tenant_q(field)


def scope_by_tenant(queryset: QuerySet[M], caller: Caller, field: str = "tenant__code") -> QuerySet[M]:
    """Only the rows of tenants the caller reaches."""
    return queryset.filter(caller.tenant_q(field))


def require_role(caller: Caller, tenant: str, roles: Iterable[str], action: str = "do this") -> None:
    """Raise PERMISSION_DENIED unless the caller holds one of ``roles`` reaching ``tenant``."""
    roles = list(roles)
    if not caller.has_role(tenant, roles):
        raise PermissionDeniedError(
            PERMISSION_DENIED, f"You need one of the roles {', '.join(map(str, roles))} in {tenant} to {action}."
        )


def resolve_search_tenant(caller: Caller, tenant_id: str) -> Q:
    """The tenant rule of DIGIT searches (reference §2.3), intersected with what the caller reaches.

    A state-level tenant means "every city of the state" (``LIKE 'pb%'``); employees may not search at
    state level unless they hold a role in that state itself or a role listed in
    STATE_LEVEL_ROLE_EXCLUDED. Returns the Q to apply to ``tenant__code``.
    """
    is_state = "." not in tenant_id
    if is_state and caller.user_type == PayerType.EMPLOYEE and not caller.is_superuser:
        holds_state_role = any(t == tenant_id for t, _ in caller.roles)
        if not holds_state_role and not (caller.role_names() & set(settings.STATE_LEVEL_ROLE_EXCLUDED)):
            raise DomainError(EG_BS_INVALID_TENANTID, "Employees cannot search based on state level tenantid")
    wanted = (
        Q(tenant__code=tenant_id) | Q(tenant__code__startswith=tenant_id + ".")
        if is_state
        else Q(tenant__code=tenant_id)
    )
    return wanted & caller.tenant_q("tenant__code")


class HasTenantRole(BasePermission):
    """Authenticated and holding at least one role somewhere (or superuser); row scoping is done by the view."""

    message = "Your account has no role in any tenant."

    def has_permission(self, request: Any, view: Any) -> bool:
        caller = caller_for(request.user)
        return caller.user_id is not None and (caller.is_superuser or bool(caller.roles))


class MasterDataPermission(BasePermission):
    """Anyone with a role reads master data; BILLING_ADMIN (of the row's tenant) writes it."""

    message = "Only a BILLING_ADMIN may change master data."

    def has_permission(self, request: Any, view: Any) -> bool:
        caller = caller_for(request.user)
        if caller.user_id is None or not (caller.is_superuser or caller.roles):
            return False
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return caller.is_superuser or bool(caller.tenants_with({Role.BILLING_ADMIN, Role.SUPERUSER}))


def own_payer_q(caller: Caller, payer: str = "payer") -> Q:
    """Rows whose payer (the relation named ``payer``) is the caller: the payer linked to their login and, for a
    DIGIT citizen, the payer stored under their uuid or with their mobile number. Never true for an anonymous
    caller (a payer-less row must not match)."""
    query = Q(pk__in=[])
    if caller.user_id is not None:
        query |= Q(**{f"{payer}__user_id": caller.user_id})
    if caller.payer_uuid:
        query |= Q(**{f"{payer}__uuid": caller.payer_uuid})
    if caller.payer_mobile:
        query |= Q(**{f"{payer}__mobile_number": caller.payer_mobile})
    return query


def citizen_payer_q(caller: Caller, field: str = "payer__user_id") -> Q:
    """For citizens: only rows whose payer is the citizen themself (``field`` names the payer's login column)."""
    return own_payer_q(caller, field.removesuffix("__user_id"))


__all__ = [
    "ANONYMOUS",
    "Caller",
    "HasTenantRole",
    "MasterDataPermission",
    "caller_for",
    "citizen_payer_q",
    "covers",
    "own_payer_q",
    "require_role",
    "resolve_search_tenant",
    "scope_by_tenant",
]
