"""Reactions to bill cancellation, registered explicitly (no signals): ``payments.digit_events`` registers the
publisher of DIGIT's ``bill-cancel-topic-name`` in its ``AppConfig.ready``. Handlers run inside the cancelling
transaction (they enqueue outbox messages; they never call out)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence

BillsCancelled = Callable[..., None]
_handlers: list[BillsCancelled] = []


def on_bills_cancelled(handler: BillsCancelled) -> None:
    if handler not in _handlers:
        _handlers.append(handler)


def bills_cancelled(*, bill_ids: Sequence[uuid.UUID], actor: str, at: dt.datetime) -> None:
    for handler in _handlers:
        handler(bill_ids=bill_ids, actor=actor, at=at)
