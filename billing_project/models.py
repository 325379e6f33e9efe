"""Rows the kernel keeps: idempotency keys of POST requests, and the outbox (``billing_project/outbox/models.py``)."""

from __future__ import annotations

from django.db import models

from billing_project.outbox.models import OutboxMessage, OutboxStatus, OutboxThrottle

__all__ = [
    "IdempotencyKey",
    "IdempotencyStatus",
    "OutboxMessage",
    "OutboxStatus",
    "OutboxThrottle",
    "WebhookSubscription",
]


class IdempotencyStatus(models.TextChoices):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


class IdempotencyKey(models.Model):
    """One client's ``Idempotency-Key`` and the answer it got, kept at least ``IDEMPOTENCY_KEY_TTL``."""

    owner = models.CharField(
        max_length=64,
        help_text="user:<id> for an authenticated caller; else the SHA-256 of the credentials presented",
    )
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=512)
    status = models.CharField(max_length=16, choices=IdempotencyStatus.choices, default=IdempotencyStatus.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_content_type = models.CharField(max_length=128, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="IN_PROGRESS: the lease of the request running it; after it a retry may run the request again",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="kernel_idempotencykey_unique")]
        indexes = [models.Index(fields=["created_at"], name="kernel_idem_by_created")]

    def __str__(self) -> str:
        return f"{self.key} {self.method} {self.path} {self.status}"


class WebhookSubscription(models.Model):
    """A system that is not DIGIT and wants our events (payments taken and reversed, bills cancelled) as signed
    webhooks. Each delivery is an outbox message (channel ``webhook``): its attempts are the delivery log."""

    name = models.CharField(max_length=128, unique=True)
    url = models.URLField(max_length=512)
    secret = models.CharField(max_length=256, help_text="Shared secret of the HMAC-SHA256 signature.")
    events = models.JSONField(default=list, blank=True, help_text='Event types, e.g. ["payment.created"]; [] = all.')
    tenant_codes = models.JSONField(default=list, blank=True, help_text="Only these tenants (and cities of states).")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event: str, tenant_code: str) -> bool:
        if self.events and event not in self.events:
            return False
        if not self.tenant_codes:
            return True
        return any(tenant_code == t or tenant_code.startswith(t + ".") for t in self.tenant_codes)
