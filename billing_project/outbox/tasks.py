"""The relay's Celery tasks: the kick of slow channels' messages, and the beat sweep. Both are retry-safe: a
relay pass only takes what is due and not leased, so a repeated or concurrent task delivers nothing twice within
a lease."""

from __future__ import annotations

from celery import shared_task

from billing_project.outbox.relay import outbox_relay


@shared_task(name="kernel.outbox_deliver", acks_late=True, ignore_result=True)
def outbox_deliver(*, message_ids: list[str]) -> dict[str, int]:
    """Deliver these messages (those still due): the kick of messages of channels that are not inline."""
    return outbox_relay(message_ids=message_ids, max_messages=len(message_ids)).as_dict()


@shared_task(name="kernel.outbox_sweep", acks_late=True, ignore_result=True)
def outbox_sweep(*, max_messages: int | None = None) -> dict[str, int]:
    """Beat job (every minute): deliver what is due — retries whose time has come, messages whose kick was lost,
    leases that ran out — in bounded batches (``OUTBOX_SWEEP_MAX_MESSAGES``, ``OUTBOX_SWEEP_SECONDS``)."""
    return outbox_relay(max_messages=max_messages).as_dict()
