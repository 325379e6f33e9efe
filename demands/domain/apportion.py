"""Apportionment of a payment over a bill's account lines (reference §7.8.2, ``OrderByPriority``).

Pure functions over frozen dataclasses; no Django, no clock, no I/O. Every amount is read through
``billing_project.money.to_money`` and must already be exact to the cent, so that the splits are exact
and sum to the amount paid. See ``docs/apportionment.md`` for the algorithm and the decisions taken.

Vocabulary (reference → here):

* TaxDetail / BillDetail (one tax period of the bill)  → :class:`Period`
* Bucket / BillAccountDetail (one tax head in a period) → :class:`Bucket`
* ``bucket.adjustedAmount``                             → :attr:`AdjustedLine.adjusted_amount`
* ``taxDetail.amountPaid`` / ``billDetail.amountPaid``   → :attr:`PeriodPayment.amount_paid`
* the new ``ADVANCE_AMOUNT`` bucket                     → :class:`AdvanceCredit`
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from billing_project.money import ZERO, InexactMoney, MoneyError, exact_money, money_sum, to_money
from demands.errors import (
    APPORTION_DUPLICATE_KEY,
    APPORTION_INVALID_AMOUNT,
    INVALID_BILL,
    INVALID_PAYMENTDETAIL,
    NO_TAXHEAD_FOUND,
)


class ApportionError(Exception):
    """The apportionment request cannot be honoured. Pure: services translate it to a ``DomainError``."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


def exact_amount(value: Decimal, what: str) -> Decimal:
    """``value`` as a two-place amount (``billing_project.money.exact_money``); refuse anything that the rounding
    rule would change."""
    try:
        return exact_money(value, column=False)
    except InexactMoney:
        raise ApportionError(APPORTION_INVALID_AMOUNT, f"{what} is not exact to the cent: {value}") from None
    except MoneyError as exc:
        raise ApportionError(APPORTION_INVALID_AMOUNT, f"{what}: {exc}") from exc


def _negate(amount: Decimal) -> Decimal:
    """``-amount`` without producing a negative zero."""
    return to_money(ZERO - amount)


@dataclass(frozen=True)
class Bucket:
    """One account line of a period: a tax head and what is due on it.

    ``amount`` is the due (``taxAmount - collectionAmount``; ``BillAccountDetail.amount``). It is positive for
    a charge, negative for a credit (rebate, exemption, advance). ``order`` is ``TaxHeadMaster.order``.
    ``is_advance`` marks the service's advance head (tax-head category ``ADVANCE_COLLECTION``).
    """

    key: str
    tax_head_code: str
    order: int
    amount: Decimal
    is_advance: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", exact_amount(self.amount, f"amount of line {self.key}"))

    @property
    def is_unused_advance(self) -> bool:
        """An advance line with credit left on it: released to pay dues, never paid like a due."""
        return self.is_advance and self.amount < ZERO


@dataclass(frozen=True)
class Period:
    """One tax period (a bill detail / a demand) with its buckets; ``period_from`` orders the periods."""

    key: str
    period_from: datetime
    buckets: tuple[Bucket, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "buckets", tuple(self.buckets))

    @property
    def amount(self) -> Decimal:
        """What is due for the period (``BillDetail.amount``): the sum of its buckets."""
        return money_sum(bucket.amount for bucket in self.buckets)


@dataclass(frozen=True)
class ApportionRequest:
    """A payment of ``amount_paid`` against ``periods`` (the bill details of one bill)."""

    periods: tuple[Period, ...]
    amount_paid: Decimal
    advance_allowed: bool
    advance_tax_head: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "periods", tuple(self.periods))
        object.__setattr__(self, "amount_paid", exact_amount(self.amount_paid, "amount paid"))

    @property
    def total_due(self) -> Decimal:
        """The bill total: the sum of every period's amount."""
        return money_sum(period.amount for period in self.periods)


@dataclass(frozen=True)
class AdjustedLine:
    """How much of the payment went to one bucket (``BillAccountDetail.adjustedAmount``)."""

    key: str
    period_key: str
    tax_head_code: str
    amount: Decimal
    adjusted_amount: Decimal


@dataclass(frozen=True)
class PeriodPayment:
    """How much of the payment went to one period (``BillDetail.amountPaid``), advance credit included."""

    key: str
    amount: Decimal
    amount_paid: Decimal


