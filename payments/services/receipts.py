"""Receipt numbers: one per payment detail, from the id format ``receipt.number`` (reference §3.4, idgen).

The default format gives ``PT/AMRITSAR/2024-25/000001``: the business service, the city, the financial year of
the receipt date and a sequence per (business service, tenant). A tenant (or its state) overrides it with an
``IdFormat`` row named ``receipt.number``; ``settings.RECEIPT_NUMBER_FORMAT`` overrides the default.
Numbers are drawn inside the payment's transaction, after the bill locks (lock order: … bill → id sequence →
payment), so a payment that rolls back gives its numbers back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings

from masters.services import id_generate

RECEIPT_NUMBER_ID_NAME = "receipt.number"
DEFAULT_RECEIPT_NUMBER_FORMAT = "{module}/[city]/[fy:yyyy-yy]/[SEQ_egcl_receipt_{module}_[tenant_id]]"


def receipt_number_format() -> str:
    return str(getattr(settings, "RECEIPT_NUMBER_FORMAT", "") or DEFAULT_RECEIPT_NUMBER_FORMAT)


def receipt_numbers_draw(*, tenant_code: str, modules: Sequence[str], at: dt.datetime) -> list[str]:
    """One receipt number for each entry of ``modules`` (business service codes), in the same order.

    One sequence draw per business service, in code order.
    """
    positions: dict[str, list[int]] = {}
    for index, module in enumerate(modules):
        positions.setdefault(module, []).append(index)
    numbers = [""] * len(modules)
    for module in sorted(positions):
        drawn = id_generate(
            tenant_code=tenant_code,
            id_name=RECEIPT_NUMBER_ID_NAME,
            default_format=receipt_number_format(),
            placeholders={"module": module},
            count=len(positions[module]),
            at=at,
        )
        for index, number in zip(positions[module], drawn, strict=True):
            numbers[index] = number
    return numbers
