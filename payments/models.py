"""Payments taken against bills, how each was apportioned, and what it wrote to the demands.

Reference §7.8 (collection-services ``Payment``/``PaymentDetail``, apportion-service) and §7.9 (the write-back
to the demands). Every write goes through ``payments.services``. See ``docs/payments.md``.

* :class:`Payment` — one payment (one instrument) by one payer; it may settle several bills.
* :class:`PaymentDetail` — the part of the payment for one bill, with its receipt number.
* :class:`PaymentAccountLine` — how the money of a detail was spread over the bill's account lines.
* :class:`PaymentApplication` — what the write-back changed on each demand detail, so that a reversal undoes
  exactly that.
* :class:`PaymentWriteBack` — one row per (payment, direction): the write-back happens exactly once.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from billing_project.fields import MoneyField
from bills.models import Bill, BillAccountDetail, BillDetail
from demands.models import DemandDetail
from masters.models import Payer, Tenant


class PaymentMode(models.TextChoices):
    CASH = "CASH", "Cash"
    CHEQUE = "CHEQUE", "Cheque"
    DD = "DD", "Demand draft (DD)"
    CARD = "CARD", "Card"
    OFFLINE_NEFT = "OFFLINE_NEFT", "NEFT transfer (offline)"
    OFFLINE_RTGS = "OFFLINE_RTGS", "RTGS transfer (offline)"
    POSTAL_ORDER = "POSTAL_ORDER", "Postal order"
    ONLINE = "ONLINE", "Online"


class PaymentStatus(models.TextChoices):
    NEW = "NEW"
    DEPOSITED = "DEPOSITED"
    CANCELLED = "CANCELLED"
    DISHONOURED = "DISHONOURED"
    RECONCILED = "RECONCILED"


class InstrumentStatus(models.TextChoices):
    APPROVED = "APPROVED", "Approved"
    APPROVALPENDING = "APPROVALPENDING", "Approval pending"
    TOBESUBMITTED = "TOBESUBMITTED", "To be submitted"
    REMITTED = "REMITTED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    DISHONOURED = "DISHONOURED"


class ReceiptType(models.TextChoices):
    ADHOC = "ADHOC"
    BILLBASED = "BILLBASED"
    CHALLAN = "CHALLAN"


class Payment(models.Model):
    """One payment of one payer with one instrument (cash, cheque, card...), over one or more bills."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="payments")
    total_due = MoneyField(help_text="Sum of the bills' totals when the payment was taken.")
    total_amount_paid = MoneyField()
    payment_mode = models.CharField(max_length=16, choices=PaymentMode.choices)
    instrument_number = models.CharField(max_length=128, blank=True)
    instrument_date = models.DateTimeField(null=True, blank=True)
    instrument_status = models.CharField(max_length=16, choices=InstrumentStatus.choices)
    ifsc_code = models.CharField(max_length=32, blank=True)
    transaction_number = models.CharField(
        max_length=256, blank=True, help_text="The instrument's or gateway's reference; unique per tenant."
    )
    transaction_date = models.DateTimeField()
    paid_by = models.CharField(max_length=256, blank=True)
    payer_name = models.CharField(max_length=256, blank=True)
    payer_address = models.CharField(max_length=1024, blank=True)
    payer_email = models.CharField(max_length=256, blank=True)
    mobile_number = models.CharField(max_length=20, blank=True)
    payer = models.ForeignKey(Payer, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    status = models.CharField(max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.NEW)
    additional_details = models.JSONField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True, help_text="Why the payment was cancelled or dishonoured.")
    cancelled_by = models.CharField(max_length=150, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    modified_by = models.CharField(max_length=150)
    modified_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "transaction_number"],
                condition=~Q(transaction_number=""),
                name="payments_payment_unique_transaction_number",
            ),
            models.CheckConstraint(
                condition=Q(total_due__gte=0, total_amount_paid__gte=0), name="payments_payment_amounts_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["CANCELLED", "DISHONOURED"], cancelled_at__isnull=False)
                | (~Q(status__in=["CANCELLED", "DISHONOURED"]) & Q(cancelled_at__isnull=True)),
                name="payments_payment_cancelled_when_reversed",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "created_at"], name="payments_by_tenant_date"),
            models.Index(fields=["tenant", "status"], name="payments_by_tenant_status"),
            models.Index(fields=["mobile_number"], name="payments_by_mobile"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_mode} {self.total_amount_paid} ({self.status})"


