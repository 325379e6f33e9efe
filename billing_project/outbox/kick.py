"""The kick after commit: deliver new messages now instead of at the next sweep.

- In-process mode (``CELERY_TASK_ALWAYS_EAGER``, no broker): the relay delivers every message here, in the
  committing process.
- Otherwise messages of ``inline`` channels (handing a job to the broker) are delivered here; the others are
  handed to the ``kernel.outbox_deliver`` task, so the request does not wait for a slow receiver.

Nothing here may fail the request: publishing the task is one attempt with the broker's short timeouts, and any
failure is logged — the messages stay PENDING and the beat sweep (``kernel.outbox_sweep``) delivers them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from billing_project.outbox.channels import ChannelNotRegistered, channel_get
from billing_project.outbox.models import OutboxMessage
from billing_project.outbox.relay import outbox_relay

logger = logging.getLogger("billing.outbox")


def _celery_app() -> Any:
    from billing_project.celery import app

    return app


def outbox_kick(*, message_ids: Sequence[uuid.UUID]) -> None:
    if not message_ids:
        return
    app = _celery_app()
    if app.conf.task_always_eager:
        outbox_relay(message_ids=message_ids, max_messages=len(message_ids))
        return
    inline: list[uuid.UUID] = []
    later: list[uuid.UUID] = []
    for message_id, name in OutboxMessage.objects.filter(pk__in=list(message_ids)).values_list("pk", "channel"):
        try:
            (inline if channel_get(name).inline else later).append(message_id)
        except ChannelNotRegistered:
            later.append(message_id)  # the relay parks it, with the reason
    if inline:
        outbox_relay(message_ids=inline, max_messages=len(inline))
    if later:
        from billing_project.outbox.tasks import outbox_deliver

        try:
            outbox_deliver.apply_async(kwargs={"message_ids": [str(i) for i in later]}, retry=False)
        except Exception as exc:  # the broker is down or silent: the sweep delivers them
            logger.warning(
                "outbox kick not published; the sweep will deliver",
                extra={"outbox_ids": len(later), "error": f"{type(exc).__name__}: {exc}"},
            )
