"""Serializers of the masters API.

REST face: ``*Serializer`` renders a row; ``*CreateSerializer``/``*UpdateSerializer`` validate input only
(plain serializers: they never save, and uniqueness is the service's and the database's business).
DIGIT face: ``Digit*Serializer`` render the reference's JSON shapes (camelCase, ids as strings, times as
epoch milliseconds, legacy keys the reference always sends as ``null``).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from billing_project.digit.schema import DigitResponseInfoSerializer, EpochMillisField
from billing_project.fields import MoneySerializerField
from masters.models import (
    BusinessService,
    IdFormat,
    Payer,
    PayerType,
    TaxHeadCategory,
    TaxHeadMaster,
    TaxPeriod,
    Tenant,
)


def _tenant_code_field() -> serializers.SlugRelatedField[Tenant]:
    return serializers.SlugRelatedField(slug_field="code", read_only=True, help_text="Tenant code")


def _tenant_input(help_text: str = "Tenant code, e.g. pb or pb.amritsar") -> serializers.CharField:
    return serializers.CharField(max_length=128, help_text=help_text)


# --- REST: tenants ---------------------------------------------------------------------------


class TenantSerializer(serializers.ModelSerializer[Tenant]):
    state: serializers.SlugRelatedField[Tenant] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text="The state of a city; null for a state"
    )
    is_state = serializers.BooleanField(read_only=True)

    class Meta:
        model = Tenant
        fields = ["code", "name", "state", "is_state", "is_active"]
        read_only_fields = fields


# --- REST: business services -----------------------------------------------------------------


class BusinessServiceSerializer(serializers.ModelSerializer[BusinessService]):
    tenant = _tenant_code_field()
    collection_modes_not_allowed = serializers.ListField(child=serializers.CharField(), read_only=True)
    extra = serializers.DictField(read_only=True)

    class Meta:
        model = BusinessService
        fields = [
            "id",
            "tenant",
            "code",
            "business_service",
            "collection_modes_not_allowed",
            "part_payment_allowed",
            "is_advance_allowed",
            "is_bill_amendment_enabled",
            "fractional_payment_allowed",
            "min_amount_payable",
            "demand_update_time",
            "is_voucher_creation_enabled",
            "bill_genie_url",
            "type",
            "is_active",
            "is_citizen",
            "demand_refresh_url",
            "extra",
            "updated_at",
        ]
        read_only_fields = fields


class BusinessServiceUpdateSerializer(serializers.Serializer[Any]):
    business_service = serializers.CharField(max_length=256, help_text="Display name, e.g. PropertyTax")
    collection_modes_not_allowed = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, help_text="e.g. DD, CHEQUE, ONLINE"
    )
    part_payment_allowed = serializers.BooleanField(required=False)
    is_advance_allowed = serializers.BooleanField(required=False)
    is_bill_amendment_enabled = serializers.BooleanField(required=False)
    fractional_payment_allowed = serializers.BooleanField(required=False)
    min_amount_payable = MoneySerializerField(min_value=0, required=False, allow_null=True)
    demand_update_time = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    is_voucher_creation_enabled = serializers.BooleanField(required=False)
    bill_genie_url = serializers.CharField(max_length=512, required=False, allow_blank=True)
    type = serializers.CharField(max_length=64, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    is_citizen = serializers.BooleanField(required=False)
    demand_refresh_url = serializers.URLField(max_length=512, required=False, allow_blank=True)
    extra = serializers.DictField(required=False)


class BusinessServiceCreateSerializer(BusinessServiceUpdateSerializer):
    tenant = _tenant_input()
    code = serializers.CharField(max_length=64, help_text="The key, e.g. PT")


# --- REST: tax heads -------------------------------------------------------------------------


class TaxHeadMasterSerializer(serializers.ModelSerializer[TaxHeadMaster]):
    tenant = _tenant_code_field()
    extra = serializers.DictField(read_only=True)

    class Meta:
        model = TaxHeadMaster
        fields = [
            "id",
            "tenant",
            "code",
            "service",
            "name",
            "category",
            "order",
            "is_debit",
            "is_actual_demand",
            "is_required",
            "is_bill_amend",
            "is_discount_applicable",
            "extra",
            "updated_at",
        ]
        read_only_fields = fields


class TaxHeadUpdateSerializer(serializers.Serializer[Any]):
    service = serializers.CharField(max_length=64, help_text="Business service code")
    name = serializers.CharField(max_length=256)
    category = serializers.ChoiceField(choices=TaxHeadCategory.choices)
    order = serializers.IntegerField(required=False, help_text="Tie-breaker in apportioning")
    is_debit = serializers.BooleanField(required=False)
    is_actual_demand = serializers.BooleanField(required=False)
    is_required = serializers.BooleanField(required=False)
    is_bill_amend = serializers.BooleanField(required=False)
    is_discount_applicable = serializers.BooleanField(required=False)
    extra = serializers.DictField(required=False)


class TaxHeadCreateSerializer(TaxHeadUpdateSerializer):
    tenant = _tenant_input()
    code = serializers.CharField(max_length=64, help_text="The key, e.g. PT_TAX")


# --- REST: tax periods -----------------------------------------------------------------------


class TaxPeriodSerializer(serializers.ModelSerializer[TaxPeriod]):
    tenant = _tenant_code_field()
    extra = serializers.DictField(read_only=True)

    class Meta:
        model = TaxPeriod
        fields = [
            "id",
            "tenant",
            "service",
            "code",
            "from_date",
            "to_date",
            "period_cycle",
            "financial_year",
            "extra",
            "updated_at",
        ]
        read_only_fields = fields


class TaxPeriodUpdateSerializer(serializers.Serializer[Any]):
    from_date = serializers.DateTimeField()
    to_date = serializers.DateTimeField()
    period_cycle = serializers.CharField(max_length=32, help_text="MONTH, QUARTER, HALFYEAR, ANNUAL, ...")
    financial_year = serializers.CharField(max_length=16, help_text="e.g. 2024-25")
    extra = serializers.DictField(required=False)


class TaxPeriodCreateSerializer(TaxPeriodUpdateSerializer):
    tenant = _tenant_input()
    service = serializers.CharField(max_length=64, help_text="Business service code")
    code = serializers.CharField(max_length=64, help_text="e.g. PTAN2024")


# --- REST: id formats ------------------------------------------------------------------------


class IdFormatSerializer(serializers.ModelSerializer[IdFormat]):
    tenant = _tenant_code_field()

    class Meta:
        model = IdFormat
        fields = ["id", "tenant", "id_name", "format"]
        read_only_fields = fields


class IdFormatUpdateSerializer(serializers.Serializer[Any]):
    format = serializers.CharField(max_length=256, help_text="e.g. BILLNO-{module}-[SEQ_egbs_billnumber{tenantid}]")


class IdFormatCreateSerializer(IdFormatUpdateSerializer):
    tenant = _tenant_input()
    id_name = serializers.CharField(max_length=128, help_text="e.g. billnumberid")


# --- REST: payers ----------------------------------------------------------------------------


class PayerSerializer(serializers.ModelSerializer[Payer]):
    tenant = _tenant_code_field()

    class Meta:
        model = Payer
        fields = [
            "uuid",
            "tenant",
            "name",
            "mobile_number",
            "email",
            "type",
            "gender",
            "father_or_husband_name",
            "correspondence_address",
            "permanent_address",
            "permanent_city",
            "permanent_pincode",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class _PayerDetailsSerializer(serializers.Serializer[Any]):
    """Shapes only: the registry's rules (10-digit mobile, e-mail format, duplicates) are the service's."""

    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    type = serializers.ChoiceField(choices=PayerType.choices, required=False)
    gender = serializers.CharField(max_length=16, required=False, allow_blank=True)
    father_or_husband_name = serializers.CharField(max_length=256, required=False, allow_blank=True)
    correspondence_address = serializers.CharField(required=False, allow_blank=True)
    permanent_address = serializers.CharField(required=False, allow_blank=True)
    permanent_city = serializers.CharField(max_length=128, required=False, allow_blank=True)
    permanent_pincode = serializers.CharField(max_length=10, required=False, allow_blank=True)


class PayerCreateSerializer(_PayerDetailsSerializer):
    tenant = _tenant_input("Tenant code; the payer is kept in its state's registry")
    name = serializers.CharField(max_length=256)
    mobile_number = serializers.CharField(max_length=32, help_text="10 digits")


class PayerUpdateSerializer(_PayerDetailsSerializer):
    name = serializers.CharField(max_length=256)
    mobile_number = serializers.CharField(max_length=32, help_text="10 digits")
    active = serializers.BooleanField(required=False)


# --- DIGIT face ------------------------------------------------------------------------------


class DigitTaxHeadMasterSerializer(serializers.Serializer[Any]):
    """The reference's ``TaxHeadMaster`` (validFrom/validTill/glCodes/auditDetail are legacy, always null)."""

    id = serializers.CharField(source="pk")
    tenantId = serializers.CharField(source="tenant.code")
    category = serializers.CharField()
    service = serializers.CharField()
    name = serializers.CharField()
    code = serializers.CharField()
    glCodes = serializers.SerializerMethodField()
    isDebit = serializers.BooleanField(source="is_debit")
    isActualDemand = serializers.BooleanField(source="is_actual_demand")
    validFrom = serializers.SerializerMethodField()
    validTill = serializers.SerializerMethodField()
    order = serializers.IntegerField()
    auditDetail = serializers.SerializerMethodField()

    def get_glCodes(self, obj: Any) -> list[str] | None:
        return None

    def get_validFrom(self, obj: Any) -> int | None:
        return None

    def get_validTill(self, obj: Any) -> int | None:
        return None

    def get_auditDetail(self, obj: Any) -> dict[str, Any] | None:
        return None


