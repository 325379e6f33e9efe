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
Django superusers only. The outbox page (kernel) is the billing administrator's too: it shows the messages of
her tenants (``billing_project.admin.tenant_scope_q``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend

from billing_project.admin_site import BACK_OFFICE_PERMISSION, BillingAdminSite
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
    | _perms("kernel", "vc", "outboxmessage")  # the outbox page shows the messages of her tenants
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


#: What a permission lets staff do, in their words (the "actions" column of docs/back-office.md).
ACTION_NAMES: dict[str, str] = {
    "payments.add_payment": "take payments at the counter desk",
    "payments.change_payment": "cancel / dishonour payments",
    "bills.add_bill": "fetch (regenerate) bills",
    "bills.change_bill": "cancel bills",
    "demands.change_demand": "cancel demands",
    "bills.add_billingrun": "start billing runs",
    "bills.change_billingrun": "cancel / resume billing runs",
    "amendments.change_amendment": "approve / reject / send back amendments",
    "payment_imports.add_importrun": "import offline collections",
    "payment_imports.change_importrun": "settle imports",
    "masters.change_businessservice": "edit master data",
    "masters.change_userrole": "grant and revoke roles",
    "gateway.change_gatewaytransaction": "reconcile / refund online payments",
    "payment_methods.change_autopaycharge": "resolve autopay charges",
    "kernel.change_outboxmessage": "retry / discard outbox messages",
}


def role_pages_table() -> str:
    """The role → pages → actions table of docs/back-office.md, made from ``ROLE_PERMISSIONS`` and the admin's
    registry (a test keeps the page in step with this)."""
    from django.contrib import admin

    registered = {f"{m._meta.app_label}.view_{m._meta.model_name}": m for m in admin.site._registry}
    work: list[Any] = admin.site.work_pages() if isinstance(admin.site, BillingAdminSite) else []
    lines = ["| role | work pages | lists and records | actions |", "|---|---|---|---|"]
    for role, perms in ROLE_PERMISSIONS.items():
        first = [v.title for v in work if not v.permission or v.permission in perms]
        pages = sorted(str(registered[p]._meta.verbose_name_plural).capitalize() for p in perms if p in registered)
        actions = [text for perm, text in ACTION_NAMES.items() if perm in perms]
        lines.append(f"| {role} | {', '.join(first)} | {', '.join(pages)} | {'; '.join(actions) or 'read only'} |")
    return "\n".join(lines) + "\n"
