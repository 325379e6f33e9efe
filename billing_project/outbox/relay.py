"""The relay: claim due messages, deliver them outside any transaction, record each outcome.

One pass (``outbox_relay``) repeats, until nothing is due or its bounds are reached:

1. **Claim** (one short transaction): ``SELECT … FOR UPDATE SKIP LOCKED`` the oldest PENDING rows due now
   (``next_attempt_at <= now``; a row held by a relay whose lease ran out is due again), at most
   ``OUTBOX_CLAIM_BATCH``; take a token per row from a throttled channel's bucket (rows beyond the tokens stay
   due, and that channel is skipped for the rest of the pass); park rows whose channel is not registered, or whose
   last attempt never reported back and used up the channel's attempts; give the rest a lease
   (``claimed_by``/``claimed_until``, and ``next_attempt_at`` = the lease's end) and count the attempt; commit.
2. **Deliver** each claimed message through its channel, outside any transaction, while the lease lasts; what is
   left when the lease is nearly over is released (due again at once, the attempt not counted).
3. **Record** each outcome in its own short transaction: DELIVERED; or PENDING again at now + a jittered,
   bounded exponential backoff; or PARKED with its error (a permanent error, or the channel's last attempt).
   A message delivered after failed attempts means its receiver is back: the other messages for the same
   channel and destination waiting for a retry are due at once.

A relay killed between 1 and 3 leaves its rows leased: when the lease ends they are due again and delivered
again — delivery is at least once, and channels pass the message id to receivers as their idempotency key. Two
relays never hold one row at once: the claim skips rows another claim has locked, and a claimed row is not due
until its lease ends.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, TextField, Value, When
from django.db.models.functions import Concat

from billing_project import clock
from billing_project.outbox.backoff import backoff_seconds
from billing_project.outbox.channels import Channel, ChannelNotRegistered, Delivery, channel_get, channels
from billing_project.outbox.errors import PermanentDeliveryError, TransientDeliveryError
from billing_project.outbox.models import OutboxMessage, OutboxStatus, OutboxThrottle

logger = logging.getLogger("billing.outbox")

RELAY_HOST = f"{socket.gethostname()}:{os.getpid()}"
_MAX_ERROR = 2000
#: Stop delivering from a claimed batch this long before its lease ends (the rest is released).
LEASE_MARGIN_SECONDS = 5.0
_random = random.SystemRandom()


@dataclass
class RelayReport:
    """What one relay pass did. ``throttled``: due messages held back because their channel had no tokens left
    (the channel is skipped for the rest of the pass; they wait for the next pass)."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    parked: int = 0
    released: int = 0
    throttled: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class _Claim:
    channel: Channel
    delivery: Delivery


@dataclass(frozen=True)
class _Outcome:
    delivered: bool
    permanent: bool = False
    error: str = ""
    retry_after: float | None = None


def outbox_relay(
    *,
    message_ids: Sequence[uuid.UUID | str] | None = None,
    max_messages: int | None = None,
    time_budget_seconds: float | None = None,
) -> RelayReport:
    """Deliver what is due (only ``message_ids`` when given), at most ``max_messages`` within about
    ``time_budget_seconds`` (defaults: ``OUTBOX_SWEEP_MAX_MESSAGES``, ``OUTBOX_SWEEP_SECONDS``).

    Must run outside any transaction (the claims and records are durable transactions of their own)."""
    report = RelayReport()
    limit = settings.OUTBOX_SWEEP_MAX_MESSAGES if max_messages is None else max_messages
    budget = settings.OUTBOX_SWEEP_SECONDS if time_budget_seconds is None else time_budget_seconds
    ids = None if message_ids is None else [uuid.UUID(str(i)) for i in message_ids]
    if ids is not None and not ids:
        return report
    started = time.monotonic()
    exhausted: set[str] = set()
    while report.claimed < limit and time.monotonic() - started < budget:
        token = f"{RELAY_HOST}:{uuid.uuid4().hex[:12]}"
        size = min(settings.OUTBOX_CLAIM_BATCH, limit - report.claimed)
        claims = _claim(token=token, size=size, ids=ids, exhausted=exhausted, report=report)
        if not claims:
            break
        lease_deadline = time.monotonic() + settings.OUTBOX_LEASE_SECONDS - LEASE_MARGIN_SECONDS
        for index, claim in enumerate(claims):
            if time.monotonic() >= lease_deadline:
                report.released += _release([c.delivery.id for c in claims[index:]], token=token)
                break
            _record(claim, _attempt(claim), token=token, report=report)
    return report


