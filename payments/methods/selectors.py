"""Reads of payment methods, mandates and charges, scoped to what a caller may see.

Who sees what (``docs/payment-methods.md``): a citizen sees the rows of the payer linked to their login;
staff with a role in ``MANAGE_ROLES`` see the payment methods of the payers of their states (payers are kept
at state level) and the mandates and charges of the tenants (cities) they reach; superusers see everything.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from masters.access import Caller
from masters.models import Role
from masters.selectors import state_code_of
from payments.methods.models import AutopayCharge, AutopayMandate, PaymentMethod

# Who may manage other payers' payment methods and mandates (besides the payer themself).
MANAGE_ROLES = (Role.BILLING_ADMIN, Role.EMPLOYEE, Role.CASHIER, Role.SYSTEM)


def _own(caller: Caller, field: str) -> Q:
    return Q(**{field: caller.user_id}) if caller.user_id is not None else Q(pk__in=[])


def manageable_states(caller: Caller) -> list[str]:
    """The states whose payers the caller may act for (by a staff role in the state or one of its cities)."""
    return sorted({state_code_of(code) for code in caller.tenants_with(MANAGE_ROLES)})


def visible_payment_methods(caller: Caller) -> QuerySet[PaymentMethod]:
    queryset = PaymentMethod.objects.select_related("payer", "tenant")
    if caller.is_superuser:
        return queryset.all()
    return queryset.filter(Q(tenant__code__in=manageable_states(caller)) | _own(caller, "payer__user_id"))


def visible_mandates(caller: Caller) -> QuerySet[AutopayMandate]:
    queryset = AutopayMandate.objects.select_related("payer", "tenant", "payment_method")
    return queryset.filter(caller.tenant_q("tenant__code", MANAGE_ROLES) | _own(caller, "payer__user_id"))


def visible_charges(caller: Caller) -> QuerySet[AutopayCharge]:
    queryset = AutopayCharge.objects.select_related("mandate", "mandate__tenant", "bill")
    return queryset.filter(
        caller.tenant_q("mandate__tenant__code", MANAGE_ROLES) | _own(caller, "mandate__payer__user_id")
    )
