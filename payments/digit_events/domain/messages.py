"""DIGIT collection-services' ``PaymentRequest`` Kafka message (pure).

``{"RequestInfo": {...}, "Payment": {"id", "tenantId", "totalDue", "totalAmountPaid", "transactionNumber",
"transactionDate", "paymentMode", "instrumentDate", "instrumentNumber", "instrumentStatus", "ifscCode",
"auditDetails", "additionalDetails", "paymentDetails": [{"id", "tenantId", "totalDue", "totalAmountPaid",
"receiptNumber", "manualReceiptNumber", "receiptDate", "receiptType", "businessService", "billId", "bill": {...,
"billDetails": [{"id", "amountPaid", "billAccountDetails": [{"id", "taxHeadCode", "amount", "adjustedAmount"}]}]}}],
"paidBy", "mobileNumber", "payerName", "payerAddress", "payerEmail", "payerId", "paymentStatus"}}``.

Keys are read case-sensitively as collection-services writes them (Jackson, ``@JsonProperty``). What this service
needs to apply or reverse the payment must be there and well formed, else ``MessageInvalid`` (the message is
parked); everything else is optional.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from billing_project.money import MoneyError, to_money

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class MessageInvalid(ValueError):
    """The message is not a PaymentRequest this service can apply (``code`` is stable)."""

    def __init__(self, message: str, code: str = "DIGIT_MESSAGE_INVALID") -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class AccountLine:
    """One billAccountDetail as collection-services apportioned it."""

    id: uuid.UUID | None
    tax_head_code: str
    amount: Decimal
    adjusted_amount: Decimal


@dataclass(frozen=True)
class PeriodLine:
    id: uuid.UUID | None
    amount_paid: Decimal | None
    account_lines: tuple[AccountLine, ...]


@dataclass(frozen=True)
class DigitPaymentDetail:
    id: uuid.UUID | None
    bill_id: uuid.UUID
    business_service: str
    total_due: Decimal
    total_amount_paid: Decimal
    receipt_number: str
    receipt_date: dt.datetime | None
    receipt_type: str
    manual_receipt_number: str
    periods: tuple[PeriodLine, ...]
    additional_details: Any


@dataclass(frozen=True)
class DigitPayment:
    id: uuid.UUID
    tenant_id: str
    total_due: Decimal
    total_amount_paid: Decimal
    payment_mode: str
    payment_status: str
    instrument_status: str
    instrument_number: str
    instrument_date: dt.datetime | None
    ifsc_code: str
    transaction_number: str
    transaction_date: dt.datetime | None
    paid_by: str
    payer_name: str
    payer_address: str
    payer_email: str
    mobile_number: str
    payer_id: uuid.UUID | None
    created_by: str
    modified_by: str
    additional_details: Any
    details: tuple[DigitPaymentDetail, ...]


def _obj(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MessageInvalid(f"{what} must be a JSON object")
    return value


def _text(data: Mapping[str, Any], key: str, *, required: bool = False, what: str = "") -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise MessageInvalid(f"{what}{key} is missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MessageInvalid(f"{what}{key} must be text")
    return str(value).strip()


def _uuid(data: Mapping[str, Any], key: str, *, required: bool = False, what: str = "") -> uuid.UUID | None:
    text = _text(data, key, required=required, what=what)
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise MessageInvalid(f"{what}{key} {text!r} is not a UUID", code="DIGIT_MESSAGE_NOT_OURS") from None


def _money(data: Mapping[str, Any], key: str, *, required: bool = True, what: str = "") -> Decimal:
    value = data.get(key)
    if value is None:
        if required:
            raise MessageInvalid(f"{what}{key} is missing")
        return Decimal("0.00")
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise MessageInvalid(f"{what}{key} must be an amount")
    try:
        return to_money(value if isinstance(value, Decimal) else str(value))
    except (MoneyError, InvalidOperation):
        raise MessageInvalid(f"{what}{key} must be an amount, got {value!r}") from None


def _epoch(data: Mapping[str, Any], key: str, *, what: str = "") -> dt.datetime | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MessageInvalid(f"{what}{key} must be epoch milliseconds")
    try:
        return _EPOCH + dt.timedelta(milliseconds=int(value))
    except OverflowError:
        raise MessageInvalid(f"{what}{key} is out of range") from None


def _account_line(data: Any, where: str) -> AccountLine:
    line = _obj(data, where)
    return AccountLine(
        id=_uuid(line, "id", what=f"{where}."),
        tax_head_code=_text(line, "taxHeadCode", required=True, what=f"{where}."),
        amount=_money(line, "amount", required=False, what=f"{where}."),
        adjusted_amount=_money(line, "adjustedAmount", required=False, what=f"{where}."),
    )


def _period(data: Any, where: str) -> PeriodLine:
    period = _obj(data, where)
    lines = period.get("billAccountDetails") or []
    if not isinstance(lines, list):
        raise MessageInvalid(f"{where}.billAccountDetails must be a list")
    paid = period.get("amountPaid")
    return PeriodLine(
        id=_uuid(period, "id", what=f"{where}."),
        amount_paid=None if paid is None else _money(period, "amountPaid", what=f"{where}."),
        account_lines=tuple(_account_line(item, f"{where}.billAccountDetails[{i}]") for i, item in enumerate(lines)),
    )


def _detail(data: Any, index: int) -> DigitPaymentDetail:
    where = f"Payment.paymentDetails[{index}]"
    detail = _obj(data, where)
    bill = _obj(detail.get("bill") or {}, f"{where}.bill")
    bill_id = _uuid(detail, "billId", what=f"{where}.") or _uuid(bill, "id", required=True, what=f"{where}.bill.")
    assert bill_id is not None
    periods = bill.get("billDetails") or []
    if not isinstance(periods, list):
        raise MessageInvalid(f"{where}.bill.billDetails must be a list")
    return DigitPaymentDetail(
        id=_uuid(detail, "id", what=f"{where}."),
        bill_id=bill_id,
        business_service=_text(detail, "businessService", what=f"{where}.") or _text(bill, "businessService"),
        total_due=_money(detail, "totalDue", required=False, what=f"{where}."),
        total_amount_paid=_money(detail, "totalAmountPaid", what=f"{where}."),
        receipt_number=_text(detail, "receiptNumber", required=True, what=f"{where}."),
        receipt_date=_epoch(detail, "receiptDate", what=f"{where}."),
        receipt_type=_text(detail, "receiptType", what=f"{where}.") or "BILLBASED",
        manual_receipt_number=_text(detail, "manualReceiptNumber", what=f"{where}."),
        periods=tuple(_period(item, f"{where}.bill.billDetails[{i}]") for i, item in enumerate(periods)),
        additional_details=detail.get("additionalDetails"),
    )


def parse_payment_message(raw: bytes | str) -> tuple[DigitPayment, Mapping[str, Any]]:
    """The payment and the RequestInfo of a PaymentRequest message; ``MessageInvalid`` when it cannot be applied."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MessageInvalid(f"not JSON: {exc}", code="DIGIT_MESSAGE_UNPARSEABLE") from None
    body = _obj(data, "the message")
    payment = _obj(body.get("Payment"), "Payment")
    info: Mapping[str, Any] = body["RequestInfo"] if isinstance(body.get("RequestInfo"), Mapping) else {}
    details = payment.get("paymentDetails")
    if not isinstance(details, list) or not details:
        raise MessageInvalid("Payment.paymentDetails must be a non-empty list")
    audit: Mapping[str, Any] = payment["auditDetails"] if isinstance(payment.get("auditDetails"), Mapping) else {}
    user: Mapping[str, Any] = info["userInfo"] if isinstance(info.get("userInfo"), Mapping) else {}
    actor = _text(audit, "createdBy") or _text(user, "uuid") or "collection-services"
    payment_id = _uuid(payment, "id", required=True, what="Payment.")
    assert payment_id is not None
    return (
        DigitPayment(
            id=payment_id,
            tenant_id=_text(payment, "tenantId", required=True, what="Payment."),
            total_due=_money(payment, "totalDue", required=False, what="Payment."),
            total_amount_paid=_money(payment, "totalAmountPaid", what="Payment."),
            payment_mode=_text(payment, "paymentMode", required=True, what="Payment."),
            payment_status=_text(payment, "paymentStatus", what="Payment.") or "NEW",
            instrument_status=_text(payment, "instrumentStatus", what="Payment.") or "APPROVED",
            instrument_number=_text(payment, "instrumentNumber", what="Payment."),
            instrument_date=_epoch(payment, "instrumentDate", what="Payment."),
            ifsc_code=_text(payment, "ifscCode", what="Payment."),
            transaction_number=_text(payment, "transactionNumber", what="Payment."),
            transaction_date=_epoch(payment, "transactionDate", what="Payment."),
            paid_by=_text(payment, "paidBy", what="Payment."),
            payer_name=_text(payment, "payerName", what="Payment."),
            payer_address=_text(payment, "payerAddress", what="Payment."),
            payer_email=_text(payment, "payerEmail", what="Payment."),
            mobile_number=_text(payment, "mobileNumber", what="Payment."),
            payer_id=_uuid(payment, "payerId", what="Payment."),
            created_by=actor[:150],
            modified_by=(_text(audit, "lastModifiedBy") or actor)[:150],
            additional_details=payment.get("additionalDetails"),
            details=tuple(_detail(item, index) for index, item in enumerate(details)),
        ),
        info,
    )


def payment_id_of(raw: bytes | str) -> str | None:
    """The payment id of a message, when one can be read (for the event log of a message that is not valid)."""
    try:
        data = json.loads(raw)
        value = data["Payment"]["id"]
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        return None
    return str(value)[:64] if isinstance(value, str | int) else None
