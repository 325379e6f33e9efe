"""Online payments through a payment gateway: transactions, their call history, callbacks and refunds.

* :class:`GatewayTransaction` — one attempt to collect money for one bill at a gateway (hosted checkout or a
  saved-token charge). Its status moves INITIATED → PENDING → SUCCESS / FAILURE (UNKNOWN when a call's answer
  was lost); the transitions below only flip fields, every move goes through ``payments.gateway.services``.
* :class:`GatewayAttempt` — every call we made to the gateway for a transaction (initiate, charge, status,
  find by reference, refund): what, HTTP status, outcome, error, duration.
* :class:`GatewayCallback` — every callback received, valid or not (tampered ones change nothing).
* :class:`GatewayRefund` — a refund asked of the gateway (its row is committed before the call: its
  reference is the idempotency key).
* :class:`ReconciliationQueueItem` — proxy of the transactions that need attention (the admin's queue).

See ``docs/payment-gateway.md``.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django_fsm import FSMField, transition

from billing_project.fields import MoneyField
from bills.models import Bill
from masters.models import Tenant
from payments.models import Payment


class TransactionStatus(models.TextChoices):
    INITIATED = "INITIATED", "Initiated (row stored, gateway not yet answered)"
    PENDING = "PENDING", "Pending at the gateway"
    SUCCESS = "SUCCESS", "Success"
    FAILURE = "FAILURE", "Failure"
    UNKNOWN = "UNKNOWN", "Unknown (a call's answer was lost)"


OPEN_STATUSES = (TransactionStatus.INITIATED, TransactionStatus.PENDING, TransactionStatus.UNKNOWN)
FINAL_STATUSES = (TransactionStatus.SUCCESS, TransactionStatus.FAILURE)


class TransactionKind(models.TextChoices):
    CHECKOUT = "CHECKOUT", "Hosted checkout"
    TOKEN_CHARGE = "TOKEN_CHARGE", "Charge of a saved payment method"


class DeclineType(models.TextChoices):
    NONE = "", "—"
    HARD = "HARD", "Hard decline (never retried)"
    SOFT = "SOFT", "Soft decline (may succeed later)"


class AttentionReason(models.TextChoices):
    NONE = "", "—"
    POLLS_EXHAUSTED = "POLLS_EXHAUSTED", "Still open after the polling schedule"
    GATEWAY_UNREACHABLE = "GATEWAY_UNREACHABLE", "Too many transient gateway failures in a row"
    UNAPPLIED = "UNAPPLIED", "Money taken but the bill could not take it: refund or apply manually"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH", "The gateway stated another amount"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH", "The gateway stated another currency"
    GATEWAY_ID_MISMATCH = "GATEWAY_ID_MISMATCH", "The gateway stated another transaction id"
    CONFLICTING_FINAL_VERDICT = "CONFLICTING_FINAL_VERDICT", "The gateway contradicts a final status"
    INITIATE_REJECTED = "INITIATE_REJECTED", "The gateway refused to create the transaction"
    REFUND_FAILED = "REFUND_FAILED", "A refund was refused by the gateway"
    GATEWAY_LOST = "GATEWAY_LOST", "The gateway no longer knows a transaction id it gave us"


class GatewayTransaction(models.Model):
    """One online payment attempt for one bill at one gateway."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant_reference = models.CharField(
        max_length=64, unique=True, help_text="Our reference at the gateway: GTX-<our id in hex>."
    )
    idempotency_key = models.CharField(
        max_length=80, unique=True, help_text="Sent with the initiate/charge call (derived from our row)."
    )
    gateway = models.CharField(max_length=32, help_text="Adapter name (settings.PAYMENT_GATEWAY_ADAPTERS).")
    gateway_transaction_id = models.CharField(max_length=128, null=True, blank=True)
    kind = models.CharField(max_length=16, choices=TransactionKind.choices, default=TransactionKind.CHECKOUT)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="gateway_transactions")
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="gateway_transactions")
    consumer_code = models.CharField(max_length=256)
    business_service = models.CharField(max_length=64)
    amount = MoneyField()
    currency = models.CharField(max_length=3, default="INR")
    status = FSMField(max_length=16, choices=TransactionStatus.choices, default=TransactionStatus.INITIATED)
    failure_code = models.CharField(max_length=64, blank=True)
    decline_type = models.CharField(max_length=8, choices=DeclineType.choices, blank=True, default="")
    checkout_url = models.URLField(max_length=1024, blank=True)
    return_url = models.URLField(max_length=1024, blank=True)
    payer_name = models.CharField(max_length=256, blank=True)
    payer_email = models.CharField(max_length=256, blank=True)
    payer_mobile = models.CharField(max_length=20, blank=True)
    payment_method_id = models.BigIntegerField(
        null=True, blank=True, help_text="The saved payment method charged (payments.methods row id)."
    )
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="gateway_transaction"
    )
    verdict_source = models.CharField(max_length=16, blank=True, help_text="What settled it (CALLBACK, POLL, ...).")
    settled_at = models.DateTimeField(null=True, blank=True)
    last_sequence = models.IntegerField(default=0, help_text="Highest callback sequence seen.")
    poll_count = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_reconciled_at = models.DateTimeField(
        null=True, blank=True, help_text="When the reconciler last asked about it (it asks the longest-unasked first)."
    )
    attempt_count = models.PositiveIntegerField(default=0, help_text="Gateway calls made for it.")
    transient_failures = models.PositiveIntegerField(default=0, help_text="Transient failures in a row.")
    refunded_amount = MoneyField(default=0)
    needs_attention = models.BooleanField(default=False)
    attention_reason = models.CharField(max_length=32, choices=AttentionReason.choices, blank=True, default="")
    attention_note = models.TextField(blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "gateway_transaction_id"],
                condition=Q(gateway_transaction_id__isnull=False),
                name="gateway_gatewaytransaction_unique_gateway_id",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="gateway_gatewaytransaction_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=models.F("amount")),
                name="gateway_gatewaytransaction_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(payment__isnull=True) | Q(status="SUCCESS"),
                name="gateway_gatewaytransaction_payment_only_on_success",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_poll_at"], name="gateway_txn_poll_due"),
            models.Index(fields=["tenant", "created_at"], name="gateway_txn_by_tenant_date"),
            models.Index(fields=["needs_attention", "status"], name="gateway_txn_attention"),
            models.Index(fields=["consumer_code"], name="gateway_txn_by_consumer"),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_reference} {self.amount} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    # Transitions: they only flip fields; services lock the row, call them and save.
    @transition(field=status, source=[TransactionStatus.INITIATED, TransactionStatus.UNKNOWN], target="PENDING")
    def mark_pending(self) -> None:
        """The gateway holds the transaction; the payer or the bank has not decided yet."""

    @transition(field=status, source=[TransactionStatus.INITIATED, TransactionStatus.PENDING], target="UNKNOWN")
    def mark_unknown(self) -> None:
        """A call's answer was lost (timeout, 5xx): the gateway may or may not hold it."""

    @transition(field=status, source=list(OPEN_STATUSES), target="SUCCESS")
    def mark_success(self) -> None:
        """The money was taken."""

    @transition(field=status, source=list(OPEN_STATUSES), target="FAILURE")
    def mark_failure(self) -> None:
        """The money was not taken (declined, abandoned, or never reached the gateway)."""