def _claim(
    *, token: str, size: int, ids: list[uuid.UUID] | None, exhausted: set[str], report: RelayReport
) -> list[_Claim]:
    now = clock.now()
    lease_end = now + dt.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    with transaction.atomic(durable=True):
        queryset = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
            status=OutboxStatus.PENDING, next_attempt_at__lte=now
        )
        if ids is not None:
            queryset = queryset.filter(pk__in=ids)
        if exhausted:
            queryset = queryset.exclude(channel__in=exhausted)
        rows = list(queryset.order_by("next_attempt_at", "created_at", "id")[:size])
        if not rows:
            return []
        tokens = _throttle_tokens({row.channel for row in rows}, now=now)
        claims: list[_Claim] = []
        parked: list[tuple[OutboxMessage, str]] = []
        for row in rows:
            try:
                channel = channel_get(row.channel)
            except ChannelNotRegistered as exc:
                parked.append((row, str(exc)))
                continue
            if row.attempts >= channel.max_attempts:
                parked.append((row, _lost(row, last=True)))
                continue
            if row.channel in tokens:
                if tokens[row.channel] < 1.0:
                    exhausted.add(row.channel)
                    report.throttled += 1
                    continue
                tokens[row.channel] -= 1.0
            claims.append(_Claim(channel=channel, delivery=_delivery(row)))
        for row, error in parked:
            _park_at_claim(row, error, now=now)
            report.parked += 1
        if tokens:
            for name, left in tokens.items():
                OutboxThrottle.objects.filter(channel=name).update(tokens=left, refilled_at=now)
        if claims:
            OutboxMessage.objects.filter(pk__in=[c.delivery.id for c in claims]).update(
                attempts=F("attempts") + 1,
                last_attempt_at=now,
                next_attempt_at=lease_end,
                claimed_until=lease_end,
                claimed_by=token,
                last_error=Case(
                    When(
                        claimed_until__isnull=False,
                        then=Concat(
                            Value("the lease of "),
                            F("claimed_by"),
                            Value(" ended before the outcome of its attempt was recorded (the relay stopped?)"),
                            output_field=TextField(),
                        ),
                    ),
                    default=F("last_error"),
                    output_field=TextField(),
                ),
            )
    report.claimed += len(claims)
    return claims


def _throttle_tokens(names: set[str], *, now: dt.datetime) -> dict[str, float]:
    """Lock the buckets of the throttled channels among ``names`` (in name order) and refill them to ``now``."""
    throttled: dict[str, Channel] = {}
    for channel in channels():
        if channel.name in names and channel.throttle is not None:
            throttled[channel.name] = channel
    if not throttled:
        return {}
    OutboxThrottle.objects.bulk_create(
        [
            OutboxThrottle(channel=name, tokens=float(ch.throttle.burst), refilled_at=now)  # type: ignore[union-attr]
            for name, ch in throttled.items()
        ],
        ignore_conflicts=True,
    )
    buckets = OutboxThrottle.objects.select_for_update().filter(channel__in=sorted(throttled)).order_by("channel")
    tokens: dict[str, float] = {}
    for bucket in buckets:
        throttle = throttled[bucket.channel].throttle
        assert throttle is not None
        elapsed = max(0.0, (now - bucket.refilled_at).total_seconds())
        tokens[bucket.channel] = min(float(throttle.burst), bucket.tokens + elapsed * throttle.rate)
    return tokens


def _lost(row: OutboxMessage, *, last: bool) -> str:
    holder = row.claimed_by or "a relay"
    text = f"the lease of {holder} ended before the outcome of attempt {row.attempts} was recorded"
    return f"{text}; that was the last attempt" if last else text


def _park_at_claim(row: OutboxMessage, error: str, *, now: dt.datetime) -> None:
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=OutboxStatus.PARKED,
        claimed_by="",
        claimed_until=None,
        next_attempt_at=now,
        last_error=error[:_MAX_ERROR],
    )
    logger.error("outbox message parked", extra={"outbox_id": str(row.pk), "channel": row.channel, "error": error})


