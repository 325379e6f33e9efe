"""Payer resolution for demands (reference §7.1 step 2e)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from demands.services.inputs import DemandInput
from masters.models import Payer
from masters.services import payer_match_or_create


def resolve_payers(demands: Sequence[DemandInput], known: dict[uuid.UUID, Payer]) -> dict[int, Payer]:
    """The payer of each demand (by index): an existing payer by uuid, or one matched/registered from
    name + mobile number in the state registry. Demands without a payer are left out."""
    resolved: dict[int, Payer] = {}
    for index, demand in enumerate(demands):
        payer = demand.payer
        if payer is None:
            continue
        if payer.uuid is not None:
            resolved[index] = known[payer.uuid]
        elif payer.name and payer.mobile_number:
            resolved[index] = payer_match_or_create(
                tenant_code=demand.tenant_code, name=payer.name, mobile_number=payer.mobile_number, email=payer.email
            )
    return resolved
