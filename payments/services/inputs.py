"""The input of ``payment_create``: what a counter (or a later API face) sends, already parsed into types."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class PaymentDetailInput:
    """The part of the payment for one bill (the reference's ``PaymentDetail``)."""

    bill_id: uuid.UUID | str
    business_service: str
    total_due: Decimal
    total_amount_paid: Decimal
    manual_receipt_number: str = ""
    additional_details: Any = None


@dataclass(frozen=True)
class PaymentInput:
    """One payment (the reference's ``Payment``). ``total_due``/``total_amount_paid`` must be the sums of the
    details'. Blank payer fields are filled from the first bill."""

    tenant_code: str
    payment_mode: str
    total_due: Decimal
    total_amount_paid: Decimal
    details: tuple[PaymentDetailInput, ...]
    paid_by: str = ""
    payer_name: str = ""
    payer_address: str = ""
    payer_email: str = ""
    mobile_number: str = ""
    payer_id: uuid.UUID | None = None
    instrument_number: str = ""
    instrument_date: dt.datetime | None = None
    ifsc_code: str = ""
    transaction_number: str = ""
    transaction_date: dt.datetime | None = None
    additional_details: Any = field(default=None)
