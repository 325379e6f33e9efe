"""Write-back of an apportioned payment to the demand details of one bill detail (reference §7.9 step 5b).

Pure functions over frozen dataclasses: no Django, no clock, no I/O. Amounts go through
``billing_project.money`` and must be exact to the cent. See ``docs/payments.md`` ("Write-back").

Input, for one bill detail (one demand): the demand's current lines, the adjusted amount of each tax head
(``BillAccountDetail.adjustedAmount``) and, on the bill's latest detail, the overpayment kept as advance.
Output: one :class:`LineDelta` per demand line that changes — what to add to its collection amount and, for
an advance line, to its tax amount — plus at most one new advance line. The deltas are stored, so that a
reversal subtracts exactly what was applied (:func:`reverse_deltas`).

Distribution of a head's adjusted amount ``A`` over its lines (reference: "one detail → whole amount; several
→ ascending by tax amount"; here made exact, so that nothing is dropped and nothing over-collected):

* Each line's due is ``tax − collection``. ``C`` = sum of the negative dues (credits), ``P`` = sum of the
  positive dues, ``D = C + P`` = the head's due (``BillAccountDetail.amount``).
* ``A == D``: every line is settled (delta = its due).
* ``A == 0`` otherwise: the lines are left alone (a period the money did not reach).
* Otherwise the credits are applied as far as possible — ``c = max(C, A − P)`` — and the rest ``p = A − c``
  is collected on the positive lines: credits most negative first, dues smallest tax first, each line at
  most up to its due. For a due (``0 ≤ A ≤ D``) ``c = C``: credits are applied whole. For an advance line
  released in part (``D ≤ A < 0``) only part of the credit is taken.
* ``A`` outside ``[C, P]`` cannot be written without over-collecting: ``PAYMENT_WRITEBACK_INVALID``.

Advance kept (``AdvanceKept``): when the apportionment put it on an existing advance line, it lowers the tax of
the head's first credit line (ascending tax) whose collection after this payment is ≤ 0 (so
``tax ≤ collection ≤ 0`` still holds); when there is none, or the apportionment asked for a new line, a new
line of the advance head is created with tax ``−amount`` and collection 0, under the caller's key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from billing_project.money import ZERO, InexactMoney, MoneyError, exact_money, money_sum, to_money
from payments.errors import PAYMENT_WRITEBACK_INVALID


class WriteBackError(Exception):
    """The write-back cannot be done without breaking the amount rule. Services turn it into a DomainError."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


def _exact(value: Decimal, what: str) -> Decimal:
    try:
        return exact_money(value, column=False)
    except InexactMoney:
        raise WriteBackError(PAYMENT_WRITEBACK_INVALID, f"{what} is not exact to the cent: {value}") from None
    except MoneyError as exc:
        raise WriteBackError(PAYMENT_WRITEBACK_INVALID, f"{what}: {exc}") from exc


def amount_rule_holds(tax: Decimal, collection: Decimal) -> bool:
    """The demand amount rule (reference §4.2, relaxed per DECISIONS [10]).

    ``0 ≤ collection ≤ tax`` for a charge, ``tax ≤ collection ≤ 0`` for a credit.
    """
    if tax >= ZERO:
        return ZERO <= collection <= tax
    return tax <= collection <= ZERO


@dataclass(frozen=True)
class DemandLineState:
    """One demand detail as it stands: ``key`` is its id."""

    key: str
    tax_head_code: str
    tax_amount: Decimal
    collection_amount: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "tax_amount", _exact(self.tax_amount, f"tax amount of line {self.key}"))
        object.__setattr__(
            self, "collection_amount", _exact(self.collection_amount, f"collection amount of line {self.key}")
        )

    @property
    def due(self) -> Decimal:
        return to_money(self.tax_amount - self.collection_amount)


@dataclass(frozen=True)
class HeadPayment:
    """The adjusted amount of one tax head of the bill detail (``BillAccountDetail.adjustedAmount``)."""

    tax_head_code: str
    adjusted_amount: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "adjusted_amount", _exact(self.adjusted_amount, f"adjusted amount of {self.tax_head_code}")
        )


@dataclass(frozen=True)
class AdvanceKept:
    """Overpayment kept as advance on this bill detail (the apportionment's ``AdvanceCredit``).

    ``onto_existing_line``: the apportionment put it on an existing advance line of the head.
    """

    tax_head_code: str
    amount: Decimal
    onto_existing_line: bool

    def __post_init__(self) -> None:
        amount = _exact(self.amount, "advance amount")
        if amount <= ZERO:
            raise WriteBackError(PAYMENT_WRITEBACK_INVALID, f"advance amount must be positive, not {amount}")
        object.__setattr__(self, "amount", amount)


