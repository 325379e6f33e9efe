"""The failed-payment retry schedule of autopay charges.

``delays_days`` (setting ``AUTOPAY_RETRY_DELAYS_DAYS``, default ``[3, 3, 3]``) lists the wait before each
retry: after attempt ``n`` fails (n = 1 is the first charge), the next try is ``delays_days[n - 1]`` days after
that failure. When the list is exhausted the charge is given up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence


def next_retry_at(*, delays_days: Sequence[int], attempt: int, failed_at: dt.datetime) -> dt.datetime | None:
    """When to retry after attempt number ``attempt`` failed at ``failed_at``; None when no retry is left."""
    if attempt < 1:
        raise ValueError("attempt numbers start at 1")
    if attempt > len(delays_days):
        return None
    return failed_at + dt.timedelta(days=delays_days[attempt - 1])


def max_attempts(delays_days: Sequence[int]) -> int:
    """The first charge plus one per retry."""
    return 1 + len(delays_days)