@dataclass(frozen=True)
class AdvanceCredit:
    """Overpayment kept as advance on the latest period.

    ``line_key`` names the existing advance line of that period that takes the credit (its due becomes
    ``amount - self.amount``, i.e. its tax amount drops by ``self.amount``); ``None`` means a new line of
    ``tax_head_code`` with tax amount ``-self.amount`` and collection 0, whose id the caller assigns.
    """

    period_key: str
    tax_head_code: str
    amount: Decimal
    line_key: str | None


@dataclass(frozen=True)
class ApportionResult:
    """The split of one payment. Periods are in apportioning order (oldest first), lines in input order."""

    lines: tuple[AdjustedLine, ...]
    periods: tuple[PeriodPayment, ...]
    advance: AdvanceCredit | None

    @property
    def advance_amount(self) -> Decimal:
        return self.advance.amount if self.advance is not None else ZERO

    def adjusted_amount(self, key: str) -> Decimal:
        for line in self.lines:
            if line.key == key:
                return line.adjusted_amount
        raise KeyError(key)

    def amount_paid(self, period_key: str) -> Decimal:
        for period in self.periods:
            if period.key == period_key:
                return period.amount_paid
        raise KeyError(period_key)


def check_unique_keys(periods: Iterable[Period]) -> None:
    """Period keys and line keys must each be unique: results are addressed by them."""
    period_keys: set[str] = set()
    line_keys: set[str] = set()
    for period in periods:
        if period.key in period_keys:
            raise ApportionError(APPORTION_DUPLICATE_KEY, f"period key {period.key!r} appears twice")
        period_keys.add(period.key)
        for bucket in period.buckets:
            if bucket.key in line_keys:
                raise ApportionError(APPORTION_DUPLICATE_KEY, f"line key {bucket.key!r} appears twice")
            line_keys.add(bucket.key)


def oldest_first(periods: Iterable[Period]) -> tuple[Period, ...]:
    """Periods by ``period_from`` ascending; equal starts keep the caller's order (stable sort)."""
    return tuple(sorted(periods, key=lambda period: period.period_from))


def settling_order(buckets: Iterable[Bucket]) -> tuple[Bucket, ...]:
    """The reference's bucket order: ``(amount, order)`` ascending, stable; credits therefore come first."""
    return tuple(sorted(buckets, key=lambda bucket: (bucket.amount, bucket.order)))


def _release_advance(ordered: tuple[Period, ...], adjusted: dict[str, Decimal]) -> Decimal:
    """Consume unused advance to pay dues; return the amount released (reference ``consumeExistingAdvance``).

    Fixed per DECISIONS [23]: the release is capped by the *net* dues of all non-advance lines (charges
    less credits), so that the release is always absorbed by the dues — never a surplus created out of
    old advance. Advance lines are drawn oldest period first, in the caller's line order within a period.
    """
    capacity = money_sum(b.amount for p in ordered for b in p.buckets if not b.is_unused_advance)
    available = money_sum(_negate(b.amount) for p in ordered for b in p.buckets if b.is_unused_advance)
    to_release = min(available, capacity) if capacity > ZERO else ZERO
    released = ZERO
    for period in ordered:
        for bucket in period.buckets:
            if to_release == ZERO:
                return released
            if bucket.is_unused_advance:
                take = min(to_release, _negate(bucket.amount))
                adjusted[bucket.key] = _negate(take)
                to_release = to_money(to_release - take)
                released = to_money(released + take)
    return released


