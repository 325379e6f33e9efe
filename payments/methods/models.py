"""Payers' saved payment methods (gateway tokens, never card numbers) and automatic payment of new bills.

* :class:`PaymentMethod` — a tokenised card (or other instrument) of one payer at one gateway: the gateway's
  token and a masked label such as ``VISA •••• 4242``. Nothing here may hold a card number (the services
  refuse any value that looks like one).
* :class:`AutopayMandate` — the payer's consent that new bills of one consumer (tenant, business service,
  consumer code) are charged to one payment method, optionally up to a maximum per bill.
* :class:`AutopayCharge` — one bill charged (or being charged) under a mandate, with its attempts, the visible
  next retry date and the gateway transaction of the last attempt.

Every write goes through ``payments.methods.services``. See ``docs/payment-methods.md``.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from billing_project.fields import MoneyField
from bills.models import Bill
from masters.models import Payer, Tenant
from payments.gateway.models import GatewayTransaction


class MethodStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class PaymentMethod(models.Model):
    """A payer's tokenised payment method at a gateway. At most one ACTIVE default per payer."""

    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="payment_methods")
    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, related_name="payment_methods", help_text="The payer's (state) tenant."
    )
    gateway = models.CharField(max_length=32, help_text="The gateway adapter's name, e.g. sandbox.")
    gateway_token = models.CharField(max_length=256, help_text="The gateway's token; never a card number.")
    label = models.CharField(max_length=64, help_text="Masked, e.g. VISA •••• 4242.")
    brand = models.CharField(max_length=32, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    expiry_month = models.PositiveSmallIntegerField()
    expiry_year = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=MethodStatus.choices, default=MethodStatus.ACTIVE)
    is_default = models.BooleanField(default=False)
    flagged_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the gateway declined it hard: autopay no longer uses it."
    )
    flag_reason = models.CharField(max_length=64, blank=True, help_text="The gateway's failure code.")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["payer_id", "-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "gateway_token"], name="payment_methods_paymentmethod_unique_token"
            ),
            models.UniqueConstraint(
                fields=["payer"],
                condition=Q(is_default=True, status="ACTIVE"),
                name="payment_methods_paymentmethod_one_default",
            ),
            models.CheckConstraint(
                condition=Q(expiry_month__gte=1, expiry_month__lte=12), name="payment_methods_paymentmethod_month"
            ),
            models.CheckConstraint(
                condition=Q(last4="") | Q(last4__regex=r"^[0-9]{4}$"), name="payment_methods_paymentmethod_last4"
            ),
            models.CheckConstraint(
                condition=Q(status="REVOKED", revoked_at__isnull=False) | (~Q(status="REVOKED") & Q(revoked_at=None)),
                name="payment_methods_paymentmethod_revoked_at",
            ),
        ]
        indexes = [models.Index(fields=["payer", "status"], name="payment_methods_by_payer")]

    def __str__(self) -> str:
        return f"{self.label} ({self.status})"


class AutopayMandate(models.Model):
    """The payer's consent that new bills of one consumer are charged to a payment method.

    One active mandate per consumer (tenant, business service, consumer code), database-enforced: two payers'
    mandates could otherwise both charge one bill.
    """

    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="autopay_mandates")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="autopay_mandates")
    business_service = models.CharField(max_length=64)
    consumer_code = models.CharField(max_length=250)
    payment_method = models.ForeignKey(PaymentMethod, on_delete=models.PROTECT, related_name="mandates")
    max_amount = MoneyField(null=True, blank=True, help_text="Bills above this amount are not charged.")
    active = models.BooleanField(default=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    revoked_by = models.CharField(max_length=150, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "business_service", "consumer_code"],
                condition=Q(active=True),
                name="payment_methods_autopaymandate_one_active_per_consumer",
            ),
            models.CheckConstraint(
                condition=Q(active=True, revoked_at=None) | Q(active=False, revoked_at__isnull=False),
                name="payment_methods_autopaymandate_revoked_at",
            ),
            models.CheckConstraint(
                condition=Q(max_amount=None) | Q(max_amount__gt=0), name="payment_methods_autopaymandate_max_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "business_service", "consumer_code"], name="payment_methods_mandate_by_cc")
        ]

    def __str__(self) -> str:
        return (
            f"autopay {self.business_service}/{self.consumer_code}@{self.tenant_id} ({'on' if self.active else 'off'})"
        )


class ChargeStatus(models.TextChoices):
    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    GAVE_UP = "GAVE_UP"
    CANCELLED = "CANCELLED"
    # The gateway took the money but no Payment could be recorded (the bill went stale meanwhile): the
    # consumer's autopay is blocked until staff refund it or apply it by hand (docs/payment-methods.md).
    UNAPPLIED = "UNAPPLIED", "Unapplied (money taken, not applied: needs staff)"


OPEN_CHARGE_STATUSES = (ChargeStatus.SCHEDULED, ChargeStatus.IN_PROGRESS, ChargeStatus.FAILED)


class AutopayCharge(models.Model):
    """One bill charged under a mandate: its attempts, outcome and visible next retry date.

    A bill is charged by autopay at most once (``payment_methods_autopaycharge_one_per_bill``, stronger than one
    per (mandate, bill)): scheduling is idempotent by this constraint. ``attempt`` counts the gateway charges
    made. A charge whose bill was replaced by a newer bill of the consumer is CANCELLED with
    ``superseded_by`` pointing to the charge of the new bill, which continues its attempt count.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mandate = models.ForeignKey(AutopayMandate, on_delete=models.PROTECT, related_name="charges")
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="autopay_charges")
    amount = MoneyField()
    attempt = models.PositiveSmallIntegerField(default=0, help_text="Gateway charges made so far.")
    status = models.CharField(max_length=16, choices=ChargeStatus.choices, default=ChargeStatus.SCHEDULED)
    next_retry_at = models.DateTimeField(null=True, blank=True, help_text="When the next attempt is due.")
    gateway_transaction = models.ForeignKey(
        GatewayTransaction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="autopay_charges",
        help_text="The gateway transaction of the last attempt.",
    )
    attempt_reference = models.UUIDField(
        null=True,
        blank=True,
        help_text="The id autopay gave the gateway transaction of the current attempt: crash recovery finds the "
        "attempt's transaction by it (only autopay sets it), never by bill and payment method.",
    )
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.TextField(blank=True)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="supersedes"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bill"], name="payment_methods_autopaycharge_one_per_bill"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_methods_autopaycharge_amount"),
            models.CheckConstraint(
                condition=~Q(status="FAILED") | Q(next_retry_at__isnull=False),
                name="payment_methods_autopaycharge_failed_has_retry",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_retry_at"], name="payment_methods_charge_due"),
            models.Index(fields=["mandate", "created_at"], name="payment_methods_charge_by_mdt"),
        ]

    def __str__(self) -> str:
        return f"{self.bill_id} {self.amount} {self.status} (attempt {self.attempt})"
