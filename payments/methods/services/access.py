"""Who may act for a payer (docs/payment-methods.md, "Who may do what").

* A citizen acts for the payer linked to their login (``Payer.user``) — only that one.
* Staff (``MANAGE_ROLES``: BILLING_ADMIN, EMPLOYEE, CASHIER, SYSTEM) act for the payers they reach through the
  tenants they cover: a payer named on a demand, or holding a mandate, in a tenant where they hold such a role
  (a state role covers its cities). Payers are kept at state level, so the payer's own tenant says nothing
  about which city's staff may act for them.
* Superusers act for anyone.
A payer the caller may not act for is reported as not found (its existence is not disclosed).
"""

from __future__ import annotations

import uuid

from billing_project.errors import NotFound
from billing_project.uuids import uuid_or_404
from masters.access import Caller
from masters.models import Payer
from payments.methods.errors import PAYMENT_METHOD_PAYER_NOT_FOUND
from payments.methods.selectors import staff_reach


def may_act_for(caller: Caller, payer: Payer) -> bool:
    if caller.is_superuser:
        return True
    if caller.user_id is not None and payer.user_id == caller.user_id:
        return True
    return staff_reach(caller, payer)


def payer_for(caller: Caller, payer_id: uuid.UUID | str | None) -> Payer:
    """The payer the caller acts for: ``payer_id``, or (when None) the payer linked to the caller's login."""
    if payer_id is None:
        own = caller.user_id
        payer = Payer.objects.select_related("tenant").filter(user_id=own).first() if own is not None else None
        if payer is None:
            raise NotFound(
                PAYMENT_METHOD_PAYER_NOT_FOUND, "Your login is linked to no payer: name the payer (payer_id)"
            )
        return payer
    key = uuid_or_404(payer_id, code=PAYMENT_METHOD_PAYER_NOT_FOUND, message=f"No payer {payer_id}")
    payer = Payer.objects.select_related("tenant").filter(pk=key).first()
    if payer is None or not may_act_for(caller, payer):
        raise NotFound(PAYMENT_METHOD_PAYER_NOT_FOUND, f"No payer {payer_id}")
    return payer
