"""The collection face's Payment JSON (collection-services v2) and its request bodies.

Request keys are read case-insensitively; times are epoch milliseconds; amounts JSON numbers. A payment
detail's ``bill`` is the bill as this payment apportioned it, from the payment's own account lines (so it
stays true after a cancellation clears the bill's paid amounts): ``billDetails[].amountPaid`` and
``billAccountDetails[].adjustedAmount``; an overpayment kept as advance shows the reference's shape (the
advance line's ``amount`` is ``-advance``, its ``adjustedAmount`` 0).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from billing_project.digit.schema import EpochMillisField
from billing_project.digit.serializers import DigitCharField, DigitSerializer
from billing_project.digit.timeconv import to_epoch_ms
from billing_project.fields import MoneySerializerField
from billing_project.money import ZERO
from bills.api.digit_serializers import bill_json
from payments.models import Payment, PaymentAccountLine, PaymentDetail, PaymentMode
from payments.services import PaymentDetailInput, PaymentInput

WORKFLOW_ACTIONS = ("CANCEL", "DISHONOUR", "REMIT")


class PaymentDetailRequestSerializer(DigitSerializer):
    billId = DigitCharField(max_length=64)
    businessService = DigitCharField(max_length=64)
    totalDue = MoneySerializerField()
    totalAmountPaid = MoneySerializerField()
    manualReceiptNumber = DigitCharField(max_length=256, required=False, allow_blank=True, allow_null=True)
    additionalDetails = serializers.JSONField(required=False, allow_null=True)


class PaymentRequestSerializer(DigitSerializer):
    """The reference's Payment. ``paidBy``/``mobileNumber``/payer fields default from the first bill."""

    tenantId = DigitCharField(max_length=256)
    totalDue = MoneySerializerField()
    totalAmountPaid = MoneySerializerField()
    paymentMode = serializers.ChoiceField(choices=PaymentMode.choices)
    paymentDetails = PaymentDetailRequestSerializer(many=True, allow_empty=False)
    paidBy = DigitCharField(max_length=256, required=False, allow_blank=True, allow_null=True)
    mobileNumber = DigitCharField(max_length=20, required=False, allow_blank=True, allow_null=True)
    payerName = DigitCharField(max_length=256, required=False, allow_blank=True, allow_null=True)
    payerAddress = DigitCharField(max_length=1024, required=False, allow_blank=True, allow_null=True)
    payerEmail = DigitCharField(max_length=256, required=False, allow_blank=True, allow_null=True)
    payerId = serializers.UUIDField(required=False, allow_null=True)
    instrumentNumber = DigitCharField(max_length=128, required=False, allow_blank=True, allow_null=True)
    instrumentDate = EpochMillisField(required=False, allow_null=True)
    ifscCode = DigitCharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    transactionNumber = DigitCharField(max_length=256, required=False, allow_blank=True, allow_null=True)
    transactionDate = EpochMillisField(required=False, allow_null=True)
    additionalDetails = serializers.JSONField(required=False, allow_null=True)


class PaymentCreateRequestSerializer(DigitSerializer):
    Payment = PaymentRequestSerializer()

    def to_input(self) -> PaymentInput:
        data: dict[str, Any] = self.validated_data["Payment"]
        return PaymentInput(
            tenant_code=data["tenantId"],
            payment_mode=data["paymentMode"],
            total_due=data["totalDue"],
            total_amount_paid=data["totalAmountPaid"],
            details=tuple(
                PaymentDetailInput(
                    bill_id=detail["billId"],
                    business_service=detail["businessService"],
                    total_due=detail["totalDue"],
                    total_amount_paid=detail["totalAmountPaid"],
                    manual_receipt_number=detail.get("manualReceiptNumber") or "",
                    additional_details=detail.get("additionalDetails"),
                )
                for detail in data["paymentDetails"]
            ),
            paid_by=data.get("paidBy") or "",
            payer_name=data.get("payerName") or "",
            payer_address=data.get("payerAddress") or "",
            payer_email=data.get("payerEmail") or "",
            mobile_number=data.get("mobileNumber") or "",
            payer_id=data.get("payerId"),
            instrument_number=data.get("instrumentNumber") or "",
            instrument_date=data.get("instrumentDate"),
            ifsc_code=data.get("ifscCode") or "",
            transaction_number=data.get("transactionNumber") or "",
            transaction_date=data.get("transactionDate"),
            additional_details=data.get("additionalDetails"),
        )


