"""Writes of the demands app — import them from here, not from the modules (an import-linter contract says so).

- ``inputs``: the validated input dataclasses both API faces build
- ``accounts``: the consumer account lock and revision (``consumer_accounts_lock``, ``consumer_accounts_bump``)
- ``validation``: the reference's create/update validations, in the reference's order
- ``create``: ``demand_create`` (with advance carry-forward)
- ``update``: ``demand_update`` and ``demand_cancel``
- ``writes``: ``history_append``, the audit rows of a demand write (payments and amendments write them too)
- ``hooks``: the registry of reactions to new demands (``demand_created_handler_register``)
"""

from demands.services.accounts import (
    AccountKey,
    consumer_accounts_bump,
    consumer_accounts_lock,
    consumer_accounts_lock_by_id,
)
from demands.services.create import demand_create
from demands.services.hooks import DemandCreatedHandler, demand_created_handler_register
from demands.services.inputs import DemandInput, DetailInput, PayerInput
from demands.services.update import demand_cancel, demand_update
from demands.services.writes import history_append

__all__ = [
    "AccountKey",
    "DemandCreatedHandler",
    "DemandInput",
    "DetailInput",
    "PayerInput",
    "consumer_accounts_bump",
    "consumer_accounts_lock",
    "consumer_accounts_lock_by_id",
    "demand_cancel",
    "demand_create",
    "demand_created_handler_register",
    "demand_update",
    "history_append",
]