class PaymentDetail(models.Model):
    """The part of a payment for one bill: the receipt.

    A bill is paid at most once (``payments_paymentdetail_one_per_bill``): after a payment it is PAID or
    PARTIALLY_PAID, after the payment's reversal CANCELLED, and never ACTIVE again — the next fetch builds a new
    bill. This is stronger than "one detail per (payment, bill)" and stops two payments of one bill in the
    database even if the bill lock were bypassed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="details")
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="payment_details")
    business_service = models.CharField(max_length=64)
    total_due = MoneyField(help_text="The bill's total when the payment was taken.")
    total_amount_paid = MoneyField()
    receipt_number = models.CharField(max_length=256)
    receipt_date = models.DateTimeField()
    receipt_type = models.CharField(max_length=16, choices=ReceiptType.choices, default=ReceiptType.BILLBASED)
    manual_receipt_number = models.CharField(max_length=256, blank=True)
    additional_details = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["payment_id", "receipt_number"]
        constraints = [
            models.UniqueConstraint(fields=["bill"], name="payments_paymentdetail_one_per_bill"),
            models.UniqueConstraint(fields=["receipt_number"], name="payments_paymentdetail_unique_receipt_number"),
            models.CheckConstraint(
                condition=Q(total_due__gte=0, total_amount_paid__gte=0),
                name="payments_paymentdetail_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.receipt_number


class PaymentAccountLine(models.Model):
    """How much of a payment detail went to one account line of the bill (``BillAccountDetail.adjustedAmount``).

    ``amount`` is the line's due when the bill was built, ``adjusted_amount`` the money applied to it (for a
    credit line, the credit taken), ``advance_amount`` the overpayment kept on it as advance. A line without
    ``bill_account_detail`` is a new advance line (the reference's ``ADVANCE_AMOUNT`` bucket): ``amount`` and
    ``adjusted_amount`` 0, ``advance_amount`` the credit. Per payment detail:
    ``Σ adjusted_amount + Σ advance_amount = total_amount_paid``.
    """

    payment_detail = models.ForeignKey(PaymentDetail, on_delete=models.PROTECT, related_name="account_lines")
    bill_detail = models.ForeignKey(BillDetail, on_delete=models.PROTECT, related_name="payment_lines")
    bill_account_detail = models.ForeignKey(
        BillAccountDetail, null=True, blank=True, on_delete=models.PROTECT, related_name="payment_lines"
    )
    tax_head_code = models.CharField(max_length=64)
    amount = MoneyField()
    adjusted_amount = MoneyField()
    advance_amount = MoneyField(default=0)

    class Meta:
        ordering = ["payment_detail_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment_detail", "bill_account_detail"],
                condition=Q(bill_account_detail__isnull=False),
                name="payments_paymentaccountline_one_per_account_detail",
            ),
            models.UniqueConstraint(
                fields=["payment_detail"],
                condition=Q(bill_account_detail__isnull=True),
                name="payments_paymentaccountline_one_new_advance_line",
            ),
            models.CheckConstraint(
                condition=Q(advance_amount__gte=0), name="payments_paymentaccountline_advance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tax_head_code} {self.adjusted_amount}/{self.amount}"


class PaymentApplication(models.Model):
    """What the write-back of a payment changed on one demand detail; a reversal subtracts exactly this.

    ``collection_delta`` was added to the detail's collection amount, ``tax_delta`` to its tax amount (only
    advance lines: the overpayment kept as advance lowers their tax). ``created_line`` marks a detail that the
    payment created (a new advance line, tax ``-advance``, collection 0).
    """

    payment_detail = models.ForeignKey(PaymentDetail, on_delete=models.PROTECT, related_name="applications")
    demand_detail = models.ForeignKey(DemandDetail, on_delete=models.PROTECT, related_name="payment_applications")
    collection_delta = MoneyField()
    tax_delta = MoneyField(default=0)
    created_line = models.BooleanField(default=False)

    class Meta:
        ordering = ["payment_detail_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment_detail", "demand_detail"], name="payments_paymentapplication_one_per_line"
            ),
            models.CheckConstraint(
                condition=Q(created_line=False) | Q(collection_delta=0, tax_delta__lt=0),
                name="payments_paymentapplication_created_line_is_advance",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.demand_detail_id} +{self.collection_delta} (tax {self.tax_delta})"


class WriteBackDirection(models.TextChoices):
    APPLY = "APPLY"
    REVERSE = "REVERSE"


class PaymentWriteBack(models.Model):
    """The write-back of a payment to the demands happened (APPLY) or was undone (REVERSE): each once.

    The reference's ``egbs_payment_backupdate_audit`` idempotency guard (§5.7, §7.9 step 2), as a constraint.
    """

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="write_backs")
    direction = models.CharField(max_length=8, choices=WriteBackDirection.choices)
    at = models.DateTimeField()
    by = models.CharField(max_length=150)

    class Meta:
        ordering = ["payment_id", "at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "direction"], name="payments_paymentwriteback_once"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} {self.direction}"


class CounterSubmission(models.Model):
    """A counter-desk payment form, submitted once: its one-time key and the payment it recorded.

    The form carries a key drawn when it is shown; ``counter_payment_take`` records the payment and this row in
    one transaction, so a double click or a reload of the submitted form finds the row and answers the
    payment already taken instead of taking it twice (the database's unique key decides a race).
    """

    key = models.UUIDField()
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="counter_submission")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["key"], name="payments_countersubmission_unique_key")]

    def __str__(self) -> str:
        return f"{self.key} → {self.payment_id}"
