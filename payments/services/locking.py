"""The locks a payment write takes, in the project's order (DESIGN §3 rule 6).

consumer accounts → demands → demand details → bills; the id sequence (receipt numbers) and the payment row
come after, in the callers. Every ``select_for_update`` here is evaluated (``list(...)``) so the lock is taken
before the function returns.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from bills.models import Bill, BillDetail
from demands.models import ConsumerAccount, Demand, DemandDetail
from demands.services import AccountKey, consumer_accounts_lock_by_id
from payments.selectors import bill_details_prefetch


@dataclass(frozen=True)
class Locked:
    """Rows locked for one payment write: accounts by key, demands and their lines by demand id, bills by id."""

    accounts: dict[AccountKey, ConsumerAccount]
    demands: dict[uuid.UUID, Demand]
    lines: dict[uuid.UUID, list[DemandDetail]]
    bills: dict[uuid.UUID, Bill]

    def account_of(self, bill: Bill) -> ConsumerAccount:
        return self.accounts[account_key(bill)]


def account_key(bill: Bill) -> AccountKey:
    return (bill.tenant.code, bill.business_service, bill.consumer_code)


def lock_for_bills(*, bills: Sequence[Bill]) -> Locked:
    """Lock the bills' consumer accounts, the demands they bill (with their lines), then the bills themselves.

    Of ``bills`` (an unlocked read) only the ids and account ids are used. Must run inside the caller's
    transaction. One ``SELECT ... FOR UPDATE`` per table; the bills are re-read under the lock, with their details
    and account lines.
    """
    bill_ids = sorted(bill.pk for bill in bills)
    with transaction.atomic(savepoint=False):
        # A bill's account exists (the bill points to it): lock it by id, in consumer_accounts_lock's order.
        accounts = consumer_accounts_lock_by_id(bill.account_id for bill in bills)
        demands = list(
            Demand.objects.select_for_update(of=("self",))
            .select_related("tenant")
            .filter(pk__in=BillDetail.objects.filter(bill_id__in=bill_ids).values("demand_id"))
            .order_by("pk")
        )
        demand_ids = [demand.pk for demand in demands]
        details = list(
            DemandDetail.objects.select_for_update(of=("self",))
            .filter(demand_id__in=demand_ids)
            .order_by("demand_id", "position", "created_at", "pk")
        )
        locked_bills = list(
            Bill.objects.select_for_update(of=("self",))
            .select_related("tenant", "account", "payer")
            .prefetch_related(bill_details_prefetch())
            .filter(pk__in=bill_ids)
            .order_by("pk")
        )
    lines: dict[uuid.UUID, list[DemandDetail]] = {demand.pk: [] for demand in demands}
    for line in details:
        lines[line.demand_id].append(line)
    return Locked(
        accounts=accounts,
        demands={demand.pk: demand for demand in demands},
        lines=lines,
        bills={bill.pk: bill for bill in locked_bills},
    )