@dataclass(frozen=True)
class LineDelta:
    """What the write-back adds to one demand line; ``created`` marks a new line (tax ``tax_delta``, collection 0)."""

    key: str
    tax_head_code: str
    collection_delta: Decimal
    tax_delta: Decimal = ZERO
    created: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "collection_delta", _exact(self.collection_delta, f"collection delta of {self.key}"))
        object.__setattr__(self, "tax_delta", _exact(self.tax_delta, f"tax delta of {self.key}"))

    @property
    def is_noop(self) -> bool:
        return self.collection_delta == ZERO and self.tax_delta == ZERO and not self.created


def _ascending_by_tax(lines: Iterable[DemandLineState]) -> list[DemandLineState]:
    """Lines by tax amount ascending; equal taxes keep the caller's order (stable sort)."""
    return sorted(lines, key=lambda line: line.tax_amount)


def distribute_head(lines: Sequence[DemandLineState], adjusted: Decimal) -> dict[str, Decimal]:
    """The collection delta of each line of one head for the head's adjusted amount (see the module doc)."""
    credit = money_sum(line.due for line in lines if line.due < ZERO)
    positive = money_sum(line.due for line in lines if line.due > ZERO)
    head = lines[0].tax_head_code if lines else "?"
    if not credit <= adjusted <= positive:
        raise WriteBackError(
            PAYMENT_WRITEBACK_INVALID,
            f"adjusted amount {adjusted} of {head} is outside what its lines can take ({credit} to {positive})",
        )
    if adjusted == to_money(credit + positive):
        return {line.key: line.due for line in lines if line.due != ZERO}
    if adjusted == ZERO:
        return {}
    credit_part = max(credit, to_money(adjusted - positive))
    positive_part = to_money(adjusted - credit_part)
    deltas: dict[str, Decimal] = {}
    for line in _ascending_by_tax(line for line in lines if line.due < ZERO):
        if credit_part == ZERO:
            break
        take = max(credit_part, line.due)  # both negative: the smaller credit
        deltas[line.key] = take
        credit_part = to_money(credit_part - take)
    for line in _ascending_by_tax(line for line in lines if line.due > ZERO):
        if positive_part == ZERO:
            break
        take = min(positive_part, line.due)
        deltas[line.key] = take
        positive_part = to_money(positive_part - take)
    return deltas


def plan_writeback(
    lines: Sequence[DemandLineState],
    heads: Sequence[HeadPayment],
    *,
    advance: AdvanceKept | None = None,
    new_line_key: str | None = None,
) -> tuple[LineDelta, ...]:
    """The deltas that write one bill detail's apportionment to its demand's lines.

    ``lines`` in a stable order (creation time, then id); ``heads`` one entry per tax head of the bill detail.
    ``new_line_key`` is the id to give a new advance line, if one is needed. Deltas come in ``lines`` order, the
    new line (if any) last; lines that do not change are left out.
    """
    keys = [line.key for line in lines]
    if len(set(keys)) != len(keys):
        raise WriteBackError(PAYMENT_WRITEBACK_INVALID, "a demand line appears twice")
    by_head: dict[str, list[DemandLineState]] = {}
    for line in lines:
        by_head.setdefault(line.tax_head_code, []).append(line)
    seen_heads: set[str] = set()
    collection: dict[str, Decimal] = {}
    for head in heads:
        if head.tax_head_code in seen_heads:
            raise WriteBackError(PAYMENT_WRITEBACK_INVALID, f"tax head {head.tax_head_code} appears twice")
        seen_heads.add(head.tax_head_code)
        mine = by_head.get(head.tax_head_code, [])
        if not mine:
            if head.adjusted_amount != ZERO:
                raise WriteBackError(
                    PAYMENT_WRITEBACK_INVALID, f"the demand has no line of {head.tax_head_code} to take the payment"
                )
            continue
        collection.update(distribute_head(mine, head.adjusted_amount))

    tax: dict[str, Decimal] = {}
    created: LineDelta | None = None
    if advance is not None:
        target = (
            _advance_target(by_head.get(advance.tax_head_code, []), collection) if advance.onto_existing_line else None
        )
        if target is not None:
            tax[target] = to_money(ZERO - advance.amount)
        else:
            if not new_line_key:
                raise WriteBackError(PAYMENT_WRITEBACK_INVALID, "a new advance line needs a key")
            if new_line_key in keys:
                raise WriteBackError(PAYMENT_WRITEBACK_INVALID, f"the new line key {new_line_key} is taken")
            created = LineDelta(
                key=new_line_key,
                tax_head_code=advance.tax_head_code,
                collection_delta=ZERO,
                tax_delta=to_money(ZERO - advance.amount),
                created=True,
            )

    deltas = [
        LineDelta(
            key=line.key,
            tax_head_code=line.tax_head_code,
            collection_delta=collection.get(line.key, ZERO),
            tax_delta=tax.get(line.key, ZERO),
        )
        for line in lines
    ]
    result = tuple(delta for delta in deltas if not delta.is_noop)
    if created is not None:
        result = (*result, created)
    apply_deltas(lines, result, code=PAYMENT_WRITEBACK_INVALID)  # proves the amount rule holds afterwards
    return result


