"""The DIGIT face's Bill JSON (reference §4.5–4.7, §15) and the ``UpdateBillCriteria`` of ``/bill/v2/_cancelbill``.

Rendering follows the reference's BillV2: every field is present, empty text stored on the model is ``null``,
times are epoch milliseconds, amounts are JSON numbers (``DigitJSONRenderer``). A bill's ``status`` is the
status a reader should see (``bills.selectors.effective_status``): an ACTIVE bill past its expiry or behind
its consumer account reads ``EXPIRED``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers

from billing_project.digit.serializers import DigitCharField, DigitSerializer
from billing_project.digit.timeconv import to_epoch_ms
from bills.models import Bill, BillAccountDetail, BillDetail
from bills.selectors import effective_status
from masters.domain.privacy import mask_address, mask_email, mask_mobile, mask_name


class UpdateBillCriteriaSerializer(DigitSerializer):
    """The reference's UpdateBillCriteria. ``statusToBeUpdated`` is accepted and ignored (always CANCELLED),
    as are ``billIds``. A missing ``additionalDetails`` is left to the service, which answers with the
    reference's reason error (``EG_BS_CANCELL_REASON_CODE_NOT``)."""

    tenantId = DigitCharField(max_length=256)
    consumerCodes = serializers.ListField(child=DigitCharField(max_length=250), allow_empty=True)
    businessService = DigitCharField(max_length=256)
    additionalDetails = serializers.DictField(required=False, allow_null=True)
    statusToBeUpdated = DigitCharField(required=False, allow_null=True, allow_blank=True, max_length=32)
    billIds = serializers.ListField(child=serializers.CharField(), required=False, allow_null=True)


class UpdateBillRequestSerializer(DigitSerializer):
    UpdateBillCriteria = UpdateBillCriteriaSerializer()


def _text(value: str) -> str | None:
    return value or None


def _audit(bill: Bill) -> dict[str, Any]:
    return {
        "createdBy": bill.created_by,
        "lastModifiedBy": bill.modified_by,
        "createdTime": to_epoch_ms(bill.created_at),
        "lastModifiedTime": to_epoch_ms(bill.modified_at),
    }


def account_detail_json(line: BillAccountDetail, tenant_code: str) -> dict[str, Any]:
    return {
        "id": str(line.pk),
        "tenantId": tenant_code,
        "billDetailId": str(line.bill_detail_id),
        "demandDetailId": str(line.demand_detail_id),
        "order": line.order,
        "amount": line.amount,
        "adjustedAmount": line.adjusted_amount,
        "taxHeadCode": line.tax_head_code,
        "additionalDetails": None,
        "auditDetails": None,
    }


def bill_detail_json(detail: BillDetail, tenant_code: str) -> dict[str, Any]:
    return {
        "id": str(detail.pk),
        "tenantId": tenant_code,
        "demandId": str(detail.demand_id),
        "billId": str(detail.bill_id),
        "expiryDate": to_epoch_ms(detail.expiry_date),
        "amount": detail.amount,
        "amountPaid": detail.amount_paid,
        "fromPeriod": to_epoch_ms(detail.from_period),
        "toPeriod": to_epoch_ms(detail.to_period),
        "additionalDetails": detail.additional_details,
        "billAccountDetails": [account_detail_json(line, tenant_code) for line in detail.account_details.all()],
    }


def bill_json(bill: Bill, *, now: dt.datetime, masked: bool = False) -> dict[str, Any]:
    """A bill as the reference returns it (load it with ``bills_with_details()``).

    ``masked``: the payer's name, mobile number, address and e-mail are masked (``masters.domain.privacy``), for a
    caller who may see the bill but not who owes it."""
    tenant_code = bill.tenant.code
    mobile, name = _text(bill.mobile_number), _text(bill.payer_name)
    address, email = _text(bill.payer_address), _text(bill.payer_email)
    if masked:
        mobile, name, address, email = mask_mobile(mobile), mask_name(name), mask_address(address), mask_email(email)
    return {
        "id": str(bill.pk),
        "userId": str(bill.payer_id) if bill.payer_id else None,
        "mobileNumber": mobile,
        "payerName": name,
        "payerAddress": address,
        "payerEmail": email,
        "status": effective_status(bill, now),
        "totalAmount": bill.total_amount,
        "businessService": bill.business_service,
        "billNumber": bill.bill_number,
        "billDate": to_epoch_ms(bill.bill_date),
        "consumerCode": bill.consumer_code,
        "additionalDetails": bill.additional_details,
        "tenantId": tenant_code,
        "fileStoreId": _text(bill.file_store_id),
        "auditDetails": _audit(bill),
        "billDetails": [bill_detail_json(detail, tenant_code) for detail in bill.details.all()],
    }
