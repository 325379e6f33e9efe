"""Reactions to payments taken and reversed by this service, registered explicitly (no signals).

``payments.digit_events`` registers the publisher of DIGIT's ``egov.collection.payment-create`` / ``-cancel`` in its
``AppConfig.ready``. Handlers run inside the payment's transaction (they enqueue outbox messages; they never call
out). Payments that came from DIGIT over Kafka do not call them: DIGIT has published those already."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

PaymentHandler = Callable[..., None]
_recorded: list[PaymentHandler] = []
_reversed: list[PaymentHandler] = []


def on_payment_recorded(handler: PaymentHandler) -> None:
    if handler not in _recorded:
        _recorded.append(handler)


def on_payment_reversed(handler: PaymentHandler) -> None:
    if handler not in _reversed:
        _reversed.append(handler)


def payment_recorded(*, payment_id: uuid.UUID, actor: str, at: dt.datetime) -> None:
    for handler in _recorded:
        handler(payment_id=payment_id, actor=actor, at=at)


def payment_reversed(*, payment_id: uuid.UUID, actor: str, at: dt.datetime) -> None:
    for handler in _reversed:
        handler(payment_id=payment_id, actor=actor, at=at)
