"""Amendment ids: id format ``bs.amendment.id`` (reference §7.10.2 step 7).

The default ``NOTETYPE-CONSUMERCODE-[SEQ_BS_MUTATION_[tenant_id]]`` gives ``DN-WS/107/2021-22/227166-000007``:
``NOTETYPE`` is CN when the first line's amount is >= 0, else DN; ``CONSUMERCODE`` is the consumer code; the
sequence is per tenant. A tenant (or its state) overrides the format with an ``IdFormat`` row named
``bs.amendment.id``; ``settings.AMENDMENT_ID_FORMAT`` overrides the default. Drawn late in the creating
transaction (lock order: … → id sequence), so a rolled-back creation gives its number back. The column holds 512
characters (the default format with a 250-character consumer code renders 260); a longer rendered id (a tenant's
own format) is refused with ``AMENDMENT_ID_TOO_LONG`` (400) instead of a database error.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings

from amendments.domain.workflow import amendment_number
from amendments.errors import AMENDMENT_ID_TOO_LONG
from amendments.models import Amendment
from billing_project.errors import DomainError
from masters.services import id_generate

AMENDMENT_ID_NAME = "bs.amendment.id"
DEFAULT_AMENDMENT_ID_FORMAT = "NOTETYPE-CONSUMERCODE-[SEQ_BS_MUTATION_[tenant_id]]"


def amendment_id_format() -> str:
    return str(getattr(settings, "AMENDMENT_ID_FORMAT", "") or DEFAULT_AMENDMENT_ID_FORMAT)


def amendment_id_draw(*, tenant_code: str, consumer_code: str, first_tax_amount: Decimal, at: dt.datetime) -> str:
    [rendered] = id_generate(
        tenant_code=tenant_code, id_name=AMENDMENT_ID_NAME, default_format=amendment_id_format(), at=at
    )
    number = amendment_number(rendered, first_tax_amount=first_tax_amount, consumer_code=consumer_code)
    limit = Amendment._meta.get_field("amendment_id").max_length or 0
    if len(number) > limit:
        # The default format with the longest consumer code (250) fits; a tenant's own format may not.
        raise DomainError(
            AMENDMENT_ID_TOO_LONG,
            f"The amendment id rendered from the id format {AMENDMENT_ID_NAME} has {len(number)} characters; "
            f"at most {limit} are allowed",
        )
    return number
