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


def outbox_latest_about(subject: str) -> OutboxMessage | None:
    """The newest message about ``subject``."""
    return outbox_messages_about(subject).first()


def outbox_delivery_note(message: OutboxMessage | None) -> str:
    """Where a message stands, in words for an operator (a command's output, an admin page)."""
    if message is None:
        return "not submitted"
    if message.status == OutboxStatus.DELIVERED:
        from billing_project.celery import app

        return "done in this process (no broker configured)" if app.conf.task_always_eager else "handed to the workers"
    if message.status == OutboxStatus.PARKED:
        return "not handed over: parked in the outbox (see the admin)"
    if message.status == OutboxStatus.DISCARDED:
        return "not handed over: discarded in the outbox"
    if message.attempts:
        return "waiting for the broker (unreachable); it is handed over when the broker is back"
    return "about to be handed to the workers"