def run_apportion(
    periods: tuple[Period, ...], amount_paid: Decimal, *, release_advance: bool
) -> tuple[tuple[Period, ...], dict[str, Decimal], Decimal]:
    """The shared engine of the bill-level and demand-level apportionment.

    Returns the periods in apportioning order, the adjusted amount of every bucket (by key) and what is
    left of the money after every due was served (the surplus; the caller decides what it becomes).
    """
    ordered = oldest_first(periods)
    adjusted = {bucket.key: ZERO for period in ordered for bucket in period.buckets}

    # Zero payment on a zero total: every line, credits and advance included, is settled as it stands.
    if amount_paid == ZERO and money_sum(period.amount for period in ordered) == ZERO:
        for period in ordered:
            for bucket in period.buckets:
                adjusted[bucket.key] = bucket.amount
        return ordered, adjusted, ZERO

    remaining = amount_paid
    if release_advance:
        remaining = to_money(remaining + _release_advance(ordered, adjusted))

    for period in ordered:
        if remaining == ZERO:
            # Money ran out: later periods get nothing, and their credits stay unapplied (reference).
            continue
        for bucket in settling_order(b for b in period.buckets if not b.is_unused_advance):
            if bucket.amount >= ZERO:
                take = min(remaining, bucket.amount)
                adjusted[bucket.key] = take
                remaining = to_money(remaining - take)
            else:
                # A credit (rebate, exemption) is always applied whole; it adds to the money to spread.
                adjusted[bucket.key] = bucket.amount
                remaining = to_money(remaining - bucket.amount)
    return ordered, adjusted, remaining


def apportion_payment(request: ApportionRequest) -> ApportionResult:
    """Split ``request.amount_paid`` over the bill's buckets (reference §7.8.2, default value order).

    1. Periods oldest first (arrears before current).
    2. Zero payment on a zero bill: every bucket adjusted by its whole amount.
    3. With advance allowed, unused advance is released first (capped by the net dues) and added to
       the money to spread.
    4. Per period, while money is left: buckets by ``(amount, order)`` ascending — credits applied
       whole, then the smallest dues first, each up to its due; part payments stop where the money
       runs out, and periods the money does not reach are left untouched.
    5. Money left over is overpayment: an :class:`AdvanceCredit` on the latest period, or
       ``INVALID_PAYMENTDETAIL`` when the business service does not allow advance.
    """
    check_unique_keys(request.periods)
    paid = request.amount_paid
    if paid < ZERO:
        raise ApportionError(INVALID_PAYMENTDETAIL, "The amount paid cannot be negative")
    if not request.advance_allowed and paid > request.total_due:
        raise ApportionError(INVALID_PAYMENTDETAIL, "The amount to be paid is more than amount due")

    ordered, adjusted, surplus = run_apportion(request.periods, paid, release_advance=request.advance_allowed)
    advance = _advance_credit(ordered, surplus, request.advance_tax_head) if surplus > ZERO else None
    return ApportionResult(
        lines=tuple(
            AdjustedLine(
                key=bucket.key,
                period_key=period.key,
                tax_head_code=bucket.tax_head_code,
                amount=bucket.amount,
                adjusted_amount=adjusted[bucket.key],
            )
            for period in ordered
            for bucket in period.buckets
        ),
        periods=_period_payments(ordered, adjusted, advance),
        advance=advance,
    )


def _advance_credit(ordered: tuple[Period, ...], surplus: Decimal, advance_tax_head: str | None) -> AdvanceCredit:
    """Overpayment goes to the latest period: onto its advance line if it has one, else onto a new line."""
    if not ordered:
        raise ApportionError(INVALID_BILL, "A bill without bill details cannot take an advance payment")
    latest = ordered[-1]
    for bucket in settling_order(latest.buckets):
        if bucket.is_advance and bucket.amount <= ZERO:
            return AdvanceCredit(latest.key, bucket.tax_head_code, surplus, bucket.key)
    if not advance_tax_head:
        raise ApportionError(NO_TAXHEAD_FOUND, "No Advance taxHead found for the business service")
    return AdvanceCredit(latest.key, advance_tax_head, surplus, None)


def _period_payments(
    ordered: tuple[Period, ...], adjusted: Mapping[str, Decimal], advance: AdvanceCredit | None
) -> tuple[PeriodPayment, ...]:
    """``amount_paid`` of a period = the sum of its lines' adjusted amounts (+ the advance credit it holds).

    Unlike the reference, this is never reset to 0 for a period whose advance was released, and it is
    filled for a zero bill too, so that a write-back that skips "unpaid" periods cannot lose money.
    """
    payments = []
    for period in ordered:
        paid = money_sum(adjusted[bucket.key] for bucket in period.buckets)
        if advance is not None and advance.period_key == period.key:
            paid = to_money(paid + advance.amount)
        payments.append(PeriodPayment(key=period.key, amount=period.amount, amount_paid=paid))
    return tuple(payments)
