"""Payer resolution for demands (reference §7.1 step 2e)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.conf import settings

from demands.services.inputs import DemandInput
from masters.digit.payers import PayerHint, is_masked, payers_ensure_by_uuid
from masters.models import Payer
from masters.services import payer_match_or_create


def payers_prepare(demands: Sequence[DemandInput]) -> None:
    """Before validation (outside any transaction): payers named by an egov-user uuid that we do not know yet are
    stored under that uuid (``DIGIT_PAYERS_BY_UUID``), enriched from egov-user when it is configured."""
    if not settings.DIGIT_PAYERS_BY_UUID:
        return
    payers_ensure_by_uuid(
        hints=[
            PayerHint(
                uuid=d.payer.uuid,
                tenant_code=d.tenant_code,
                name=d.payer.name,
                mobile_number=d.payer.mobile_number,
                email=d.payer.email,
            )
            for d in demands
            if d.payer is not None and d.payer.uuid is not None
        ]
    )


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
        elif payer.name and payer.mobile_number and not is_masked(payer.mobile_number):
            resolved[index] = payer_match_or_create(
                tenant_code=demand.tenant_code, name=payer.name, mobile_number=payer.mobile_number, email=payer.email
            )
    return resolved
