"""Validation rules of demands that need no database (reference §4.2, §7.1 step 2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from billing_project.money import ZERO


@dataclass(frozen=True)
class AmountLine:
    tax_amount: Decimal
    collection_amount: Decimal


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)


def amount_rule_violation(line: AmountLine) -> str | None:
    """The reference's message for a line whose collection does not fit its tax, or None.

    Positive tax: ``0 <= collection <= tax``. Negative tax (credit): ``tax <= collection <= 0`` — the
    relaxed rule of DECISIONS.md (the reference only allowed 0 or the whole tax).
    """
    tax, collection = line.tax_amount, line.collection_amount
    if tax >= ZERO:
        if collection > tax or collection < ZERO:
            return (
                f"collection amount : {_fmt(collection)}, cannot not be greater than taxAmount or Negative "
                f"in case of positive tax : {_fmt(tax)}"
            )
        return None
    if collection < tax or collection > ZERO:
        return (
            f"collection amount : {_fmt(collection)}, should be between tax amount : {_fmt(tax)} and 'ZERO' "
            "in case of negative Tax"
        )
    return None


def amount_rule_violations(lines: Iterable[AmountLine]) -> list[str]:
    return [message for line in lines if (message := amount_rule_violation(line)) is not None]


@dataclass(frozen=True)
class Period:
    code: str
    from_date: dt.datetime
    to_date: dt.datetime


def containing_period(periods: Sequence[Period], start: dt.datetime, end: dt.datetime) -> Period | None:
    """The tax period that holds ``[start, end]`` entirely (reference §7.1 step 2c), or None."""
    for period in periods:
        if start >= period.from_date and end <= period.to_date:
            return period
    return None
