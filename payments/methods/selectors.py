"""Reads of payment methods, mandates and charges, scoped to what a caller may see.

Who sees what (``docs/payment-methods.md``): a citizen sees the rows of the payer linked to their login;
staff with a role in ``MANAGE_ROLES`` see the payment methods of the payers they reach **through the tenants
they cover** — a payer named on a demand, or holding a mandate, in a tenant (city) where the staff member holds
such a role (a state role covers its cities) — and the mandates and charges of those tenants; superusers see
everything. Payers are kept at state level, so "the payer's state" would let a city's staff act on every
city's payers.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from demands.models import Demand
from masters.access import Caller
from masters.models import Payer, Role
from payments.methods.models import AutopayCharge, AutopayMandate, PaymentMethod

# Who may manage other payers' payment methods and mandates (besides the payer themself).
MANAGE_ROLES = (Role.BILLING_ADMIN, Role.EMPLOYEE, Role.CASHIER, Role.SYSTEM)


def _own(caller: Caller, field: str) -> Q:
    return Q(**{field: caller.user_id}) if caller.user_id is not None else Q(pk__in=[])


def staff_reach_q(caller: Caller, payer_field: str = "pk") -> Q:
    """Q matching the payers a staff caller reaches through the tenants they cover with ``MANAGE_ROLES``: named
    on a demand of such a tenant, or holding a mandate there. ``payer_field`` names the payer's id in the
    filtered model (``pk`` for payers, ``payer_id`` for methods)."""
    covered_demands = Demand.objects.filter(
        caller.tenant_q("tenant__code", MANAGE_ROLES), payer_id=OuterRef(payer_field)
    )
    covered_mandates = AutopayMandate.objects.filter(
        caller.tenant_q("tenant__code", MANAGE_ROLES), payer_id=OuterRef(payer_field)
    )
    return Q(Exists(covered_demands)) | Q(Exists(covered_mandates))


def staff_reach(caller: Caller, payer: Payer) -> bool:
    """True when a staff caller reaches ``payer`` through a tenant they cover (see ``staff_reach_q``)."""
    if not caller.tenants_with(MANAGE_ROLES):
        return False
    return Payer.objects.filter(staff_reach_q(caller), pk=payer.pk).exists()


def payment_methods_visible_to(caller: Caller) -> QuerySet[PaymentMethod]:
    queryset = PaymentMethod.objects.select_related("payer", "tenant")
    if caller.is_superuser:
        return queryset.all()
    if not caller.tenants_with(MANAGE_ROLES):
        return queryset.filter(_own(caller, "payer__user_id"))
    return queryset.filter(staff_reach_q(caller, "payer_id") | _own(caller, "payer__user_id"))


def mandates_visible_to(caller: Caller) -> QuerySet[AutopayMandate]:
    queryset = AutopayMandate.objects.select_related("payer", "tenant", "payment_method")
    return queryset.filter(caller.tenant_q("tenant__code", MANAGE_ROLES) | _own(caller, "payer__user_id"))


def charges_visible_to(caller: Caller) -> QuerySet[AutopayCharge]:
    queryset = AutopayCharge.objects.select_related("mandate", "mandate__tenant", "bill")
    return queryset.filter(
        caller.tenant_q("mandate__tenant__code", MANAGE_ROLES) | _own(caller, "mandate__payer__user_id")
    )
