"""The ``celery`` channel: submit a Celery task (job submission through the outbox).

The message's ``destination`` is the task's registered name and its ``payload`` the task's keyword arguments (a
JSON object). The message id is the Celery task id, the same on every attempt, and the message's headers travel
as the Celery message's headers with ``outbox_id`` and ``outbox_dedupe_key`` added — the task can deduplicate on
``self.request.id``. Our tasks are retry-safe anyway (DESIGN rule 9): each re-checks its row's state.

- With a broker: one publish per attempt (``retry=False``: the outbox is the retry), within the broker's
  connect and socket timeouts (``CELERY_BROKER_CONNECT_TIMEOUT``, ``CELERY_BROKER_SOCKET_TIMEOUT``). A failure is
  transient: retried with backoff (10 s doubling to 10 min) for 50 attempts — about eight hours — then PARKED.
- In-process (``CELERY_TASK_ALWAYS_EAGER``): the task runs here and now. Its own failure is the job's, not the
  delivery's (as a worker's failure would be): it is logged and the message counts as delivered.
- A destination that names no registered task is a permanent error (PARKED at once).

The channel is ``inline``: the committing process publishes right after the commit (a publish is as cheap as the
``delay()`` it replaces).
"""

from __future__ import annotations

import logging
from typing import Any

from billing_project.outbox.channels import Channel, Delivery
from billing_project.outbox.errors import PermanentDeliveryError, TransientDeliveryError

logger = logging.getLogger("billing.outbox")

NAME = "celery"


def _app() -> Any:
    from billing_project.celery import app

    return app


def _task(app: Any, name: str) -> Any:
    """The registered task ``name``. A web process imports the apps' ``tasks`` modules only when something needs
    them, so a miss first imports them all (Celery's autodiscovery), once."""
    task = app.tasks.get(name)
    if task is None and not getattr(app, "_outbox_imported_tasks", False):
        app.loader.import_default_modules()
        app._outbox_imported_tasks = True
        task = app.tasks.get(name)
    return task


def deliver_celery(delivery: Delivery) -> None:
    app = _app()
    task = _task(app, delivery.destination)
    if task is None:
        raise PermanentDeliveryError(f"no Celery task named {delivery.destination!r} is registered")
    if not isinstance(delivery.payload, dict):
        raise PermanentDeliveryError("the payload of a celery message is an object of keyword arguments")
    headers = {**delivery.headers, "outbox_id": str(delivery.id), "outbox_dedupe_key": delivery.dedupe_key}
    if app.conf.task_always_eager:
        result = task.apply(kwargs=delivery.payload, task_id=delivery.idempotency_key, headers=headers, throw=False)
        if result.failed():
            logger.error(
                "in-process task failed (the job's failure, not the delivery's)",
                extra={"outbox_id": str(delivery.id), "task": delivery.destination, "error": repr(result.result)},
            )
        return
    try:
        task.apply_async(kwargs=delivery.payload, task_id=delivery.idempotency_key, headers=headers, retry=False)
    except Exception as exc:  # broker refused, unreachable or silent (kombu/redis errors, OSError, timeouts)
        raise TransientDeliveryError(f"publish failed: {type(exc).__name__}: {exc}") from exc


CELERY_CHANNEL = Channel(
    name=NAME,
    deliver=deliver_celery,
    max_attempts=50,
    backoff_base_seconds=10.0,
    backoff_cap_seconds=600.0,
    backoff_jitter=0.5,
    inline=True,
)
