"""What a caller asks the demand services to write: plain frozen dataclasses, already type-checked."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from billing_project.money import ZERO


@dataclass(frozen=True)
class PayerInput:
    """A demand's payer: an existing payer by ``uuid``, or one matched/created from ``name`` + ``mobile_number``."""

    uuid: uuid.UUID | None = None
    name: str | None = None
    mobile_number: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class DetailInput:
    tax_head_code: str
    tax_amount: Decimal
    collection_amount: Decimal | None = None
    additional_details: Any = None
    id: uuid.UUID | None = None


@dataclass(frozen=True)
class DemandInput:
    tenant_code: str
    consumer_code: str
    consumer_type: str
    business_service: str
    tax_period_from: dt.datetime
    tax_period_to: dt.datetime
    details: tuple[DetailInput, ...]
    payer: PayerInput | None = None
    bill_expiry_time: dt.timedelta | None = None
    fixed_bill_expiry_date: dt.datetime | None = None
    minimum_amount_payable: Decimal = ZERO
    additional_details: Any = None
    status: str | None = None
    id: uuid.UUID | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def account_key(self) -> tuple[str, str, str]:
        return (self.tenant_code, self.business_service, self.consumer_code)
