"""``outbox_enqueue``: record an outbound message in the caller's transaction; kick its delivery after commit."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from billing_project import clock
from billing_project.outbox.channels import channel_get
from billing_project.outbox.models import OutboxMessage

logger = logging.getLogger("billing.outbox")


class OutboxUsageError(RuntimeError):
    """``outbox_enqueue`` was called outside a transaction (a programming error)."""


def outbox_enqueue(
    *,
    channel: str,
    destination: str,
    payload: Any,
    dedupe_key: str | None = None,
    headers: Mapping[str, Any] | None = None,
    tenant_code: str = "",
    subject: str = "",
    recipient: str = "",
    not_before: dt.datetime | None = None,
    at: dt.datetime | None = None,
) -> OutboxMessage:
    """Record a message for ``channel``/``destination`` in the caller's transaction and return it.

    Must run inside the business transaction whose change the message reports (``savepoint=False``; outside a
    transaction it refuses): the message commits with that change or rolls back with it, so nothing is ever sent
    for a change that did not happen. After the commit, its delivery is kicked (see ``outbox_kick``); if that
    fails — the broker is down — the message stays PENDING and the sweep delivers it later.

    ``dedupe_key`` is unique in the database (namespace it: ``<app>.<model>:<id>:<purpose>``): when a message with
    that key exists — committed, or written earlier in this transaction — nothing is written and the existing
    message is returned (``is_new`` tells which). Without a key the message id is its key. ``not_before`` delays
    the first attempt (such a message is not kicked: the sweep delivers it when it is due).
    """
    connection = transaction.get_connection(DEFAULT_DB_ALIAS)
    if not connection.in_atomic_block:
        raise OutboxUsageError("outbox_enqueue must run inside the transaction of the change it reports")
    channel_get(channel)  # an unknown channel is a programming error: refuse before writing
    if not destination or len(destination) > 255:
        raise ValueError("an outbox destination has 1 to 255 characters")
    if dedupe_key is not None and not 1 <= len(dedupe_key) <= 255:
        raise ValueError("an outbox dedupe key has 1 to 255 characters")
    if headers is not None and not all(isinstance(key, str) for key in headers):
        raise ValueError("outbox headers are a mapping of text keys")
    try:
        json.dumps(payload, allow_nan=False)
        json.dumps(dict(headers or {}), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"an outbox payload and its headers must be plain JSON: {exc}") from exc
    now = clock.now()
    message_id = uuid.uuid4()
    message = OutboxMessage(
        id=message_id,
        channel=channel,
        destination=destination,
        payload=payload,
        headers=dict(headers or {}),
        dedupe_key=dedupe_key or str(message_id),
        tenant_code=tenant_code,
        subject=subject[:128],
        recipient=recipient[:128],
        next_attempt_at=not_before or now,
        created_at=at or now,
    )
    with transaction.atomic(savepoint=False):
        OutboxMessage.objects.bulk_create([message], ignore_conflicts=True)
        stored = OutboxMessage.objects.get(dedupe_key=message.dedupe_key)
    stored.is_new = stored.pk == message_id
    if stored.is_new and not_before is None:
        _kick_after_commit(connection, message_id)
    return stored


class _KickBatch:
    """The messages of one transaction, kicked by one ``on_commit`` callback."""

    def __init__(self, savepoints: set[str]) -> None:
        self.ids: list[uuid.UUID] = []
        self.savepoints = savepoints

    def __call__(self) -> None:
        from billing_project.outbox.kick import outbox_kick  # the kick imports the relay, which imports much

        try:
            outbox_kick(message_ids=self.ids)
        except Exception:  # never into the request: the rows are committed and the sweep delivers them
            logger.exception("outbox kick failed; the sweep will deliver", extra={"outbox_ids": len(self.ids)})


def _kick_after_commit(connection: BaseDatabaseWrapper, message_id: uuid.UUID) -> None:
    """One ``on_commit`` callback per transaction, however many messages it enqueues.

    The batch of the connection is reused while it is still among the connection's commit hooks (a transaction
    that committed or rolled back has none left) and was registered in this transaction or an enclosing savepoint
    of it (not in a sibling block, whose hooks may run at another time). Otherwise a new batch is registered. An
    id from a savepoint that rolled back may stay in a batch: the relay finds no such row and skips it."""
    current = set(connection.savepoint_ids)
    batch: _KickBatch | None = getattr(connection, "_outbox_kick_batch", None)
    if batch is None or not batch.savepoints <= current or not _pending(connection, batch):
        batch = _KickBatch(current)
        connection._outbox_kick_batch = batch  # type: ignore[attr-defined]
        transaction.on_commit(batch, robust=True)
    batch.ids.append(message_id)


def _pending(connection: BaseDatabaseWrapper, batch: _KickBatch) -> bool:
    hooks: Sequence[tuple[Any, ...]] = connection.run_on_commit
    return any(len(hook) > 1 and hook[1] is batch for hook in hooks)
