"""What a channel's deliver function raises, and what the staff services refuse with."""

from __future__ import annotations

from billing_project.errors import ConflictError, NotFound


class DeliveryError(Exception):
    """A delivery attempt failed. Raise one of the two subclasses; any other exception counts as transient."""


class TransientDeliveryError(DeliveryError):
    """Try again later (the receiver is down, timed out, answered 5xx or 429): retried with backoff until the
    channel's attempts are used up. ``retry_after`` (seconds), when the receiver said how long to wait, is the
    least delay before the next attempt (still within the channel's cap)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Trying again cannot help (the receiver refused the message, the destination does not exist): PARKED at
    once, for staff to look at."""


class OutboxMessageNotFound(NotFound):
    code = "OUTBOX_MESSAGE_NOT_FOUND"


class OutboxMessageStateError(ConflictError):
    """The message is not in a state that allows the action (retry a delivered message, discard one in flight)."""

    code = "OUTBOX_MESSAGE_STATE"
