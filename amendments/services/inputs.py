"""What a caller asks the amendment services to write: plain frozen dataclasses, already type-checked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class LineInput:
    tax_head_code: str
    tax_amount: Decimal


@dataclass(frozen=True)
class DocumentInput:
    document_type: str
    file_store_id: str
    document_uid: str = ""
    additional_details: Any = None


@dataclass(frozen=True)
class AmendmentInput:
    tenant_code: str
    consumer_code: str
    business_service: str
    reason: str
    details: tuple[LineInput, ...]
    documents: tuple[DocumentInput, ...] = ()
    reason_document_number: str = ""
    effective_from: dt.datetime | None = None
    effective_till: dt.datetime | None = None
    additional_details: Any = None

    @property
    def account_key(self) -> tuple[str, str, str]:
        return (self.tenant_code, self.business_service, self.consumer_code)
