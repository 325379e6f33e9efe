"""Staff actions on outbox messages: retry now, discard. Each is one durable transaction on a locked row."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.db import transaction

from billing_project.errors import ConflictError, NotFound
from billing_project.outbox.enqueue import _kick_after_commit
from billing_project.outbox.errors import OUTBOX_MESSAGE_NOT_FOUND, OUTBOX_MESSAGE_STATE
from billing_project.outbox.models import OutboxMessage, OutboxStatus
from billing_project.uuids import uuid_or_none

logger = logging.getLogger("billing.outbox")


def _locked(message_id: uuid.UUID | str) -> OutboxMessage:
    key = uuid_or_none(message_id)
    message = OutboxMessage.objects.select_for_update().filter(pk=key).first() if key is not None else None
    if message is None:
        raise NotFound(OUTBOX_MESSAGE_NOT_FOUND, f"No outbox message {message_id}")
    return message


def _in_flight(message: OutboxMessage, at: dt.datetime) -> bool:
    return message.claimed_until is not None and message.claimed_until > at


def outbox_message_retry(*, message_id: uuid.UUID | str, actor: str, at: dt.datetime) -> OutboxMessage:
    """A PARKED message — or a PENDING one waiting for its next attempt — is due now, with the channel's attempts
    counted afresh; its delivery is kicked after the commit. Refused for a DELIVERED or DISCARDED message and for
    one being delivered right now."""
    with transaction.atomic(durable=True):
        message = _locked(message_id)
        if message.status not in (OutboxStatus.PARKED, OutboxStatus.PENDING):
            raise ConflictError(OUTBOX_MESSAGE_STATE, f"A {message.status} message is not retried")
        if _in_flight(message, at):
            raise ConflictError(OUTBOX_MESSAGE_STATE, "The message is being delivered right now; try again shortly")
        message.status = OutboxStatus.PENDING
        message.attempts = 0
        message.next_attempt_at = at
        message.claimed_by, message.claimed_until = "", None
        message.handled_by, message.handled_at = actor[:150], at
        message.save(
            update_fields=[
                "status",
                "attempts",
                "next_attempt_at",
                "claimed_by",
                "claimed_until",
                "handled_by",
                "handled_at",
            ]
        )
        _kick_after_commit(transaction.get_connection(), message.pk)
    logger.info("outbox message retried by staff", extra={"outbox_id": str(message.pk), "actor": actor})
    return message


def outbox_message_discard(*, message_id: uuid.UUID | str, actor: str, reason: str, at: dt.datetime) -> OutboxMessage:
    """A PENDING or PARKED message is DISCARDED (never sent again), with who and why. Refused for a DELIVERED
    message and for one being delivered right now; discarding a DISCARDED message changes nothing."""
    with transaction.atomic(durable=True):
        message = _locked(message_id)
        if message.status == OutboxStatus.DISCARDED:
            return message
        if message.status == OutboxStatus.DELIVERED:
            raise ConflictError(OUTBOX_MESSAGE_STATE, "A DELIVERED message cannot be discarded")
        if _in_flight(message, at):
            raise ConflictError(OUTBOX_MESSAGE_STATE, "The message is being delivered right now; try again shortly")
        note = f"discarded by {actor}: {reason}".strip()
        message.status = OutboxStatus.DISCARDED
        message.claimed_by, message.claimed_until = "", None
        message.last_error = f"{message.last_error}\n{note}".strip() if message.last_error else note
        message.handled_by, message.handled_at = actor[:150], at
        message.save(update_fields=["status", "claimed_by", "claimed_until", "last_error", "handled_by", "handled_at"])
    logger.info("outbox message discarded by staff", extra={"outbox_id": str(message.pk), "actor": actor})
    return message
