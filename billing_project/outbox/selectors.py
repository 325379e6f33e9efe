"""Reads of the outbox for the apps and the admin."""

from __future__ import annotations

from django.db.models import QuerySet

from billing_project.outbox.models import OutboxMessage, OutboxStatus


def outbox_messages_about(subject: str) -> QuerySet[OutboxMessage]:
    """The messages about ``subject`` (``<app>.<model>:<id>``), newest first."""
    return OutboxMessage.objects.filter(subject=subject).order_by("-created_at", "id")


def outbox_undelivered_about(subjects: list[str]) -> set[str]:
    """Which of ``subjects`` have a PENDING message (not delivered yet: waiting, retrying or in flight)."""
    if not subjects:
        return set()
    return set(
        OutboxMessage.objects.filter(subject__in=subjects, status=OutboxStatus.PENDING)
        .values_list("subject", flat=True)
        .distinct()
    )
