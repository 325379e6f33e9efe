"""The registry of delivery channels, declared explicitly in one place (no signals).

A channel is a delivery mechanism: it says how to deliver one message (``deliver``), how often to try and how
long to wait between tries, whether it is throttled, and whether the committing process delivers right after
the commit (``inline``: cheap, fast channels such as handing a job to the Celery broker) or hands the delivery
to a relay task (slow channels: HTTP, SMS, e-mail — the request that caused the message does not wait for them).

Registered channels (each registers in its app's ``AppConfig.ready``):

- ``celery`` — ``billing_project.outbox.celery_channel``, registered by the kernel (``billing_project/apps.py``):
  submits the Celery task named by the message's destination with the payload as keyword arguments.

``deliver`` receives a ``Delivery`` (never the database row) and returns normally when the receiver accepted the
message, or raises ``TransientDeliveryError`` / ``PermanentDeliveryError``; any other exception counts as
transient. Delivery is at least once: a channel passes ``Delivery.idempotency_key`` (the message id) to the
receiver — a Celery task id, an ``Idempotency-Key`` header, a Kafka message key — so that the receiver can drop a
repeat.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Delivery:
    """What a channel's ``deliver`` gets: one message, one attempt."""

    id: uuid.UUID
    channel: str
    destination: str
    payload: Any
    headers: Mapping[str, Any]
    dedupe_key: str
    tenant_code: str
    subject: str
    recipient: str
    attempt: int
    created_at: dt.datetime

    @property
    def idempotency_key(self) -> str:
        """The key receivers deduplicate on: the message id, the same on every attempt."""
        return str(self.id)


@dataclass(frozen=True)
class Throttle:
    """At most ``rate`` deliveries per second on average over all relays, in bursts of at most ``burst``."""

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a throttle needs rate > 0 and burst >= 1")


@dataclass(frozen=True)
class Channel:
    """A delivery mechanism: its deliver function and its retry, throttle and inline policy."""

    name: str
    deliver: Callable[[Delivery], None] = field(compare=False)
    #: Attempts in all (the first included); after the last failure the message is PARKED.
    max_attempts: int = 10
    #: Backoff after failed attempt n: min(cap, base * 2**(n-1)), of which ``jitter`` is random.
    backoff_base_seconds: float = 30.0
    backoff_cap_seconds: float = 3600.0
    backoff_jitter: float = 0.5
    throttle: Throttle | None = None
    #: Deliver right after the commit in the committing process (fast channels only).
    inline: bool = False

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 32:
            raise ValueError("a channel name has 1 to 32 characters")
        if self.max_attempts < 1 or self.backoff_base_seconds <= 0 or self.backoff_cap_seconds < 0:
            raise ValueError("a channel needs max_attempts >= 1, a positive backoff base and a cap >= 0")


class ChannelNotRegistered(LookupError):
    pass


_channels: dict[str, Channel] = {}


def channel_register(channel: Channel) -> None:
    """Register ``channel`` under its name (registering an equal channel again does nothing; another channel
    under a taken name is refused)."""
    existing = _channels.get(channel.name)
    if existing is not None and (existing != channel or existing.deliver is not channel.deliver):
        raise ValueError(f"outbox channel {channel.name!r} is already registered")
    _channels[channel.name] = channel


def channel_unregister(name: str) -> None:
    _channels.pop(name, None)


def channel_get(name: str) -> Channel:
    try:
        return _channels[name]
    except KeyError:
        raise ChannelNotRegistered(f"no outbox channel {name!r} is registered") from None


def channels() -> tuple[Channel, ...]:
    return tuple(_channels.values())


@contextmanager
def channel_registered(channel: Channel) -> Iterator[Channel]:
    """Register ``channel`` for the duration of the block (tests, one-off tools); restores what was there."""
    previous = _channels.get(channel.name)
    _channels[channel.name] = channel
    try:
        yield channel
    finally:
        if previous is None:
            _channels.pop(channel.name, None)
        else:
            _channels[channel.name] = previous
