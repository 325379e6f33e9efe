"""Aggregation of a consumer's open demands into a bill (reference §7.4.2–7.4.3) — pure functions.

One bill detail per demand (a demand is one tax period); inside it one account line per tax head, whose
amount is the sum of ``tax - collection`` over the demand's lines of that head and whose ``demand_detail_key``
is the first such line. Heads with nothing due are kept (amount 0). A bill whose total is negative (only
credit left) is not created; a zero bill is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from billing_project.money import ZERO, money_sum, to_money


@dataclass(frozen=True)
class DemandLineData:
    key: str
    tax_head_code: str
    tax_amount: Decimal
    collection_amount: Decimal


@dataclass(frozen=True)
class DemandData:
    key: str
    period_from: dt.datetime
    period_to: dt.datetime
    lines: tuple[DemandLineData, ...]
    bill_expiry_time: dt.timedelta | None = None
    fixed_bill_expiry_date: dt.datetime | None = None
    additional_details: object = None


@dataclass(frozen=True)
class AccountLineDraft:
    demand_detail_key: str
    tax_head_code: str
    order: int
    amount: Decimal


@dataclass(frozen=True)
class BillDetailDraft:
    demand_key: str
    period_from: dt.datetime
    period_to: dt.datetime
    amount: Decimal
    expiry_date: dt.datetime
    account_lines: tuple[AccountLineDraft, ...]
    additional_details: object = None


@dataclass(frozen=True)
class BillDraft:
    details: tuple[BillDetailDraft, ...]
    total_amount: Decimal

    @property
    def is_billable(self) -> bool:
        """Negative totals produce no bill; zero totals do (reference §7.4.2 step 4c)."""
        return self.total_amount >= ZERO

    @property
    def expiry_date(self) -> dt.datetime:
        return min(detail.expiry_date for detail in self.details)


class UnknownTaxHead(ValueError):
    """A demand line's tax head is not in the master data (the reference fails with EG_BS_TAXHEADCODE_EMPTY)."""

    def __init__(self, codes: Sequence[str]) -> None:
        self.codes = tuple(codes)
        super().__init__(f"No taxhead masters found for the given codes {list(self.codes)}")


def aggregate_demand(demand: DemandData, *, head_order: Mapping[str, int], expiry_date: dt.datetime) -> BillDetailDraft:
    """The bill detail of one demand: one account line per tax head, in first-appearance order."""
    amounts: dict[str, Decimal] = {}
    first_line: dict[str, str] = {}
    for line in demand.lines:
        due = to_money(line.tax_amount - line.collection_amount)
        if line.tax_head_code not in amounts:
            amounts[line.tax_head_code] = ZERO
            first_line[line.tax_head_code] = line.key
        amounts[line.tax_head_code] = to_money(amounts[line.tax_head_code] + due)
    lines = tuple(
        AccountLineDraft(demand_detail_key=first_line[code], tax_head_code=code, order=head_order[code], amount=amount)
        for code, amount in amounts.items()
    )
    return BillDetailDraft(
        demand_key=demand.key,
        period_from=demand.period_from,
        period_to=demand.period_to,
        amount=money_sum(line.amount for line in lines),
        expiry_date=expiry_date,
        account_lines=lines,
        additional_details=demand.additional_details,
    )


def build_bill(
    demands: Sequence[DemandData],
    *,
    head_order: Mapping[str, int],
    now: dt.datetime,
    zone: dt.tzinfo,
) -> BillDraft | None:
    """A bill for a consumer's open demands (oldest period first), or None when there is nothing to bill.

    ``head_order`` maps every tax head code to its ``TaxHeadMaster.order``; a missing code raises
    ``UnknownTaxHead``.
    """
    if not demands:
        return None
    unknown = sorted({line.tax_head_code for d in demands for line in d.lines} - set(head_order))
    if unknown:
        raise UnknownTaxHead(unknown)
    ordered = sorted(demands, key=lambda d: (d.period_from, d.period_to, d.key))
    details = tuple(
        aggregate_demand(
            d,
            head_order=head_order,
            expiry_date=bill_expiry(
                now=now, zone=zone, bill_expiry_time=d.bill_expiry_time, fixed_expiry=d.fixed_bill_expiry_date
            ),
        )
        for d in ordered
    )
    return BillDraft(details=details, total_amount=money_sum(d.amount for d in details))


def bill_expiry(
    *, now: dt.datetime, zone: dt.tzinfo, bill_expiry_time: dt.timedelta | None, fixed_expiry: dt.datetime | None
) -> dt.datetime:
    """When a bill detail expires (reference §7.4.4, fixed per DECISIONS [5], [20]).

    A fixed expiry date in the future wins; else ``now + bill_expiry_time`` when that duration is positive;
    else ``now``. The result is the end of that day (23:59:59.999) in the billing time zone ``zone``.
    """
    if fixed_expiry is not None and fixed_expiry > now:
        base = fixed_expiry
    elif bill_expiry_time is not None and bill_expiry_time > dt.timedelta(0):
        base = now + bill_expiry_time
    else:
        base = now
    local = base.astimezone(zone)
    return local.replace(hour=23, minute=59, second=59, microsecond=999_000)
