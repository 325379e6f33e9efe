"""The transactional outbox: every outbound message (job submission, events, webhooks, SMS, e-mail) is written in
the business transaction that causes it and delivered after the commit, at least once, by a relay.

- ``outbox_enqueue(...)`` — inside the caller's transaction (``enqueue.py``);
- ``Channel``/``channel_register`` — the registry of delivery mechanisms (``channels.py``), with the ``celery``
  channel for job submission (``celery_channel.py``);
- ``outbox_relay`` — claim, deliver outside any transaction, record (``relay.py``), run by the kick after commit
  (``kick.py``) and the Celery tasks ``kernel.outbox_deliver`` / ``kernel.outbox_sweep`` (``tasks.py``);
- ``outbox_message_retry`` / ``outbox_message_discard`` — staff services (``services.py``), and the admin page.

See docs/operations.md ("The outbox").
"""

from billing_project.outbox.channels import (
    Channel,
    Delivery,
    Throttle,
    channel_get,
    channel_register,
    channel_registered,
    channel_unregister,
)
from billing_project.outbox.enqueue import OutboxUsageError, outbox_enqueue
from billing_project.outbox.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from billing_project.outbox.models import OutboxMessage, OutboxStatus

__all__ = [
    "Channel",
    "Delivery",
    "DeliveryError",
    "OutboxMessage",
    "OutboxStatus",
    "OutboxUsageError",
    "PermanentDeliveryError",
    "Throttle",
    "TransientDeliveryError",
    "channel_get",
    "channel_register",
    "channel_registered",
    "channel_unregister",
    "outbox_enqueue",
]
