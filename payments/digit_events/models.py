"""One row per consumed Kafka message of DIGIT's payment topics: what happened to it, and its error if parked."""

from __future__ import annotations

from django.db import models


class EventKind(models.TextChoices):
    PAYMENT_CREATE = "PAYMENT_CREATE", "Payment taken (payment-create)"
    PAYMENT_CANCEL = "PAYMENT_CANCEL", "Payment cancelled, dishonoured or remitted (payment-cancel)"


class EventStatus(models.TextChoices):
    APPLIED = "APPLIED", "Applied to the demands"
    DUPLICATE = "DUPLICATE", "Already applied (redelivery or replay): nothing changed"
    IGNORED = "IGNORED", "Nothing to write back"
    PARKED = "PARKED", "Parked: could not be applied (see the error)"


class DigitPaymentEvent(models.Model):
    """A message of ``egov.collection.payment-create`` / ``-cancel`` (or a state-prefixed topic), as handled.

    Unique per (topic, partition, offset): a message redelivered after a crash finds its row and changes nothing.
    The payment itself is applied once by its id (the payment row and its write-back marker are unique).
    """

    topic = models.CharField(max_length=249)
    partition = models.IntegerField()
    offset = models.BigIntegerField()
    key = models.CharField(max_length=256, blank=True)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    payment_id = models.CharField(max_length=64, blank=True, db_index=True)
    tenant_code = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=16, choices=EventStatus.choices)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    payload = models.TextField(help_text="The message as received (UTF-8; undecodable bytes replaced).")
    attempts = models.PositiveIntegerField(default=1)
    received_at = models.DateTimeField()
    handled_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "DIGIT payment message"
        constraints = [
            models.UniqueConstraint(fields=["topic", "partition", "offset"], name="digit_events_event_once_per_offset"),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="digit_events_by_status")]

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset} {self.status}"
