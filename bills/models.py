"""Bills: a point-in-time snapshot of what a consumer owes (reference §4.5–4.7, §5.4–5.6), and bulk billing runs."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from billing_project.fields import MoneyField
from demands.models import ConsumerAccount, Demand, DemandDetail
from masters.models import Payer, Tenant


class BillStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    PAID = "PAID"
    PARTIALLY_PAID = "PARTIALLY_PAID", "Partially paid"


class Bill(models.Model):
    """One bill of one consumer account. At most one ACTIVE bill per account (database-enforced)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(ConsumerAccount, on_delete=models.PROTECT, related_name="bills")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="bills")
    business_service = models.CharField(max_length=64)
    consumer_code = models.CharField(max_length=250)
    bill_number = models.CharField(max_length=256)
    bill_date = models.DateTimeField()
    status = models.CharField(max_length=16, choices=BillStatus.choices, default=BillStatus.ACTIVE)
    revision = models.BigIntegerField(help_text="The consumer account revision the bill was built from.")
    expiry_date = models.DateTimeField(help_text="The earliest expiry of its details; past it the bill is stale.")
    total_amount = MoneyField()
    payer = models.ForeignKey(Payer, null=True, blank=True, on_delete=models.PROTECT, related_name="bills")
    payer_name = models.CharField(max_length=256, blank=True)
    payer_address = models.CharField(max_length=1024, blank=True)
    payer_email = models.CharField(max_length=256, blank=True)
    mobile_number = models.CharField(max_length=20, blank=True)
    additional_details = models.JSONField(null=True, blank=True)
    file_store_id = models.CharField(max_length=256, blank=True)
    run = models.ForeignKey("BillingRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="bills")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    modified_by = models.CharField(max_length=150)
    modified_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "bill_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(status="ACTIVE"), name="bills_bill_one_active_per_account"
            ),
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="bills_bill_total_not_negative"),
            # Per tenant: with city-level numbering two cities both have BILLNO-PT-000001.
            models.UniqueConstraint(fields=["tenant", "bill_number"], name="bills_bill_unique_number"),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "business_service", "consumer_code", "created_at"], name="bills_by_consumer"
            ),
            models.Index(fields=["status", "expiry_date"], name="bills_by_status_expiry"),
            models.Index(fields=["mobile_number"], name="bills_by_mobile"),
            models.Index(fields=["tenant", "created_at"], name="bills_by_tenant_date"),
        ]

    def __str__(self) -> str:
        return self.bill_number


class BillDetail(models.Model):
    """One billed demand (one tax period) of a bill."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="details")
    demand = models.ForeignKey(Demand, on_delete=models.PROTECT, related_name="bill_details")
    from_period = models.DateTimeField()
    to_period = models.DateTimeField()
    expiry_date = models.DateTimeField()
    amount = MoneyField()
    amount_paid = MoneyField(null=True, blank=True)
    additional_details = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["bill_id", "from_period"]

    def __str__(self) -> str:
        return f"{self.bill_id} {self.from_period:%Y-%m-%d} {self.amount}"


class BillAccountDetail(models.Model):
    """One tax head of a billed period: the sum of its dues."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    bill_detail = models.ForeignKey(BillDetail, on_delete=models.CASCADE, related_name="account_details")
    demand_detail = models.ForeignKey(DemandDetail, on_delete=models.PROTECT, related_name="bill_account_details")
    tax_head_code = models.CharField(max_length=64)
    order = models.IntegerField(default=0)
    amount = MoneyField()
    adjusted_amount = MoneyField(default=0)

    class Meta:
        ordering = ["bill_detail_id", "order", "tax_head_code"]

    def __str__(self) -> str:
        return f"{self.tax_head_code} {self.amount}"


class RunStatus(models.TextChoices):
    PENDING = "PENDING", "Waiting to start"
    RUNNING = "RUNNING", "Running"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


class BillingRun(models.Model):
    """A bulk bill generation for a (tenant, business service), optionally limited to consumer codes.

    Progress is committed with every chunk (``cursor`` = the last consumer account handled), so a run resumes
    where it stopped after a crash without billing anyone twice.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="billing_runs")
    business_service = models.CharField(max_length=64)
    consumer_codes = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING)
    chunk_size = models.PositiveIntegerField(default=500)
    total_consumers = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    bills_created = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Consumers already holding a current bill, or no dues.")
    failed = models.PositiveIntegerField(default=0)
    cursor = models.BigIntegerField(default=0, help_text="Last consumer account id handled.")
    error = models.TextField(blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    cancelled_by = models.CharField(max_length=150, blank=True)
    cancel_reason = models.CharField(max_length=1024, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="bills_run_by_status")]

    def __str__(self) -> str:
        return f"Billing run {self.pk} ({self.business_service})"

    @property
    def progress_percent(self) -> float:
        return round(100.0 * self.processed / self.total_consumers, 1) if self.total_consumers else 100.0


class BillingRunError(models.Model):
    """A consumer a run could not bill, and why."""

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="errors")
    consumer_code = models.CharField(max_length=250)
    code = models.CharField(max_length=64)
    message = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["run_id", "id"]

    def __str__(self) -> str:
        return f"{self.consumer_code}: {self.code}"
