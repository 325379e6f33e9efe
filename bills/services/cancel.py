"""Bill cancellation (reference §7.6): the latest bill of one consumer, with a reason; demands untouched."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from billing_project.errors import NOT_FOUND, ConflictError, DomainError, NotFound
from bills.errors import (
    EG_BS_BILL_NOT_ACTIVE,
    EG_BS_BILL_PAID,
    EG_BS_CANCEL_BILL_ERROR,
    EG_BS_CANCELL_REASON_CODE_NOT,
    EG_BS_CANCELL_REASON_MSG_NOT,
)
from bills.models import Bill, BillStatus
from bills.services.hooks import bills_cancelled
from demands.models import ConsumerAccount
from demands.services import consumer_accounts_lock
from masters.access import Caller, require_role
from masters.models import Role

CANCEL_ROLES = (Role.EMPLOYEE, Role.BILLING_ADMIN, Role.CASHIER)


@dataclass(frozen=True)
class CancelOutcome:
    """``count`` as the reference returns it: >0 cancelled, -1 latest bill paid, 0 nothing active."""

    count: int
    bill: Bill | None

    @property
    def message(self) -> str:
        if self.count > 0:
            return f"Successfully cancelled {self.count} Active bills for given consumer codes"
        if self.count < 0:
            return "You cannot cancel the bill in the workflow"
        return "No Active bills found for cancellation for the given criteria"


def _text(details: Mapping[str, Any] | None, key: str) -> str:
    value = (details or {}).get(key)
    return value.strip() if isinstance(value, str) else ""


def _check_reason(details: Mapping[str, Any] | None) -> None:
    if not isinstance((details or {}).get("reason"), str):
        raise DomainError(
            EG_BS_CANCELL_REASON_CODE_NOT,
            "Cancellation Reason with key 'reason' is a madnatory Text field in additionalDetails of Bill cancell "
            "Request",
        )
    if not _text(details, "reason"):
        raise DomainError(EG_BS_CANCELL_REASON_CODE_NOT, "Cancell Reason code cannot be empty")
    if not isinstance((details or {}).get("reasonMessage"), str):
        raise DomainError(
            EG_BS_CANCELL_REASON_MSG_NOT,
            "Cancell Reason message with key 'reasonMessage' is madnatory Text field in additionalDetails of Bill "
            "cancell Request",
        )
    if not _text(details, "reasonMessage"):
        raise DomainError(EG_BS_CANCELL_REASON_MSG_NOT, "Cancell Reason message cannot be empty")


def _merge(main: Any, update: Any) -> Any:
    """The reference's jsonMerge: fields of ``update`` copied into ``main``; objects merge, scalars overwrite."""
    if main is None:
        return update
    if update is None:
        return main
    if isinstance(main, dict) and isinstance(update, dict):
        merged = dict(main)
        for key, value in update.items():
            merged[key] = _merge(merged.get(key), value) if isinstance(value, dict) else value
        return merged
    return update


def bill_cancel(
    *,
    caller: Caller,
    tenant_id: str,
    consumer_codes: Sequence[str],
    business_service: str,
    additional_details: Mapping[str, Any] | None,
    at: dt.datetime,
) -> CancelOutcome:
    """Cancel the latest bill of one consumer code when it is ACTIVE (DIGIT ``/bill/v2/_cancelbill``)."""
    _check_reason(additional_details)
    codes = list(dict.fromkeys(consumer_codes))
    if len(codes) > 1:
        raise DomainError(EG_BS_CANCEL_BILL_ERROR, "Only one consumer code can be provided in the Cancel request")
    if not codes:
        raise DomainError(EG_BS_CANCEL_BILL_ERROR, "A consumer code must be provided in the Cancel request")
    require_role(caller, tenant_id, CANCEL_ROLES, "cancel bills")
    account = ConsumerAccount.objects.filter(
        tenant__code=tenant_id, business_service=business_service, consumer_code=codes[0]
    ).first()
    if account is None:
        return CancelOutcome(count=0, bill=None)
    with transaction.atomic(durable=True):
        consumer_accounts_lock([(tenant_id, business_service, codes[0])], at=at)
        # "Latest" as the bill search ranks it (created_at, then bill number), so both agree on ties.
        latest = (
            Bill.objects.select_for_update(of=("self",))
            .filter(account=account)
            .order_by("-created_at", "-bill_number")
            .first()
        )
        if latest is None:
            return CancelOutcome(count=0, bill=None)
        if latest.status in (BillStatus.PAID, BillStatus.PARTIALLY_PAID):
            return CancelOutcome(count=-1, bill=latest)
        if latest.status != BillStatus.ACTIVE:
            return CancelOutcome(count=0, bill=latest)
        # Existing keys win over the request's, as in the reference (jsonMerge(request, bill)).
        latest.additional_details = _merge(dict(additional_details or {}), latest.additional_details)
        latest.status = BillStatus.CANCELLED
        latest.modified_by, latest.modified_at = caller.username, at
        latest.save(update_fields=["status", "additional_details", "modified_by", "modified_at"])
        bills_cancelled(bill_ids=[latest.pk], actor=caller.username, at=at)
    return CancelOutcome(count=1, bill=latest)


def bill_cancel_one(
    *, caller: Caller, bill_id: Any, reason: str, reason_message: str, at: dt.datetime, description: str = ""
) -> Bill:
    """Cancel one ACTIVE bill by id (REST face and admin)."""
    details: dict[str, Any] = {"reason": reason, "reasonMessage": reason_message}
    if description:
        details["description"] = description
    _check_reason(details)
    bill = Bill.objects.select_related("tenant", "account").filter(pk=bill_id).first()
    if bill is None:
        raise NotFound(NOT_FOUND, f"No bill {bill_id}.")
    require_role(caller, bill.tenant.code, CANCEL_ROLES, "cancel bills")
    with transaction.atomic(durable=True):
        consumer_accounts_lock([(bill.tenant.code, bill.business_service, bill.consumer_code)], at=at)
        bill = Bill.objects.select_for_update(of=("self",)).select_related("tenant", "account").get(pk=bill.pk)
        if bill.status in (BillStatus.PAID, BillStatus.PARTIALLY_PAID):
            raise ConflictError(EG_BS_BILL_PAID, "You cannot cancel the bill in the workflow")
        if bill.status != BillStatus.ACTIVE:
            raise ConflictError(EG_BS_BILL_NOT_ACTIVE, f"Bill {bill.bill_number} is {bill.status}")
        bill.additional_details = _merge(details, bill.additional_details)
        bill.status = BillStatus.CANCELLED
        bill.modified_by, bill.modified_at = caller.username, at
        bill.save(update_fields=["status", "additional_details", "modified_by", "modified_at"])
        bills_cancelled(bill_ids=[bill.pk], actor=caller.username, at=at)
    return bill
