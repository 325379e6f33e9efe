"""The outbox's tables: outbound messages, and the token buckets of throttled channels."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class OutboxStatus(models.TextChoices):
    #: Waiting for (another) delivery attempt at ``next_attempt_at`` — or being delivered right now, when a relay
    #: holds its lease (``claimed_until`` in the future).
    PENDING = "PENDING"
    #: The channel accepted it (at least once): final.
    DELIVERED = "DELIVERED"
    #: Given up on (a permanent error, or the channel's attempts used up): waits for staff to retry or discard it.
    PARKED = "PARKED"
    #: Dropped by staff: final, never sent (again).
    DISCARDED = "DISCARDED"


class OutboxMessage(models.Model):
    """One outbound message, written in the business transaction that caused it and delivered after its commit.

    ``channel`` names the delivery mechanism (a registered ``billing_project.outbox.Channel``: ``celery`` now;
    later ``kafka``, ``webhook``, ``sms``, ``email``, ``http``); ``destination`` is where in that channel (a task
    name, a topic, a subscriber, an address). The relay delivers it at least once; receivers deduplicate on the
    message id (or ``dedupe_key``), which every channel passes along.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(max_length=32)
    destination = models.CharField(max_length=255)
    payload = models.JSONField(help_text="What is delivered (a JSON value).")
    headers = models.JSONField(default=dict, blank=True, help_text="Channel metadata passed along (a JSON object).")
    dedupe_key = models.CharField(
        max_length=255,
        help_text="Unique: a second message with the same key is not stored (defaults to the message id).",
    )
    tenant_code = models.CharField(max_length=64, blank=True, help_text="The tenant the message belongs to, if any.")
    subject = models.CharField(
        max_length=128,
        blank=True,
        help_text="What the message is about: <app>.<model>:<id> (e.g. bills.billingrun:42).",
    )
    recipient = models.CharField(
        max_length=128, blank=True, help_text="Whom it is for, as <kind>:<id> (e.g. payer:<uuid>), if a person."
    )
    status = models.CharField(max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Delivery attempts started (counted at the claim).")
    next_attempt_at = models.DateTimeField(
        help_text="PENDING: when the message is due (its lease's end while a relay holds it)."
    )
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="The lease of the relay delivering it.")
    claimed_by = models.CharField(max_length=128, blank=True, help_text="Which relay holds the lease (host:pid:token).")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.CharField(max_length=150, blank=True, help_text="Who last retried or discarded it.")
    handled_at = models.DateTimeField(null=True, blank=True)

    #: Set by ``outbox_enqueue``: True when this call wrote the message, False when its dedupe key existed.
    is_new: bool = False

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = "outbox message"
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="kernel_outboxmessage_dedupe_key_unique"),
            models.CheckConstraint(
                condition=Q(status__in=OutboxStatus.values), name="kernel_outboxmessage_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(status=OutboxStatus.DELIVERED) & Q(delivered_at__isnull=False))
                | (~Q(status=OutboxStatus.DELIVERED) & Q(delivered_at__isnull=True)),
                name="kernel_outboxmessage_delivered_at_iff_delivered",
            ),
            models.CheckConstraint(
                condition=(Q(claimed_until__isnull=True) & Q(claimed_by=""))
                | (Q(claimed_until__isnull=False) & ~Q(claimed_by="") & Q(status=OutboxStatus.PENDING)),
                name="kernel_outboxmessage_lease_whole",
            ),
            models.CheckConstraint(condition=~Q(channel=""), name="kernel_outboxmessage_channel_given"),
        ]
        indexes = [
            # The relay's query: PENDING rows due now, oldest first (a leased row is due when its lease ends).
            models.Index(
                fields=["next_attempt_at"], condition=Q(status=OutboxStatus.PENDING), name="kernel_outbox_due"
            ),
            models.Index(fields=["status", "created_at"], name="kernel_outbox_by_status"),
            models.Index(fields=["created_at"], name="kernel_outbox_by_created"),
            models.Index(fields=["tenant_code", "created_at"], name="kernel_outbox_by_tenant"),
            models.Index(fields=["subject", "status"], name="kernel_outbox_by_subject"),
            models.Index(
                fields=["recipient", "created_at"], condition=~Q(recipient=""), name="kernel_outbox_by_recipient"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.destination} ({self.status})"


class OutboxThrottle(models.Model):
    """The token bucket of a throttled channel, shared by every relay (locked in the claim transaction)."""

    channel = models.CharField(max_length=32, primary_key=True)
    tokens = models.FloatField()
    refilled_at = models.DateTimeField()

    class Meta:
        verbose_name = "outbox channel throttle"

    def __str__(self) -> str:
        return f"{self.channel}: {self.tokens:.1f} tokens"
