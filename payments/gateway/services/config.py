"""The gateway's tunables, read from settings into the pure domain types (documented in settings.py)."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable

from django.conf import settings

from payments.gateway.domain.polling import PollSchedule
from payments.gateway.domain.retry import RetryPolicy

# Injectable for tests: the random source of the jitter and the sleep between in-call retries.
jitter_source: Callable[[], float] = random.random
sleep: Callable[[float], None] = time.sleep


def call_retry_policy() -> RetryPolicy:
    """Retries inside one gateway call (same idempotency key)."""
    return RetryPolicy(
        attempts=max(1, int(settings.PAYMENT_GATEWAY_CALL_ATTEMPTS)),
        base_seconds=float(settings.PAYMENT_GATEWAY_CALL_RETRY_BASE_SECONDS),
        factor=2.0,
        cap_seconds=float(settings.PAYMENT_GATEWAY_CALL_RETRY_CAP_SECONDS),
        jitter=float(settings.PAYMENT_GATEWAY_RETRY_JITTER),
    )


def transient_retry_policy() -> RetryPolicy:
    """The scheduled retries after a call failed transiently (the next poll's delay)."""
    return RetryPolicy(
        attempts=max(1, int(settings.PAYMENT_GATEWAY_TRANSIENT_LIMIT)),
        base_seconds=float(settings.PAYMENT_GATEWAY_TRANSIENT_BASE_SECONDS),
        factor=2.0,
        cap_seconds=float(settings.PAYMENT_GATEWAY_TRANSIENT_CAP_SECONDS),
        jitter=float(settings.PAYMENT_GATEWAY_RETRY_JITTER),
    )


def poll_schedule() -> PollSchedule:
    return PollSchedule(
        delays=tuple(int(delay) for delay in settings.PAYMENT_GATEWAY_POLL_DELAYS),
        max_polls=int(settings.PAYMENT_GATEWAY_MAX_POLLS),
        max_age=dt.timedelta(seconds=int(settings.PAYMENT_GATEWAY_POLL_MAX_AGE_SECONDS)),
    )


def initiated_grace() -> dt.timedelta:
    return dt.timedelta(seconds=int(settings.PAYMENT_GATEWAY_INITIATED_GRACE_SECONDS))


def checkout_abandoned_after() -> dt.timedelta:
    return dt.timedelta(seconds=int(settings.PAYMENT_GATEWAY_CHECKOUT_ABANDONED_AFTER_SECONDS))


def callback_url(gateway: str) -> str:
    return f"{settings.PAYMENT_GATEWAY_CALLBACK_BASE_URL.rstrip('/')}/api/v1/gateway/callbacks/{gateway}/"


def currency() -> str:
    return str(settings.PAYMENT_GATEWAY_CURRENCY)
