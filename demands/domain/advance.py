"""Advance carry-forward at demand creation (reference §7.8.3, demand-level apportion) — pure functions.

When a business service allows advance, a new demand for a consumer takes over the unused advance of the
consumer's older demands: the advance lines of those demands are (partly) collected, and the same amount
is collected on dues, oldest demand first, by the same ordering as a payment (:mod:`.apportion`).

Fixed per DECISIONS [23] (reference §11 row 23): the advance released is capped by the *net* dues of the
demands involved, so no surplus is ever left over and no advance line is ever created here — the function
only changes collection amounts of existing lines. Fixed per [10]: a credit line may be partly collected
(``tax ≤ collection ≤ 0``), and such a line, when applied, is collected up to its tax amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from billing_project.money import ZERO, money_sum, to_money
from demands.errors import APPORTION_INTERNAL, EG_DEMAND_DEATIL_INVALID

from .apportion import ApportionError, Bucket, Period, check_unique_keys, exact_amount, run_apportion
from .rules import AmountLine, amount_rule_violation


@dataclass(frozen=True)
class DemandLine:
    """One demand detail: tax head, tax amount and what has been collected on it.

    ``order`` is ``TaxHeadMaster.order`` of the head (the reference fails with ``INVALID_TAXHEAD_CODE`` when
    the head is unknown — that lookup is the caller's). ``is_advance`` marks the service's advance head
    (category ``ADVANCE_COLLECTION``). The amount rule holds (DECISIONS [10]): ``0 ≤ collection ≤ tax`` for
    ``tax ≥ 0`` and ``tax ≤ collection ≤ 0`` for ``tax < 0``; a violation raises ``EG_DEMAND_DEATIL_INVALID``.
    """

    key: str
    tax_head_code: str
    order: int
    tax_amount: Decimal
    collection_amount: Decimal = ZERO
    is_advance: bool = False

    def __post_init__(self) -> None:
        tax = exact_amount(self.tax_amount, f"tax amount of line {self.key}")
        collection = exact_amount(self.collection_amount, f"collection amount of line {self.key}")
        object.__setattr__(self, "tax_amount", tax)
        object.__setattr__(self, "collection_amount", collection)
        violation = amount_rule_violation(AmountLine(tax, collection))
        if violation is not None:
            raise ApportionError(EG_DEMAND_DEATIL_INVALID, violation)

    @property
    def due(self) -> Decimal:
        return to_money(self.tax_amount - self.collection_amount)

    @property
    def has_unused_advance(self) -> bool:
        return self.is_advance and self.due < ZERO


@dataclass(frozen=True)
class DemandDues:
    """One demand (one tax period) with its lines; ``period_from`` is ``taxPeriodFrom``."""

    key: str
    period_from: datetime
    lines: tuple[DemandLine, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", tuple(self.lines))

    @property
    def has_unused_advance(self) -> bool:
        return any(line.has_unused_advance for line in self.lines)


@dataclass(frozen=True)
class CollectionUpdate:
    """A demand detail whose collection changes: ``collection_amount = old collection + adjusted_amount``."""

    demand_key: str
    line_key: str
    tax_head_code: str
    adjusted_amount: Decimal
    collection_amount: Decimal


@dataclass(frozen=True)
class CarryForwardResult:
    """Collection changes (only lines that change; demands oldest first) and the advance moved."""

    updates: tuple[CollectionUpdate, ...]
    moved_amount: Decimal

    @property
    def demand_keys(self) -> tuple[str, ...]:
        """The demands to write, each once, in apportioning order."""
        return tuple(dict.fromkeys(update.demand_key for update in self.updates))

    def collection_amount(self, line_key: str) -> Decimal | None:
        """The new collection of a line, or ``None`` when this carry-forward leaves it unchanged."""
        for update in self.updates:
            if update.line_key == line_key:
                return update.collection_amount
        return None


def _as_period(demand: DemandDues) -> Period:
    return Period(
        key=demand.key,
        period_from=demand.period_from,
        buckets=tuple(
            Bucket(
                key=line.key,
                tax_head_code=line.tax_head_code,
                order=line.order,
                amount=line.due,
                is_advance=line.is_advance,
            )
            for line in demand.lines
        ),
    )


def carry_forward_advance(*, existing_demands: Sequence[DemandDues], new_demand: DemandDues) -> CarryForwardResult:
    """Move unused advance of ``existing_demands`` onto dues, for the creation of ``new_demand``.

    Call it only when the business service allows advance (reference §7.1 step 5). Pass the consumer's
    existing demands of the service; only those holding unused advance take part (reference step 5b), and
    with none of them the new demand is created as it is (empty result).

    The participating demands and the new demand are apportioned with a payment of 0 and the unused advance
    released as money: ``moved_amount = min(unused advance, net dues of the participating demands)``, where
    the net dues are the sum of ``tax - collection`` over their non-advance lines (charges less credits), and
    when that is not positive nothing moves. The collections changed sum to zero: nothing is created.
    """
    check_unique_keys(_as_period(demand) for demand in (*existing_demands, new_demand))
    donors = [demand for demand in existing_demands if demand.has_unused_advance]
    if not donors:
        return CarryForwardResult(updates=(), moved_amount=ZERO)

    demands = (*donors, new_demand)
    ordered, adjusted, surplus = run_apportion(
        tuple(_as_period(demand) for demand in demands), ZERO, release_advance=True
    )
    if surplus != ZERO:
        raise ApportionError(APPORTION_INTERNAL, f"advance carry-forward left {surplus} unplaced")

    by_key = {demand.key: demand for demand in demands}
    updates = tuple(
        CollectionUpdate(
            demand_key=period.key,
            line_key=line.key,
            tax_head_code=line.tax_head_code,
            adjusted_amount=adjusted[line.key],
            collection_amount=to_money(line.collection_amount + adjusted[line.key]),
        )
        for period in ordered
        for line in by_key[period.key].lines
        if adjusted[line.key] != ZERO
    )
    moved = money_sum(
        ZERO - adjusted[line.key] for demand in demands for line in demand.lines if line.has_unused_advance
    )
    return CarryForwardResult(updates=updates, moved_amount=moved)