def _delivery(row: OutboxMessage) -> Delivery:
    return Delivery(
        id=row.pk,
        channel=row.channel,
        destination=row.destination,
        payload=row.payload,
        headers=dict(row.headers or {}),
        dedupe_key=row.dedupe_key,
        tenant_code=row.tenant_code,
        subject=row.subject,
        recipient=row.recipient,
        attempt=row.attempts + 1,
        created_at=row.created_at,
    )


def _attempt(claim: _Claim) -> _Outcome:
    try:
        claim.channel.deliver(claim.delivery)
    except PermanentDeliveryError as exc:
        return _Outcome(delivered=False, permanent=True, error=f"permanent: {exc}")
    except TransientDeliveryError as exc:
        return _Outcome(delivered=False, error=f"transient: {exc}", retry_after=exc.retry_after)
    except Exception as exc:  # a channel's bug or an unforeseen failure: retried, and kept visible
        logger.exception("outbox channel %s raised", claim.channel.name, extra={"outbox_id": str(claim.delivery.id)})
        return _Outcome(delivered=False, error=f"unexpected: {type(exc).__name__}: {exc}")
    return _Outcome(delivered=True)


def _record(claim: _Claim, outcome: _Outcome, *, token: str, report: RelayReport) -> None:
    now = clock.now()
    delivery, channel = claim.delivery, claim.channel
    log: dict[str, Any] = {"outbox_id": str(delivery.id), "channel": channel.name, "attempt": delivery.attempt}
    with transaction.atomic(durable=True):
        if outcome.delivered:
            # Whoever holds the lease now: the message reached the receiver, which is what DELIVERED means.
            updated = OutboxMessage.objects.filter(pk=delivery.id, status=OutboxStatus.PENDING).update(
                status=OutboxStatus.DELIVERED, delivered_at=now, claimed_by="", claimed_until=None
            )
            if updated:
                report.delivered += 1
                logger.info("outbox message delivered", extra=log)
                if delivery.attempt > 1:
                    _receiver_is_back(channel.name, delivery.destination, now=now)
            return
        mine = OutboxMessage.objects.filter(pk=delivery.id, status=OutboxStatus.PENDING, claimed_by=token)
        error = outcome.error[:_MAX_ERROR]
        if outcome.permanent or delivery.attempt >= channel.max_attempts:
            if mine.update(
                status=OutboxStatus.PARKED, claimed_by="", claimed_until=None, next_attempt_at=now, last_error=error
            ):
                report.parked += 1
                logger.error("outbox message parked", extra={**log, "error": error})
            return
        delay = backoff_seconds(
            attempt=delivery.attempt,
            base=channel.backoff_base_seconds,
            cap=channel.backoff_cap_seconds,
            jitter=channel.backoff_jitter,
            draw=_random.random(),
            at_least=outcome.retry_after or 0.0,
        )
        if mine.update(
            next_attempt_at=now + dt.timedelta(seconds=delay), claimed_by="", claimed_until=None, last_error=error
        ):
            report.retrying += 1
            logger.warning("outbox delivery failed; will retry", extra={**log, "error": error, "retry_in": delay})


def _receiver_is_back(channel: str, destination: str, *, now: dt.datetime) -> None:
    """A delivery that had failed before went through: the receiver is back, so the other messages for it that
    wait for their next attempt are due now (not after their backoff, up to the channel's cap, after an outage).
    Their attempts are not reset: a message that fails on its own still parks after the channel's attempts."""
    OutboxMessage.objects.filter(
        status=OutboxStatus.PENDING,
        next_attempt_at__gt=now,
        claimed_until__isnull=True,
        attempts__gt=0,
        channel=channel,
        destination=destination,
    ).update(next_attempt_at=now)


def _release(ids: list[uuid.UUID], *, token: str) -> int:
    """Give back claimed rows that were not attempted (the lease was nearly over): due at once, not counted."""
    with transaction.atomic(durable=True):
        return OutboxMessage.objects.filter(pk__in=ids, status=OutboxStatus.PENDING, claimed_by=token).update(
            claimed_by="", claimed_until=None, next_attempt_at=clock.now(), attempts=F("attempts") - 1
        )
