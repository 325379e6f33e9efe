"""What a channel's deliver function raises, and the codes the staff services refuse with.

The delivery errors are exceptions a caller (the relay) catches by type; the refusals of the staff services are
raised as the kernel class of their HTTP meaning with a code below (docs/decisions.md, "Errors")."""

from __future__ import annotations

from typing import Final

#: 404 — no outbox message with that id.
OUTBOX_MESSAGE_NOT_FOUND: Final = "OUTBOX_MESSAGE_NOT_FOUND"
#: 409 — the message's state does not allow the action (retry a delivered one, discard one in flight).
OUTBOX_MESSAGE_STATE: Final = "OUTBOX_MESSAGE_STATE"


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