class DigitTaxPeriodSerializer(serializers.Serializer[Any]):
    """The reference's ``TaxPeriod`` with ``fromDate``/``toDate`` in epoch milliseconds."""

    id = serializers.CharField(source="pk")
    tenantId = serializers.CharField(source="tenant.code")
    fromDate = EpochMillisField(source="from_date")
    toDate = EpochMillisField(source="to_date")
    periodCycle = serializers.CharField(source="period_cycle")
    service = serializers.CharField()
    code = serializers.CharField()
    financialYear = serializers.CharField(source="financial_year")
    auditDetail = serializers.SerializerMethodField()

    def get_auditDetail(self, obj: Any) -> dict[str, Any] | None:
        return None


class DigitBusinessServiceDetailSerializer(serializers.Serializer[Any]):
    """The reference's ``BusinessServiceDetail`` plus the MDMS keys the brief asks for."""

    id = serializers.CharField(source="pk")
    tenantId = serializers.CharField(source="tenant.code")
    businessService = serializers.CharField(source="business_service")
    code = serializers.CharField()
    collectionModesNotAllowed = serializers.ListField(
        child=serializers.CharField(), source="collection_modes_not_allowed"
    )
    partPaymentAllowed = serializers.BooleanField(source="part_payment_allowed")
    isAdvanceAllowed = serializers.BooleanField(source="is_advance_allowed")
    isBillAmendmentEnabled = serializers.BooleanField(source="is_bill_amendment_enabled")
    minAmountPayable = serializers.DecimalField(
        source="min_amount_payable", max_digits=14, decimal_places=2, coerce_to_string=False, allow_null=True
    )
    demandUpdateTime = serializers.IntegerField(source="demand_update_time", allow_null=True)
    isVoucherCreationEnabled = serializers.BooleanField(source="is_voucher_creation_enabled")
    billGineiURL = serializers.CharField(source="bill_genie_url", allow_null=True)
    type = serializers.CharField(allow_null=True)
    isActive = serializers.BooleanField(source="is_active")
    isCitizen = serializers.BooleanField(source="is_citizen")
    callBackForApportioning = serializers.SerializerMethodField()
    callBackApportionURL = serializers.SerializerMethodField()
    auditDetails = serializers.SerializerMethodField()

    def get_callBackForApportioning(self, obj: Any) -> bool:
        return False

    def get_callBackApportionURL(self, obj: Any) -> str | None:
        return None

    def get_auditDetails(self, obj: Any) -> dict[str, Any] | None:
        return None

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        # MDMS leaves optional keys out; the reference then serialises them as null, not "".
        for key in ("billGineiURL", "type"):
            if data[key] == "":
                data[key] = None
        return data


class DigitTaxHeadSearchResponseSerializer(serializers.Serializer[Any]):
    ResponseInfo = DigitResponseInfoSerializer()
    TaxHeadMasters = DigitTaxHeadMasterSerializer(many=True)


class DigitTaxPeriodSearchResponseSerializer(serializers.Serializer[Any]):
    ResponseInfo = DigitResponseInfoSerializer()
    TaxPeriods = DigitTaxPeriodSerializer(many=True)


class DigitBusinessServiceSearchResponseSerializer(serializers.Serializer[Any]):
    ResponseInfo = DigitResponseInfoSerializer()
    BusinessServiceDetails = DigitBusinessServiceDetailSerializer(many=True)
