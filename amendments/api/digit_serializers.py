"""The DIGIT face's Amendment JSON (reference §4.8, §15): request parsing into service inputs, and rendering."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from amendments.domain.workflow import STATUS_OF_STATE, Action, State
from amendments.models import Amendment, AmendmentReason
from amendments.services import AmendmentInput, DocumentInput, LineInput
from billing_project.digit.serializers import DigitCharField, DigitSerializer
from billing_project.digit.timeconv import from_epoch_ms, to_epoch_ms
from billing_project.fields import MoneySerializerField
from billing_project.money import ZERO


class AmendmentLineInSerializer(DigitSerializer):
    taxHeadMasterCode = DigitCharField(max_length=64)
    taxAmount = MoneySerializerField()


class AmendmentDocumentInSerializer(DigitSerializer):
    documentType = DigitCharField(max_length=128)
    fileStoreId = DigitCharField(max_length=256)
    documentUid = DigitCharField(max_length=64, required=False, allow_null=True, allow_blank=True)
    additionalDetails = serializers.JSONField(required=False, allow_null=True)


class AmendmentInSerializer(DigitSerializer):
    tenantId = DigitCharField(max_length=128)
    consumerCode = DigitCharField(max_length=250)
    businessService = DigitCharField(max_length=64)
    amendmentReason = serializers.ChoiceField(choices=AmendmentReason.values)
    reasonDocumentNumber = DigitCharField(max_length=256, required=False, allow_null=True, allow_blank=True)
    effectiveFrom = serializers.IntegerField(required=False, allow_null=True)
    effectiveTill = serializers.IntegerField(required=False, allow_null=True)
    demandDetails = AmendmentLineInSerializer(many=True, allow_empty=False)
    documents = AmendmentDocumentInSerializer(many=True, required=False, allow_null=True)
    additionalDetails = serializers.JSONField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("effectiveFrom", "effectiveTill"):
            try:
                from_epoch_ms(attrs.get(name))
            except (ValueError, OverflowError):
                raise serializers.ValidationError({name: ["Not a time in epoch milliseconds."]}) from None
        return attrs


class AmendmentRequestSerializer(DigitSerializer):
    Amendment = AmendmentInSerializer()


class AmendmentUpdateInSerializer(DigitSerializer):
    amendmentId = DigitCharField(max_length=512)
    tenantId = DigitCharField(max_length=128)
    workflow = serializers.JSONField(required=False, allow_null=True)
    additionalDetails = serializers.JSONField(required=False, allow_null=True)


class AmendmentUpdateRequestSerializer(DigitSerializer):
    AmendmentUpdate = AmendmentUpdateInSerializer()


def amendment_input(data: dict[str, Any]) -> AmendmentInput:
    """Service input from a validated DIGIT Amendment (a client-supplied ``workflow`` is ignored)."""
    return AmendmentInput(
        tenant_code=data["tenantId"],
        consumer_code=data["consumerCode"],
        business_service=data["businessService"],
        reason=data["amendmentReason"],
        reason_document_number=data.get("reasonDocumentNumber") or "",
        effective_from=from_epoch_ms(data.get("effectiveFrom")),
        effective_till=from_epoch_ms(data.get("effectiveTill")),
        additional_details=data.get("additionalDetails"),
        details=tuple(
            LineInput(tax_head_code=line["taxHeadMasterCode"], tax_amount=line["taxAmount"])
            for line in data["demandDetails"]
        ),
        documents=tuple(
            DocumentInput(
                document_type=doc["documentType"],
                file_store_id=doc["fileStoreId"],
                document_uid=doc.get("documentUid") or "",
                additional_details=doc.get("additionalDetails"),
            )
            for doc in data.get("documents") or ()
        ),
    )


def _audit(created_by: str, created_at: Any, modified_by: str, modified_at: Any) -> dict[str, Any]:
    return {
        "createdBy": created_by,
        "lastModifiedBy": modified_by,
        "createdTime": to_epoch_ms(created_at),
        "lastModifiedTime": to_epoch_ms(modified_at),
    }


def workflow_json(amendment: Amendment) -> dict[str, Any] | None:
    """The last workflow action as a ProcessInstance (None for an amendment created with the workflow off)."""
    if amendment.state == State.DIRECT:
        return None
    actions = [t for t in amendment.transitions.all() if t.action != Action.APPLY]
    last = actions[-1] if actions else None
    code = amendment.business_service
    tenant = amendment.tenant.code
    return {
        "id": str(last.pk) if last else None,
        "tenantId": tenant,
        "businessService": f"{code}.AMENDMENT",
        "businessId": amendment.amendment_id,
        "action": (last.requested_action or last.action) if last else None,
        "moduleName": code,
        "state": {
            "tenantId": tenant,
            "businessServiceId": f"{code}.AMENDMENT",
            "state": amendment.state,
            "applicationStatus": STATUS_OF_STATE[State(amendment.state)].value,
        },
        "comment": (last.comment or None) if last else None,
        "assigner": {"userName": last.actor} if last else None,
        "documents": None,
        "auditDetails": _audit(last.actor, last.at, last.actor, last.at) if last else None,
    }


def amendment_json(amendment: Amendment) -> dict[str, Any]:
    tenant = amendment.tenant.code
    demand_id = str(amendment.amended_demand_id) if amendment.amended_demand_id else None
    return {
        "id": str(amendment.pk),
        "tenantId": tenant,
        "amendmentId": amendment.amendment_id,
        "businessService": amendment.business_service,
        "consumerCode": amendment.consumer_code,
        "amendmentReason": amendment.reason,
        "reasonDocumentNumber": amendment.reason_document_number or None,
        "status": amendment.status,
        "workflow": workflow_json(amendment),
        "demandDetails": [
            {
                "id": str(line.pk),
                "demandId": demand_id,
                "taxHeadMasterCode": line.tax_head_code,
                "taxAmount": line.tax_amount,
                "collectionAmount": ZERO,
                "additionalDetails": None,
                "auditDetails": None,
                "tenantId": tenant,
            }
            for line in amendment.details.all()
        ],
        "documents": [
            {
                "id": str(doc.pk),
                "documentType": doc.document_type,
                "fileStoreId": doc.file_store_id,
                "documentUid": doc.document_uid or None,
                "additionalDetails": doc.additional_details,
            }
            for doc in amendment.documents.all()
        ],
        "effectiveFrom": to_epoch_ms(amendment.effective_from),
        "effectiveTill": to_epoch_ms(amendment.effective_till),
        "amendedDemandId": demand_id,
        "auditDetails": _audit(
            amendment.created_by, amendment.created_at, amendment.modified_by, amendment.modified_at
        ),
        "additionalDetails": amendment.additional_details,
    }
