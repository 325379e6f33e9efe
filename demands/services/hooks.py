"""Reactions of higher apps to new demands, declared in one place (DESIGN §2: no signals).

``demand_create`` (and the creating part of ``demand_update``) calls ``demands_created`` inside its
transaction, after the new rows and their history are written and before advance is carried forward, with
the consumer accounts locked and bumped. A handler writes in that same transaction: if it raises, nothing
of the demand write is kept.

Registered handlers (each app registers in its ``AppConfig.ready``):

- ``amendments.services.apply.amendments_absorb`` — a new ACTIVE demand takes in the consumer's ACTIVE
  amendments that were waiting for a demand (reference §7.1 step 3, fixed per DECISIONS [4], [12]).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from demands.models import ConsumerAccount, Demand
from demands.services.accounts import AccountKey


class DemandCreatedHandler(Protocol):
    def __call__(
        self,
        *,
        demands: Sequence[Demand],
        accounts: dict[AccountKey, ConsumerAccount],
        actor: str,
        at: dt.datetime,
    ) -> None: ...


_handlers: list[DemandCreatedHandler] = []


def demand_created_handler_register(handler: DemandCreatedHandler) -> None:
    """Add ``handler`` (once; registering the same function again does nothing)."""
    if handler not in _handlers:
        _handlers.append(handler)


def demand_created_handlers() -> tuple[DemandCreatedHandler, ...]:
    return tuple(_handlers)


def demands_created(
    *, demands: Sequence[Demand], accounts: dict[AccountKey, ConsumerAccount], actor: str, at: dt.datetime
) -> None:
    """Run every registered handler, in registration order, inside the caller's transaction."""
    for handler in _handlers:
        handler(demands=demands, accounts=accounts, actor=actor, at=at)
