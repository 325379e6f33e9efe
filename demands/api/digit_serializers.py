"""The DIGIT face's Demand JSON (reference §4.1–4.4): request parsing into service inputs, and rendering."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from billing_project.digit.serializers import DigitCharField, DigitSerializer
from billing_project.digit.timeconv import duration_to_ms, from_epoch_ms, ms_to_duration, to_epoch_ms
from billing_project.fields import MoneySerializerField
from billing_project.money import ZERO
from demands.models import Demand, DemandDetail
from demands.services import DemandInput, DetailInput, PayerInput
from masters.models import Payer

_MOBILE = re.compile(r"[0-9]{10}")
_MOBILE_OR_MASKED = re.compile(r"[0-9]{10}|[0-9*]{1,10}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class PayerRefSerializer(DigitSerializer):
    """A demand's payer (DIGIT's User). Given by ``uuid`` (what DIGIT's calculators send, with the egov-user
    record around it), its other fields are hints: a privacy-masked mobile number (``******2708``) is accepted,
    as DIGIT accepts it. Without a uuid, ``mobileNumber`` must be 10 digits and ``emailId`` an e-mail address."""

    uuid = serializers.UUIDField(required=False, allow_null=True)
    name = DigitCharField(required=False, allow_null=True, allow_blank=True, max_length=256)
    mobileNumber = DigitCharField(required=False, allow_null=True, allow_blank=True, max_length=64)
    emailId = DigitCharField(required=False, allow_null=True, allow_blank=True, max_length=256)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        mobile = (attrs.get("mobileNumber") or "").strip()
        email = (attrs.get("emailId") or "").strip()
        if attrs.get("uuid"):
            attrs["mobileNumber"] = mobile if _MOBILE_OR_MASKED.fullmatch(mobile) else None
            attrs["emailId"] = email if _EMAIL.fullmatch(email) else None
            return attrs
        if mobile and not _MOBILE.fullmatch(mobile):
            raise serializers.ValidationError({"mobileNumber": ["Must be exactly 10 digits."]})
        if email and not _EMAIL.fullmatch(email):
            raise serializers.ValidationError({"emailId": ["Enter a valid email address."]})
        return attrs


class DemandDetailInSerializer(DigitSerializer):
    id = serializers.UUIDField(required=False, allow_null=True)
    taxHeadMasterCode = DigitCharField(max_length=64)
    taxAmount = MoneySerializerField()
    collectionAmount = MoneySerializerField(required=False, allow_null=True)
    additionalDetails = serializers.JSONField(required=False, allow_null=True)


class DemandInSerializer(DigitSerializer):
    id = serializers.UUIDField(required=False, allow_null=True)
    tenantId = DigitCharField(max_length=128)
    consumerCode = DigitCharField(max_length=250)
    consumerType = DigitCharField(max_length=250)
    businessService = DigitCharField(max_length=64)
    payer = PayerRefSerializer(required=False, allow_null=True)
    taxPeriodFrom = serializers.IntegerField()
    taxPeriodTo = serializers.IntegerField()
    demandDetails = DemandDetailInSerializer(many=True, allow_empty=False)
    billExpiryTime = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    fixedBillExpiryDate = serializers.IntegerField(required=False, allow_null=True)
    additionalDetails = serializers.JSONField(required=False, allow_null=True)
    minimumAmountPayable = MoneySerializerField(required=False, allow_null=True, min_value=Decimal(0))
    status = DigitCharField(required=False, allow_null=True, max_length=16)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("taxPeriodFrom", "taxPeriodTo", "fixedBillExpiryDate"):
            try:
                from_epoch_ms(attrs.get(name))
            except (ValueError, OverflowError):
                raise serializers.ValidationError({name: ["Not a time in epoch milliseconds."]}) from None
        return attrs


class DemandRequestSerializer(DigitSerializer):
    Demands = DemandInSerializer(many=True, allow_empty=False)


def demand_input(data: dict[str, Any]) -> DemandInput:
    """Service input from a validated DIGIT Demand."""
    payer_data = data.get("payer") or None
    payer = None
    if payer_data and any(payer_data.get(k) for k in ("uuid", "name", "mobileNumber")):
        payer = PayerInput(
            uuid=payer_data.get("uuid"),
            name=payer_data.get("name") or None,
            mobile_number=payer_data.get("mobileNumber") or None,
            email=payer_data.get("emailId") or None,
        )
    return DemandInput(
        id=data.get("id"),
        tenant_code=data["tenantId"],
        consumer_code=data["consumerCode"],
        consumer_type=data["consumerType"],
        business_service=data["businessService"],
        payer=payer,
        tax_period_from=from_epoch_ms(data["taxPeriodFrom"]),  # type: ignore[arg-type]
        tax_period_to=from_epoch_ms(data["taxPeriodTo"]),  # type: ignore[arg-type]
        bill_expiry_time=ms_to_duration(data.get("billExpiryTime")) or None,
        fixed_bill_expiry_date=from_epoch_ms(data.get("fixedBillExpiryDate")),
        minimum_amount_payable=data.get("minimumAmountPayable") or ZERO,
        additional_details=data.get("additionalDetails"),
        status=data.get("status") or None,
        details=tuple(
            DetailInput(
                id=line.get("id"),
                tax_head_code=line["taxHeadMasterCode"],
                tax_amount=line["taxAmount"],
                collection_amount=line.get("collectionAmount"),
                additional_details=line.get("additionalDetails"),
            )
            for line in data["demandDetails"]
        ),
    )


def payer_json(payer: Payer | None) -> dict[str, Any] | None:
    """The reference's User object (§4.4) for a payer."""
    if payer is None:
        return None
    return {
        "id": None,
        "uuid": str(payer.uuid),
        "userName": payer.mobile_number,
        "type": payer.type,
        "salutation": None,
        "name": payer.name,
        "gender": payer.gender or None,
        "mobileNumber": payer.mobile_number,
        "emailId": payer.email or None,
        "altContactNumber": None,
        "pan": None,
        "aadhaarNumber": None,
        "fatherOrHusbandName": payer.father_or_husband_name or None,
        "permanentAddress": payer.permanent_address or None,
        "permanentCity": payer.permanent_city or None,
        "permanentPinCode": payer.permanent_pincode or None,
        "correspondenceAddress": payer.correspondence_address or None,
        "correspondenceCity": None,
        "correspondencePinCode": None,
        "active": payer.active,
        "tenantId": payer.tenant.code,
    }


