"""Master data (reference §3), tenants, payers (the citizen registry), roles, id formats and sequences."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class Tenant(models.Model):
    """A state (``pb``) or a city (``pb.amritsar``). A city's masters fall back to its state's."""

    code = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=256, blank=True)
    state = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="cities")
    is_active = models.BooleanField(default=True)
    extra = models.JSONField(
        default=dict,
        db_default={},
        blank=True,
        help_text="Keys of the MDMS tenant entry (city, description...) kept as loaded.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[a-z0-9_]+(\.[a-z0-9_]+)?$"),
                name="masters_tenant_code_format",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_state(self) -> bool:
        return "." not in self.code

    @property
    def state_code(self) -> str:
        return self.code.split(".", 1)[0]


class Role(models.TextChoices):
    SUPERUSER = "SUPERUSER", "Superuser"
    BILLING_ADMIN = "BILLING_ADMIN", "Billing administrator"
    EMPLOYEE = "EMPLOYEE", "Billing employee"
    CASHIER = "CASHIER", "Cashier"
    AMENDMENT_APPROVER = "AMENDMENT_APPROVER", "Amendment approver"
    CITIZEN = "CITIZEN", "Citizen"
    SYSTEM = "SYSTEM", "System client"


class UserRole(models.Model):
    """A role a user holds in one tenant. A role held in a state covers every city of that state."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_roles")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="user_roles")
    role = models.CharField(max_length=32, choices=Role.choices)

    class Meta:
        ordering = ["user_id", "tenant__code", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant", "role"], name="masters_userrole_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role}@{self.tenant.code}"


class BusinessService(models.Model):
    """A revenue stream (PT, WS, TL...) with its payment rules (reference §3.1)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="business_services")
    code = models.CharField(max_length=64)
    business_service = models.CharField(max_length=256, help_text="Display name, e.g. PropertyTax")
    collection_modes_not_allowed = models.JSONField(default=list, blank=True)
    part_payment_allowed = models.BooleanField(default=False)
    is_advance_allowed = models.BooleanField(default=False)
    is_bill_amendment_enabled = models.BooleanField(default=False)
    fractional_payment_allowed = models.BooleanField(
        default=False, help_text="When false, payments must be whole amounts (the reference's behaviour)."
    )
    min_amount_payable = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    demand_update_time = models.BigIntegerField(null=True, blank=True, help_text="Milliseconds; informational.")
    is_voucher_creation_enabled = models.BooleanField(default=False)
    bill_genie_url = models.CharField(max_length=512, blank=True)
    type = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True)
    is_citizen = models.BooleanField(default=False)
    demand_refresh_url = models.URLField(
        max_length=512, blank=True, help_text="Called before an expired bill is regenerated (reference §7.4.5)."
    )
    extra = models.JSONField(default=dict, blank=True, help_text="Keys of the MDMS entry this model has no field for.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="masters_businessservice_unique_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.tenant.code})"


class TaxHeadCategory(models.TextChoices):
    TAX = "TAX"
    FEE = "FEE"
    REBATE = "REBATE"
    EXEMPTION = "EXEMPTION"
    ADVANCE_COLLECTION = "ADVANCE_COLLECTION"
    PENALTY = "PENALTY"
    FINES = "FINES"
    CHARGES = "CHARGES"


class TaxHeadMaster(models.Model):
    """A line type of a demand (tax, cess, rebate...) of one business service (reference §3.2)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="tax_heads")
    code = models.CharField(max_length=64)
    service = models.CharField(max_length=64, db_index=True, help_text="Business service code")
    name = models.CharField(max_length=256)
    category = models.CharField(max_length=32, choices=TaxHeadCategory.choices)
    order = models.IntegerField(default=0, help_text="Tie-breaker in apportioning")
    is_debit = models.BooleanField(default=False)
    is_actual_demand = models.BooleanField(default=False)
    is_required = models.BooleanField(default=False)
    is_bill_amend = models.BooleanField(default=False)
    is_discount_applicable = models.BooleanField(default=False)
    extra = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant__code", "service", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="masters_taxheadmaster_unique_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.tenant.code})"


