"""The polling schedule of a transaction still open at the gateway (PENDING / UNKNOWN).

``delays`` are the waits after each poll, in seconds (default 5 min, 15 min, 1 h, 6 h, then daily: the last one
repeats). A transaction is polled at most ``max_polls`` times and for at most ``max_age`` after it was created;
then it goes to the reconciliation queue (needs attention) and is no longer polled on a schedule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class PollSchedule:
    delays: tuple[int, ...]
    max_polls: int
    max_age: dt.timedelta

    def __post_init__(self) -> None:
        if not self.delays or any(delay <= 0 for delay in self.delays):
            raise ValueError("a poll schedule needs positive delays")
        if self.max_polls < 1:
            raise ValueError("a poll schedule allows at least one poll")


def poll_delay(schedule: PollSchedule, polls_done: int) -> dt.timedelta:
    """The wait before the next poll after ``polls_done`` polls (0: the first poll after creation)."""
    index = min(max(polls_done, 0), len(schedule.delays) - 1)
    return dt.timedelta(seconds=schedule.delays[index])


def next_poll_at(
    schedule: PollSchedule, *, polls_done: int, created_at: dt.datetime, at: dt.datetime
) -> dt.datetime | None:
    """When to poll next, or None when the schedule is exhausted (too many polls, or past ``max_age``)."""
    if polls_done >= schedule.max_polls:
        return None
    when = at + poll_delay(schedule, polls_done)
    if when > created_at + schedule.max_age:
        return None
    return when
