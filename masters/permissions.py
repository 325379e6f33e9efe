"""What each billing role may see and do in the back-office (the Django admin), as Django permissions.

``RoleBackend`` (in ``AUTHENTICATION_BACKENDS``) grants a user the Django permissions of the billing roles they
hold (``UserRole``) — so a user given the role AMENDMENT_APPROVER in a city sees the amendments and may decide
them, with no permission picked by hand, and a role taken away takes its pages away at the next request. The
table ``ROLE_PERMISSIONS`` is the one place that says which role opens which admin page; docs/back-office.md
shows it as role → pages → actions, and a test keeps the two in step.

Permissions only open pages and show buttons. *Which rows* a user sees is the tenant scoping of each admin
(``Caller.tenant_q``, as on the APIs), and whether an action is allowed on a row is decided by the service it
calls (roles per tenant, self-approval, states) — the admin adds no rule of its own.

Technical pages (users and groups, API tokens, Celery schedules, idempotency keys) are granted to no role:
Django superusers only.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend

from billing_project.admin_site import BACK_OFFICE_PERMISSION
from masters.models import Role, UserRole


def _perms(app: str, actions: str, *models: str) -> frozenset[str]:
    """``_perms("bills", "va", "bill")`` → {"bills.view_bill", "bills.add_bill"} (v view, a add, c change, d delete)."""
    names = {"v": "view", "a": "add", "c": "change", "d": "delete"}
    return frozenset(f"{app}.{names[a]}_{model}" for a in actions for model in models)


#: Every staff role reads the records of its tenants (the APIs' READ_ROLES).
READ = (
    frozenset({BACK_OFFICE_PERMISSION})
    | _perms("masters", "v", "tenant", "businessservice", "taxheadmaster", "taxperiod", "glcode", "payer")
    | _perms("demands", "v", "consumeraccount", "demand", "demanddetail", "demandhistory")
    | _perms("bills", "v", "bill", "billdetail", "billaccountdetail")
    | _perms("amendments", "v", "amendment", "amendmenttaxdetail", "amendmentdocument", "amendmenttransition")
)
#: The counter: payments and their receipts, take a payment (add), cancel or dishonour one (change), fetch
#: a bill (add) and cancel one (change).
COUNTER = (
    _perms("payments", "v", "paymentdetail", "paymentaccountline", "paymentapplication", "paymentwriteback")
    | _perms("payments", "vac", "payment")
    | _perms("bills", "ac", "bill")
    | _perms("gateway", "v", "gatewaytransaction", "gatewayattempt", "gatewaycallback", "gatewayrefund")
)
#: The clerk: demands (cancel), billing runs, offline collection imports, payment methods.
CLERK = (
    COUNTER
    | _perms("demands", "c", "demand")
    | _perms("bills", "vac", "billingrun")
    | _perms("bills", "v", "billingrunerror")
    | _perms("payment_imports", "va", "importrun")
    | _perms("payment_imports", "v", "importrow")
    | _perms("payment_methods", "v", "paymentmethod", "autopaymandate", "autopaycharge")
)
#: The approver decides amendments (approve, reject, send back).
APPROVER = _perms("amendments", "c", "amendment")
#: The billing administrator: everything of the clerk, master data and roles, online payment operations.
ADMIN = (
    CLERK
    | _perms("masters", "vacd", "businessservice", "taxheadmaster", "taxperiod", "glcode", "payer", "idformat")
    | _perms("masters", "vacd", "userrole")
    | _perms("masters", "v", "idsequence")
    | _perms("gateway", "vc", "gatewaytransaction", "reconciliationqueueitem")
    | _perms("payment_methods", "vc", "autopaycharge")
    | _perms("payment_imports", "vc", "importrun", "importrow")
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.CASHIER: READ | COUNTER,
    Role.EMPLOYEE: READ | CLERK,
    Role.AMENDMENT_APPROVER: READ | APPROVER,
    Role.BILLING_ADMIN: READ | ADMIN,
    Role.SUPERUSER: READ | ADMIN | APPROVER,
    # CITIZEN and SYSTEM (API clients) get no back-office.
}

_CACHE = "_billing_role_perms"


def role_permissions(roles: set[str] | frozenset[str]) -> frozenset[str]:
    """The admin permissions of a set of billing role names."""
    granted: frozenset[str] = frozenset()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return granted


class RoleBackend(BaseBackend):
    """Django permissions from billing roles; authenticates nobody (ModelBackend does that)."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not getattr(user_obj, "is_active", False) or getattr(user_obj, "is_anonymous", True):
            return set()
        cached = getattr(user_obj, _CACHE, None)
        if cached is None:
            roles = set(UserRole.objects.filter(user_id=user_obj.pk).values_list("role", flat=True))
            cached = role_permissions(roles)
            setattr(user_obj, _CACHE, cached)
        return set(cached)

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return any(perm.startswith(app_label + ".") for perm in self.get_all_permissions(user_obj))
