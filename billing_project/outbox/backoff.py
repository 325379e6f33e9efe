"""The retry delay after a failed attempt: exponential, bounded, jittered. Pure (the random draw is an argument)."""

from __future__ import annotations


def backoff_seconds(
    *, attempt: int, base: float, cap: float, jitter: float, draw: float, at_least: float = 0.0
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first).

    The ceiling is ``min(cap, base * 2 ** (attempt - 1))``; ``jitter`` (0..1) is the share of it that is random:
    the delay is ``ceiling * (1 - jitter * draw)`` for ``draw`` in [0, 1), so it lies in
    ``[ceiling * (1 - jitter), ceiling]`` and relays that failed together do not come back together.
    ``at_least`` (a receiver's Retry-After) raises the result, never beyond ``cap``.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if not 0.0 <= jitter <= 1.0 or not 0.0 <= draw < 1.0:
        raise ValueError("jitter must lie in [0, 1] and draw in [0, 1)")
    exponent = min(attempt - 1, 62)  # 2**62 * base is beyond any cap; avoids an overflow for huge counts
    ceiling = min(cap, base * float(2**exponent))
    delay = ceiling * (1.0 - jitter * draw)
    return min(cap, max(delay, at_least))
