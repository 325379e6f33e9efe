"""Retries of transient gateway failures: bounded, exponential, jittered.

``delay = min(cap, base * factor ** (retry - 1))`` is the *base* delay of the n-th retry (non-decreasing in n,
never above ``cap``); the jittered delay is drawn from ``[base_delay * (1 - jitter), base_delay]`` with the
injected random source (``random() -> float in [0, 1)``), so it never exceeds the cap either ("equal jitter":
retries of many transactions spread out instead of arriving together). Hard declines and permanent errors are
never retried: that decision belongs to the caller, which only asks for a delay for transient failures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts``: calls in all (the first one included); delays in seconds; ``jitter`` in [0, 1]."""

    attempts: int
    base_seconds: float
    factor: float
    cap_seconds: float
    jitter: float

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a retry policy needs at least one attempt")
        if self.base_seconds < 0 or self.cap_seconds < 0:
            raise ValueError("delays cannot be negative")
        if self.factor < 1:
            raise ValueError("the backoff factor must be at least 1 (delays never shrink)")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a share between 0 and 1")


def retry_allowed(policy: RetryPolicy, attempts_made: int) -> bool:
    """True when another attempt may follow ``attempts_made`` failed transient attempts."""
    return attempts_made < policy.attempts


def backoff_base(policy: RetryPolicy, retry: int) -> float:
    """The delay before the ``retry``-th retry (1-based), before jitter: exponential, capped."""
    if retry < 1:
        raise ValueError("retries are counted from 1")
    # Compare exponents instead of computing huge powers: factor ** (retry - 1) overflows a float quickly.
    delay = policy.base_seconds
    for _ in range(retry - 1):
        delay *= policy.factor
        if delay >= policy.cap_seconds:
            return policy.cap_seconds
    return min(delay, policy.cap_seconds)


def backoff_delay(policy: RetryPolicy, retry: int, random: Callable[[], float]) -> float:
    """The jittered delay before the ``retry``-th retry: in ``[base * (1 - jitter), base]``."""
    base = backoff_base(policy, retry)
    draw = random()
    if not 0 <= draw <= 1:
        raise ValueError("the random source must answer a number in [0, 1]")
    return base * (1 - policy.jitter) + base * policy.jitter * draw