class ReconciliationQueueItem(GatewayTransaction):
    """The transactions that need a person (``needs_attention``): the reconciliation queue in the admin."""

    class Meta:
        proxy = True
        verbose_name = "reconciliation queue item"
        verbose_name_plural = "reconciliation queue"


class AttemptKind(models.TextChoices):
    INITIATE = "INITIATE"
    CHARGE = "CHARGE"
    STATUS = "STATUS"
    FIND = "FIND", "Find by merchant reference"
    REFUND = "REFUND"


class AttemptOutcome(models.TextChoices):
    OK = "OK"
    NOT_FOUND = "NOT_FOUND"
    TRANSIENT = "TRANSIENT", "Transient error (5xx, timeout, connection)"
    PERMANENT = "PERMANENT", "Permanent error (refused)"


class GatewayAttempt(models.Model):
    """One call to the gateway for a transaction (its history)."""

    transaction = models.ForeignKey(GatewayTransaction, on_delete=models.CASCADE, related_name="attempts")
    kind = models.CharField(max_length=16, choices=AttemptKind.choices)
    request_summary = models.JSONField(default=dict, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    gateway_status = models.CharField(max_length=16, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    at = models.DateTimeField()

    class Meta:
        ordering = ["transaction_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.outcome} ({self.http_status})"


class CallbackOutcome(models.TextChoices):
    RECEIVED = "RECEIVED", "Received (being processed)"
    APPLIED = "APPLIED"
    DUPLICATE = "DUPLICATE"
    STALE = "STALE"
    REJECTED = "REJECTED", "Rejected (amount or id mismatch)"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    MALFORMED = "MALFORMED"
    UNKNOWN_TRANSACTION = "UNKNOWN_TRANSACTION"
    UNKNOWN_GATEWAY = "UNKNOWN_GATEWAY"


class GatewayCallback(models.Model):
    """Every callback received: its body, whether its signature held, and what it did.

    The whole body is kept only once its signature held; for any other callback ``raw_body`` holds its first
    2 KB (anyone can post to the endpoint), with the length and SHA-256 of the whole body.
    """

    gateway = models.CharField(max_length=32)
    transaction = models.ForeignKey(
        GatewayTransaction, null=True, blank=True, on_delete=models.CASCADE, related_name="callbacks"
    )
    event_id = models.CharField(max_length=128, blank=True)
    raw_body = models.TextField(help_text="The whole body when the signature held; else its first 2 KB.")
    raw_body_length = models.PositiveIntegerField(default=0, help_text="Bytes in the body as received.")
    raw_body_sha256 = models.CharField(max_length=64, blank=True, help_text="Hex SHA-256 of the body as received.")
    signature_header = models.CharField(max_length=512, blank=True)
    signature_valid = models.BooleanField(default=False)
    outcome = models.CharField(max_length=24, choices=CallbackOutcome.choices, default=CallbackOutcome.RECEIVED)
    detail = models.TextField(blank=True)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["gateway", "received_at"], name="gateway_callback_by_time")]

    def __str__(self) -> str:
        return f"{self.gateway} {self.event_id or '-'} {self.outcome}"


class RefundStatus(models.TextChoices):
    REQUESTED = "REQUESTED", "Requested (answer not yet stored)"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


class GatewayRefund(models.Model):
    """A refund of (part of) a successful transaction."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    transaction = models.ForeignKey(GatewayTransaction, on_delete=models.PROTECT, related_name="refunds")
    reference = models.CharField(max_length=64, unique=True, help_text="RFD-<our id in hex>: the idempotency key.")
    amount = MoneyField()
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=RefundStatus.choices, default=RefundStatus.REQUESTED)
    gateway_refund_id = models.CharField(max_length=128, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["transaction_id", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="gateway_gatewayrefund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount} ({self.status})"