class TaxPeriod(models.Model):
    """A billing period of one business service (reference §3.3). ``period_cycle`` accepts any value."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="tax_periods")
    service = models.CharField(max_length=64, help_text="Business service code")
    code = models.CharField(max_length=64)
    from_date = models.DateTimeField()
    to_date = models.DateTimeField()
    period_cycle = models.CharField(max_length=32)
    financial_year = models.CharField(max_length=16)
    extra = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant__code", "service", "from_date"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "service", "code"], name="masters_taxperiod_unique_code"),
            models.CheckConstraint(
                condition=models.Q(from_date__lte=models.F("to_date")), name="masters_taxperiod_from_before_to"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "service", "from_date", "to_date"], name="masters_taxperiod_range")]

    def __str__(self) -> str:
        return f"{self.service}/{self.code} ({self.tenant.code})"


class GLCode(models.Model):
    """Accounting code of a tax head (MDMS ``BillingService.GLCode``); informational."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="gl_codes")
    code = models.CharField(max_length=64)
    gl_code = models.CharField(max_length=64, null=True, blank=True)
    cb = models.CharField(max_length=128, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["tenant__code", "code"]
        verbose_name = "GL code"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code", "cb"], name="masters_glcode_unique_code"),
        ]

    def __str__(self) -> str:
        return self.code


class PayerType(models.TextChoices):
    CITIZEN = "CITIZEN"
    EMPLOYEE = "EMPLOYEE"
    SYSTEM = "SYSTEM"


class PayerSource(models.TextChoices):
    LOCAL = "LOCAL", "Registered here"
    EGOV_USER = "EGOV_USER", "egov-user (DIGIT)"


class Payer(models.Model):
    """A person or body who owes demands (the reference's egov-user, kept at state level).

    A payer known by its egov-user uuid (``source=EGOV_USER``) is stored under that uuid; its details come from
    egov-user and may be incomplete (a blank name, a privacy-masked mobile number such as ``******2708``).
    """

    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="payers", help_text="State-level tenant")
    name = models.CharField(max_length=256)
    mobile_number = models.CharField(max_length=10, db_index=True)
    email = models.EmailField(max_length=254, blank=True, db_index=True)
    type = models.CharField(max_length=16, choices=PayerType.choices, default=PayerType.CITIZEN)
    gender = models.CharField(max_length=16, blank=True)
    father_or_husband_name = models.CharField(max_length=256, blank=True)
    correspondence_address = models.TextField(blank=True)
    permanent_address = models.TextField(blank=True)
    permanent_city = models.CharField(max_length=128, blank=True)
    permanent_pincode = models.CharField(max_length=10, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payer",
        help_text="The login of a citizen who sees this payer's demands and bills.",
    )
    active = models.BooleanField(default=True)
    source = models.CharField(
        max_length=16, choices=PayerSource.choices, default=PayerSource.LOCAL, db_default=PayerSource.LOCAL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "mobile_number"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "mobile_number",
                "tenant",
                condition=models.Q(source="LOCAL"),
                name="masters_payer_unique_name_mobile",
            ),
            models.CheckConstraint(
                condition=models.Q(mobile_number__regex=r"^[0-9]{10}$")
                | models.Q(source="EGOV_USER", mobile_number__regex=r"^[0-9*]{0,10}$"),
                name="masters_payer_mobile_format",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.mobile_number})"


class DigitUser(models.Model):
    """A DIGIT (egov-user) identity and the local login that stands for it.

    Created the first time egov-user vouches for one of the user's tokens; ``user`` carries the mapped roles
    (``UserRole``) so that the admin and background jobs see the same caller. ``user.username`` is the DIGIT uuid
    (what audit fields record); the link is always looked up by ``uuid``, never by username.
    """

    uuid = models.CharField(max_length=64, unique=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digit_identity")
    user_type = models.CharField(max_length=16, blank=True, help_text="EMPLOYEE, CITIZEN or SYSTEM, as egov-user says")
    tenant_code = models.CharField(max_length=128, blank=True)
    user_name = models.CharField(max_length=256, blank=True)
    name = models.CharField(max_length=256, blank=True)
    mobile_number = models.CharField(max_length=32, blank=True)
    email = models.CharField(max_length=256, blank=True)
    roles = models.JSONField(default=list, blank=True, help_text="The DIGIT roles [{code, tenantId}] last seen.")
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["uuid"]
        verbose_name = "DIGIT user"

    def __str__(self) -> str:
        return f"{self.user_name or self.uuid} ({self.user_type})"


class IdFormat(models.Model):
    """How an id is built (MDMS ``common-masters.IdFormat``), per tenant; a city falls back to its state."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="id_formats")
    id_name = models.CharField(max_length=128)
    format = models.CharField(max_length=256)

    class Meta:
        ordering = ["tenant__code", "id_name"]
        verbose_name = "id format"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id_name"], name="masters_idformat_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.id_name}={self.format} ({self.tenant.code})"


class IdSequence(models.Model):
    """A counter behind ``[SEQ_name]``. Drawn under the row lock inside the caller's transaction: gap-free."""

    name = models.CharField(max_length=200, unique=True)
    last_value = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(last_value__gte=0), name="masters_idsequence_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"
