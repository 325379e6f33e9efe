"""Amendments (reference §4.8, §5.8): approved corrections added to a consumer's demand, exactly once.

The workflow state is a django-fsm field; the transitions below only flip fields (state, status).
Role checks, locking, the transition history and applying the lines are the services' job
(``amendments.services``). ``status`` is stored for searching and always follows the state
(``amendments.domain.workflow.status_for``), or is CONSUMED once the lines are in a demand.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, transition

from amendments.domain.workflow import State, Status
from billing_project.fields import MoneyField
from demands.models import Demand
from masters.models import Tenant


class AmendmentReason(models.TextChoices):
    COURT_CASE_SETTLEMENT = "COURT_CASE_SETTLEMENT", "Court case settlement"
    ARREAR_WRITE_OFF = "ARREAR_WRITE_OFF", "Arrear write-off"
    DCB_CORRECTION = "DCB_CORRECTION", "DCB correction"
    ONE_TIME_SETTLEMENT = "ONE_TIME_SETTLEMENT", "One-time settlement"
    REMISSION_FOR_PROPERTY_TAX = "REMISSION_FOR_PROPERTY_TAX", "Remission for property tax"
    OTHERS = "OTHERS", "Others"


class AmendmentStatus(models.TextChoices):
    INWORKFLOW = Status.INWORKFLOW.value, "In workflow"
    ACTIVE = Status.ACTIVE.value, "Active"
    INACTIVE = Status.INACTIVE.value, "Inactive"
    CONSUMED = Status.CONSUMED.value, "Consumed (applied to a demand)"


class AmendmentState(models.TextChoices):
    NEW = State.NEW.value, "New"
    APPROVALPENDING = State.APPROVALPENDING.value, "Approval pending"
    PENDING_FOR_CITIZEN_ACTION = State.PENDING_FOR_CITIZEN_ACTION.value, "Sent back (pending for citizen action)"
    APPROVED = State.APPROVED.value, "Approved"
    REJECTED = State.REJECTED.value, "Rejected"
    WITHDRAWN = State.WITHDRAWN.value, "Withdrawn"
    DIRECT = State.DIRECT.value, "Active without workflow"


IN_WORKFLOW = [AmendmentState.APPROVALPENDING, AmendmentState.PENDING_FOR_CITIZEN_ACTION]


class Amendment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    amendment_id = models.CharField(
        max_length=512, help_text="From the id format bs.amendment.id, e.g. DN-…-000007 (holds a 250-char code)."
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="amendments")
    consumer_code = models.CharField(max_length=250)
    business_service = models.CharField(max_length=64)
    reason = models.CharField(max_length=32, choices=AmendmentReason.choices)
    reason_document_number = models.CharField(max_length=256, blank=True, default="")
    effective_from = models.DateTimeField(null=True, blank=True)
    effective_till = models.DateTimeField(null=True, blank=True)
    state = FSMField(max_length=32, choices=AmendmentState.choices, default=AmendmentState.NEW, protected=True)
    status = models.CharField(max_length=16, choices=AmendmentStatus.choices, default=AmendmentStatus.INWORKFLOW)
    amended_demand = models.ForeignKey(
        Demand, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Set when CONSUMED."
    )
    consumed_at = models.DateTimeField(null=True, blank=True)
    additional_details = models.JSONField(null=True, blank=True)
    created_by = models.CharField(max_length=150)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    modified_by = models.CharField(max_length=150)
    modified_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "amendment_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "amendment_id"], name="amendments_amendment_unique_id"),
            # Reference §7.10.2 step 3, enforced by the database: one amendment in workflow per consumer code.
            models.UniqueConstraint(
                fields=["tenant", "consumer_code"],
                condition=Q(status="INWORKFLOW"),
                name="amendments_amendment_one_in_workflow",
            ),
            models.CheckConstraint(
                condition=Q(status="CONSUMED", amended_demand__isnull=False, consumed_at__isnull=False)
                | (~Q(status="CONSUMED") & Q(amended_demand__isnull=True, consumed_at__isnull=True)),
                name="amendments_amendment_consumed_has_demand",
            ),
            models.CheckConstraint(
                condition=Q(effective_till__isnull=True)
                | Q(effective_from__isnull=False, effective_from__lt=models.F("effective_till")),
                name="amendments_amendment_period_ordered",
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "business_service", "consumer_code", "status"], name="amendments_by_consumer"
            ),
            models.Index(fields=["tenant", "status"], name="amendments_by_status"),
        ]

    def __str__(self) -> str:
        return f"{self.amendment_id} ({self.status})"

    # Transitions: they only flip fields; ``amendments.services`` decides who may call them and writes the rest.

    @transition(field=state, source=AmendmentState.NEW, target=AmendmentState.APPROVALPENDING)
    def open(self) -> None:
        self.status = AmendmentStatus.INWORKFLOW

    @transition(field=state, source=AmendmentState.NEW, target=AmendmentState.DIRECT)
    def create_direct(self) -> None:
        self.status = AmendmentStatus.ACTIVE

    @transition(field=state, source=AmendmentState.APPROVALPENDING, target=AmendmentState.APPROVED)
    def approve(self) -> None:
        self.status = AmendmentStatus.ACTIVE

    @transition(field=state, source=AmendmentState.APPROVALPENDING, target=AmendmentState.REJECTED)
    def reject(self) -> None:
        self.status = AmendmentStatus.INACTIVE

    @transition(field=state, source=AmendmentState.APPROVALPENDING, target=AmendmentState.PENDING_FOR_CITIZEN_ACTION)
    def send_back(self) -> None:
        self.status = AmendmentStatus.INWORKFLOW

    @transition(field=state, source=AmendmentState.PENDING_FOR_CITIZEN_ACTION, target=AmendmentState.APPROVALPENDING)
    def resubmit(self) -> None:
        self.status = AmendmentStatus.INWORKFLOW

    @transition(field=state, source=IN_WORKFLOW, target=AmendmentState.WITHDRAWN)
    def withdraw(self) -> None:
        self.status = AmendmentStatus.INACTIVE

    def mark_consumed(self, demand: Demand, at: Any) -> None:
        """The lines are in ``demand`` (an ACTIVE amendment only)."""
        self.status = AmendmentStatus.CONSUMED
        self.amended_demand = demand
        self.consumed_at = at


class AmendmentTaxDetail(models.Model):
    """One tax head line. Its id becomes the id of the demand line it is applied as: a second application
    of the same line is refused by the demand line's primary key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    amendment = models.ForeignKey(Amendment, on_delete=models.CASCADE, related_name="details")
    tax_head_code = models.CharField(max_length=64)
    tax_amount = MoneyField()
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["amendment_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["amendment", "position"], name="amendments_amendmenttaxdetail_position"),
        ]

    def __str__(self) -> str:
        return f"{self.tax_head_code} {self.tax_amount}"


class AmendmentDocument(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    amendment = models.ForeignKey(Amendment, on_delete=models.CASCADE, related_name="documents")
    document_type = models.CharField(max_length=128)
    file_store_id = models.CharField(max_length=256)
    document_uid = models.CharField(max_length=64, blank=True, default="")
    additional_details = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=16, default="ACTIVE")

    class Meta:
        ordering = ["amendment_id", "document_type", "id"]

    def __str__(self) -> str:
        return f"{self.document_type} {self.file_store_id}"


class AmendmentTransition(models.Model):
    """Append-only: every workflow action (and the application of the lines), who, when, with what comment."""

    amendment = models.ForeignKey(Amendment, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(max_length=32)
    requested_action = models.CharField(
        max_length=32, blank=True, default="", help_text="The action as the request named it (RE-SUBMIT)."
    )
    from_state = models.CharField(max_length=32)
    to_state = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=AmendmentStatus.choices)
    actor = models.CharField(max_length=150)
    at = models.DateTimeField()
    comment = models.TextField(blank=True, default="")
    demand = models.ForeignKey(Demand, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["amendment_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.from_state} -> {self.to_state} by {self.actor}"
