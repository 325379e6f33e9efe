"""Batch payment imports: a run per uploaded file, a row per line of it with its outcome.

* :class:`ImportRun` — one uploaded CSV file (an offline-collections file or a gateway/bank settlement file),
  its status and counters. The file's text is kept on the run so that a worker can execute it and resume it.
* :class:`ImportRow` — what happened to one line: APPLIED (with the Payment it created or the gateway transaction
  it settled or confirmed), DUPLICATE (with the earlier applied row) or REJECTED (with the exact code and message).

``payment_imports_importrow_applied_once`` — a partial unique index on ``row_key`` among APPLIED rows — is what
makes imports idempotent: a re-imported or concurrently imported line can never apply twice. See
``docs/payment-imports.md``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from masters.models import Tenant
from payments.gateway.models import GatewayTransaction
from payments.models import Payment


class ImportKind(models.TextChoices):
    OFFLINE_COLLECTIONS = "OFFLINE_COLLECTIONS", "Offline collections"
    SETTLEMENT = "SETTLEMENT", "Gateway/bank settlement"


class ImportStatus(models.TextChoices):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


class RowOutcome(models.TextChoices):
    APPLIED = "APPLIED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"


class ImportRun(models.Model):
    """One uploaded file and its execution. Counters move in the same transaction as each row."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=24, choices=ImportKind.choices)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="payment_import_runs")
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the uploaded bytes.")
    content = models.TextField(help_text="The file's text (UTF-8), kept so that the run can be executed and resumed.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payment_import_runs",
        help_text="The rows are applied with this user's roles; empty for runs of the management command.",
    )
    uploaded_by_name = models.CharField(max_length=150)
    run_as_system = models.BooleanField(
        default=False, help_text="Started by the management command: the rows are applied as a system superuser."
    )
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0, help_text="Rows with an outcome recorded.")
    applied = models.PositiveIntegerField(default=0)
    duplicate = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the run FAILED (a row's outcome is on the row).")
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed=models.F("applied") + models.F("duplicate") + models.F("rejected")),
                name="payment_imports_importrun_counts_add_up",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "created_at"], name="payment_imports_run_by_tenant"),
            models.Index(fields=["status", "created_at"], name="payment_imports_run_by_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} ({self.status})"

    @property
    def progress_percent(self) -> float:
        return round(100.0 * self.processed / self.total_rows, 1) if self.total_rows else 100.0


class ImportRow(models.Model):
    """The outcome of one line of an import file (line numbers count the header as line 1)."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rows")
    line_number = models.PositiveIntegerField()
    raw = models.JSONField(help_text="The line as read: column -> text.")
    row_key = models.CharField(
        max_length=1024,
        blank=True,
        help_text="The normalised identity of the line (see docs/payment-imports.md); blank when unreadable.",
    )
    outcome = models.CharField(max_length=16, choices=RowOutcome.choices)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="import_rows")
    gateway_transaction = models.ForeignKey(
        GatewayTransaction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="import_rows",
        help_text="Settlement rows: the gateway transaction the line names.",
    )
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        help_text="For a DUPLICATE: the applied row it repeats.",
    )
    settlement_date = models.DateField(null=True, blank=True, help_text="Settlement rows: the file's date.")
    note = models.TextField(blank=True, help_text="What the line did, when there is more to say than the outcome.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["run_id", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "line_number"], name="payment_imports_importrow_one_per_line"),
            models.UniqueConstraint(
                fields=["row_key"], condition=Q(outcome="APPLIED"), name="payment_imports_importrow_applied_once"
            ),
            models.CheckConstraint(
                condition=~Q(outcome="APPLIED") | ~Q(row_key=""),
                name="payment_imports_importrow_applied_has_key",
            ),
            models.CheckConstraint(
                condition=Q(outcome="REJECTED") | Q(error_code=""),
                name="payment_imports_importrow_error_only_when_rejected",
            ),
        ]
        indexes = [
            models.Index(fields=["run", "outcome"], name="payment_imports_row_by_outcome"),
            models.Index(fields=["row_key"], name="payment_imports_row_by_key"),
        ]

    def __str__(self) -> str:
        return f"line {self.line_number}: {self.outcome}"
