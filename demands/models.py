"""Demands (what a consumer owes per period and tax head), their audit history and the consumer account.

Reference §4.1–4.3, §5.1–5.3, §7.11. Every write goes through ``demands.services`` which bumps the
consumer account's revision under its row lock and appends history rows.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q

from billing_project.fields import MoneyField
from masters.models import Payer, Tenant


class ConsumerAccount(models.Model):
    """One row per (tenant, business service, consumer code): the per-consumer lock and revision counter.

    Every demand write bumps ``revision``; a bill built from an older revision is stale.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="consumer_accounts")
    business_service = models.CharField(max_length=64)
    consumer_code = models.CharField(max_length=250)
    revision = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["tenant__code", "business_service", "consumer_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "business_service", "consumer_code"], name="demands_consumeraccount_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.business_service}/{self.consumer_code} ({self.tenant.code})"


class DemandStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"
    ADJUSTED = "ADJUSTED"


class Demand(models.Model):
    """What one consumer owes for one tax period of one business service."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(ConsumerAccount, on_delete=models.PROTECT, related_name="demands")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="demands")
    business_service = models.CharField(max_length=64)
    consumer_code = models.CharField(max_length=250)
    consumer_type = models.CharField(max_length=250)
    payer = models.ForeignKey(Payer, null=True, blank=True, on_delete=models.PROTECT, related_name="demands")
    tax_period_from = models.DateTimeField()
    tax_period_to = models.DateTimeField()
    bill_expiry_time = models.DurationField(null=True, blank=True, help_text="How long a bill of this demand is valid.")
    fixed_bill_expiry_date = models.DateTimeField(
        null=True, blank=True, help_text="Wins over bill_expiry_time when in the future."
    )
    minimum_amount_payable = MoneyField(default=0)
    additional_details = models.JSONField(null=True, blank=True)
    is_payment_completed = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=DemandStatus.choices, default=DemandStatus.ACTIVE)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    modified_by = models.CharField(max_length=150)
    modified_at = models.DateTimeField()

    class Meta:
        ordering = ["tax_period_from", "consumer_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "business_service", "consumer_code", "tax_period_from", "tax_period_to"],
                condition=Q(status="ACTIVE"),
                name="demands_demand_one_active_per_period",
            ),
            models.CheckConstraint(
                condition=Q(tax_period_from__lte=F("tax_period_to")), name="demands_demand_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(minimum_amount_payable__gte=0), name="demands_demand_minimum_amount_non_negative"
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "business_service", "consumer_code", "tax_period_from"], name="demands_by_consumer"
            ),
            models.Index(
                fields=["tenant", "business_service", "status", "is_payment_completed"], name="demands_open_by_service"
            ),
            models.Index(fields=["payer", "tenant"], name="demands_by_payer"),
            models.Index(fields=["tenant", "tax_period_from", "tax_period_to"], name="demands_by_period"),
        ]

    def __str__(self) -> str:
        return f"{self.business_service}/{self.consumer_code} {self.tax_period_from:%Y-%m-%d}"


class DemandDetail(models.Model):
    """One tax head line of a demand. Credit heads (rebates, advance) carry a negative tax amount."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    demand = models.ForeignKey(Demand, on_delete=models.PROTECT, related_name="details")
    tax_head_code = models.CharField(max_length=64)
    tax_amount = MoneyField()
    collection_amount = MoneyField(default=0)
    additional_details = models.JSONField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0, help_text="Order of the line within its demand, as sent.")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    modified_by = models.CharField(max_length=150)
    modified_at = models.DateTimeField()

    class Meta:
        ordering = ["demand_id", "position", "created_at"]
        constraints = [
            # The amount rule (reference §4.2, relaxed per DECISIONS): collections never exceed the tax, nor flip sign.
            models.CheckConstraint(
                condition=(
                    Q(tax_amount__gte=0, collection_amount__gte=0, collection_amount__lte=F("tax_amount"))
                    | Q(tax_amount__lt=0, collection_amount__lte=0, collection_amount__gte=F("tax_amount"))
                ),
                name="demands_demanddetail_collection_within_tax",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tax_head_code} {self.tax_amount}/{self.collection_amount}"


class HistoryAction(models.TextChoices):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    CANCEL = "CANCEL"
    ADVANCE_CARRY_FORWARD = "ADVANCE_CARRY_FORWARD"
    PAYMENT = "PAYMENT"
    PAYMENT_REVERSAL = "PAYMENT_REVERSAL"
    AMENDMENT = "AMENDMENT"


class DemandHistory(models.Model):
    """Append-only copy of a demand as written (who, when, why, which account revision)."""

    demand = models.ForeignKey(Demand, on_delete=models.PROTECT, related_name="history")
    revision = models.BigIntegerField()
    action = models.CharField(max_length=32, choices=HistoryAction.choices)
    changed_by = models.CharField(max_length=150)
    changed_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=DemandStatus.choices)
    payer_id = models.UUIDField(null=True, blank=True)
    consumer_type = models.CharField(max_length=250)
    tax_period_from = models.DateTimeField()
    tax_period_to = models.DateTimeField()
    bill_expiry_time = models.DurationField(null=True, blank=True)
    fixed_bill_expiry_date = models.DateTimeField(null=True, blank=True)
    minimum_amount_payable = MoneyField()
    additional_details = models.JSONField(null=True, blank=True)
    is_payment_completed = models.BooleanField()

    class Meta:
        ordering = ["demand_id", "id"]
        verbose_name_plural = "demand history"
        indexes = [models.Index(fields=["demand", "revision"], name="demands_hist_by_demand")]

    def __str__(self) -> str:
        return f"{self.action} r{self.revision} by {self.changed_by}"


class DemandDetailHistory(models.Model):
    """Append-only copy of a demand detail as written."""

    detail = models.ForeignKey(DemandDetail, on_delete=models.PROTECT, related_name="history")
    demand = models.ForeignKey(Demand, on_delete=models.PROTECT, related_name="detail_history")
    revision = models.BigIntegerField()
    action = models.CharField(max_length=32, choices=HistoryAction.choices)
    changed_by = models.CharField(max_length=150)
    changed_at = models.DateTimeField()
    tax_head_code = models.CharField(max_length=64)
    tax_amount = MoneyField()
    collection_amount = MoneyField()
    additional_details = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["demand_id", "id"]
        verbose_name_plural = "demand detail history"
        indexes = [models.Index(fields=["demand", "revision"], name="demands_dethist_by_demand")]

    def __str__(self) -> str:
        return f"{self.tax_head_code} {self.action} r{self.revision}"