class PaymentWorkflowSerializer(DigitSerializer):
    paymentId = serializers.UUIDField()
    action = serializers.ChoiceField(choices=WORKFLOW_ACTIONS)
    tenantId = DigitCharField(max_length=256)
    reason = DigitCharField(max_length=2048, required=False, allow_blank=True, allow_null=True)
    additionalDetails = serializers.JSONField(required=False, allow_null=True)


class PaymentWorkflowRequestSerializer(DigitSerializer):
    PaymentWorkflows = PaymentWorkflowSerializer(many=True, allow_empty=False)


def _text(value: str) -> str | None:
    return value or None


def _apportioned_bill(detail: PaymentDetail, *, now: dt.datetime) -> dict[str, Any]:
    """The detail's bill with what this payment applied to each period and account line."""
    bill = bill_json(detail.bill, now=now)
    lines: list[PaymentAccountLine] = list(detail.account_lines.all())
    by_account = {str(line.bill_account_detail_id): line for line in lines if line.bill_account_detail_id}
    for period in bill["billDetails"]:
        mine = [line for line in lines if str(line.bill_detail_id) == period["id"]]
        period["amountPaid"] = sum((line.adjusted_amount + line.advance_amount for line in mine), ZERO)
        for account in period["billAccountDetails"]:
            line = by_account.get(account["id"])
            account["adjustedAmount"] = line.adjusted_amount if line else ZERO
            if line is not None and line.advance_amount:
                account["amount"] = line.amount - line.advance_amount
        for line in mine:
            if line.bill_account_detail_id is None:
                period["billAccountDetails"].append(
                    {
                        "id": None,
                        "tenantId": bill["tenantId"],
                        "billDetailId": period["id"],
                        "demandDetailId": None,
                        "order": None,
                        "amount": -line.advance_amount,
                        "adjustedAmount": Decimal("0.00"),
                        "taxHeadCode": line.tax_head_code,
                        "additionalDetails": None,
                        "auditDetails": None,
                    }
                )
    return bill


def _audit(payment: Payment) -> dict[str, Any]:
    return {
        "createdBy": payment.created_by,
        "lastModifiedBy": payment.modified_by,
        "createdTime": to_epoch_ms(payment.created_at),
        "lastModifiedTime": to_epoch_ms(payment.modified_at),
    }


def payment_json(payment: Payment, *, now: dt.datetime) -> dict[str, Any]:
    """A payment as collection-services returns it (load it with details, bills, periods and lines)."""
    tenant = payment.tenant.code
    audit = _audit(payment)
    return {
        "id": str(payment.pk),
        "tenantId": tenant,
        "totalDue": payment.total_due,
        "totalAmountPaid": payment.total_amount_paid,
        "transactionNumber": _text(payment.transaction_number),
        "transactionDate": to_epoch_ms(payment.transaction_date),
        "paymentMode": payment.payment_mode,
        "instrumentDate": to_epoch_ms(payment.instrument_date),
        "instrumentNumber": _text(payment.instrument_number),
        "instrumentStatus": payment.instrument_status,
        "ifscCode": _text(payment.ifsc_code),
        "additionalDetails": payment.additional_details,
        "paymentDetails": [
            {
                "id": str(detail.pk),
                "tenantId": tenant,
                "totalDue": detail.total_due,
                "totalAmountPaid": detail.total_amount_paid,
                "receiptNumber": detail.receipt_number,
                "manualReceiptNumber": _text(detail.manual_receipt_number),
                "manualReceiptDate": None,
                "receiptDate": to_epoch_ms(detail.receipt_date),
                "receiptType": detail.receipt_type,
                "businessService": detail.business_service,
                "billId": str(detail.bill_id),
                "bill": _apportioned_bill(detail, now=now),
                "additionalDetails": detail.additional_details,
                "auditDetails": audit,
            }
            for detail in payment.details.all()
        ],
        "paidBy": _text(payment.paid_by),
        "mobileNumber": _text(payment.mobile_number),
        "payerName": _text(payment.payer_name),
        "payerAddress": _text(payment.payer_address),
        "payerEmail": _text(payment.payer_email),
        "payerId": str(payment.payer_id) if payment.payer_id else None,
        "paymentStatus": payment.status,
        "cancelReason": _text(payment.cancel_reason),
        "fileStoreId": None,
        "auditDetails": audit,
    }