def _advance_target(lines: Sequence[DemandLineState], collection: Mapping[str, Decimal]) -> str | None:
    """The existing line of the advance head that can take more advance: the first credit line (ascending tax)
    whose collection after this payment is ≤ 0; lowering its tax keeps ``tax ≤ collection ≤ 0``."""
    for line in _ascending_by_tax(lines):
        after = to_money(line.collection_amount + collection.get(line.key, ZERO))
        if line.tax_amount <= ZERO and after <= ZERO:
            return line.key
    return None


def apply_deltas(
    lines: Sequence[DemandLineState], deltas: Iterable[LineDelta], *, code: str = PAYMENT_WRITEBACK_INVALID
) -> tuple[DemandLineState, ...]:
    """The lines after the deltas (new lines appended); ``WriteBackError(code)`` if a line breaks the amount rule."""
    by_key = {line.key: line for line in lines}
    order = [line.key for line in lines]
    for delta in deltas:
        if delta.created:
            if delta.key in by_key:
                raise WriteBackError(code, f"line {delta.key} already exists")
            base = DemandLineState(delta.key, delta.tax_head_code, ZERO, ZERO)
            order.append(delta.key)
        else:
            if delta.key not in by_key:
                raise WriteBackError(code, f"line {delta.key} does not exist")
            base = by_key[delta.key]
        after = replace(
            base,
            tax_amount=to_money(base.tax_amount + delta.tax_delta),
            collection_amount=to_money(base.collection_amount + delta.collection_delta),
        )
        if not amount_rule_holds(after.tax_amount, after.collection_amount):
            raise WriteBackError(
                code,
                f"{after.tax_head_code} line {after.key} would hold tax {after.tax_amount} and collection "
                f"{after.collection_amount}, which breaks the amount rule",
            )
        by_key[delta.key] = after
    return tuple(by_key[key] for key in order)


def reverse_deltas(deltas: Iterable[LineDelta]) -> tuple[LineDelta, ...]:
    """The deltas that undo ``deltas``. A line the payment created stays (lines are never deleted) and ends at
    tax 0, collection 0."""
    return tuple(
        LineDelta(
            key=delta.key,
            tax_head_code=delta.tax_head_code,
            collection_delta=to_money(ZERO - delta.collection_delta),
            tax_delta=to_money(ZERO - delta.tax_delta),
        )
        for delta in deltas
    )


def is_payment_completed(lines: Iterable[DemandLineState]) -> bool:
    """A demand is paid when its collections add up to its taxes (reference §7.9 step 6)."""
    materialised = list(lines)
    return money_sum(line.tax_amount for line in materialised) == money_sum(
        line.collection_amount for line in materialised
    )


def is_payment_completed_after_reversal(lines: Iterable[DemandLineState]) -> bool:
    """Completion after a payment is reversed: as :func:`is_payment_completed`, except that a demand left with
    nothing collected on any line is open again. Without this, reversing the zero payment of a zero demand
    (reference §14.5) would leave it "paid" (Σtax 0 == Σcollection 0) and it would never be billed again."""
    materialised = list(lines)
    return is_payment_completed(materialised) and any(line.collection_amount != ZERO for line in materialised)


__all__ = [
    "AdvanceKept",
    "DemandLineState",
    "HeadPayment",
    "LineDelta",
    "WriteBackError",
    "amount_rule_holds",
    "apply_deltas",
    "distribute_head",
    "is_payment_completed",
    "is_payment_completed_after_reversal",
    "plan_writeback",
    "reverse_deltas",
]
