"""Writes of the demands app.

- ``inputs``: the validated input dataclasses both API faces build
- ``accounts``: the consumer account lock and revision (``consumer_accounts_lock``)
- ``validation``: the reference's create/update validations, in the reference's order
- ``create``: ``demand_create`` (with advance carry-forward)
- ``update``: ``demand_update`` and ``demand_cancel``
"""

from demands.services.create import demand_create
from demands.services.inputs import DemandInput, DetailInput, PayerInput
from demands.services.update import demand_cancel, demand_update

__all__ = ["DemandInput", "DetailInput", "PayerInput", "demand_cancel", "demand_create", "demand_update"]