def _audit(created_by: str, created_at: Any, modified_by: str, modified_at: Any) -> dict[str, Any]:
    return {
        "createdBy": created_by,
        "lastModifiedBy": modified_by,
        "createdTime": to_epoch_ms(created_at),
        "lastModifiedTime": to_epoch_ms(modified_at),
    }


def detail_json(line: DemandDetail, tenant_code: str) -> dict[str, Any]:
    return {
        "id": str(line.pk),
        "demandId": str(line.demand_id),
        "taxHeadMasterCode": line.tax_head_code,
        "taxAmount": line.tax_amount,
        "collectionAmount": line.collection_amount,
        "additionalDetails": line.additional_details,
        "auditDetails": _audit(line.created_by, line.created_at, line.modified_by, line.modified_at),
        "tenantId": tenant_code,
    }


def demand_json(demand: Demand) -> dict[str, Any]:
    """A demand as the reference returns it (payer expanded; ``billExpiryTime`` 0 when unset)."""
    tenant_code = demand.tenant.code
    return {
        "id": str(demand.pk),
        "tenantId": tenant_code,
        "consumerCode": demand.consumer_code,
        "consumerType": demand.consumer_type,
        "businessService": demand.business_service,
        "payer": payer_json(demand.payer),
        "taxPeriodFrom": to_epoch_ms(demand.tax_period_from),
        "taxPeriodTo": to_epoch_ms(demand.tax_period_to),
        "demandDetails": [detail_json(line, tenant_code) for line in demand.details.all()],
        "auditDetails": _audit(demand.created_by, demand.created_at, demand.modified_by, demand.modified_at),
        "fixedBillExpiryDate": to_epoch_ms(demand.fixed_bill_expiry_date),
        "billExpiryTime": duration_to_ms(demand.bill_expiry_time) or 0,
        "additionalDetails": demand.additional_details,
        "minimumAmountPayable": demand.minimum_amount_payable,
        "isPaymentCompleted": demand.is_payment_completed,
        "status": demand.status,
    }
