"""Money helpers: the one rounding rule of the project.

Money is ``Decimal`` with two places, rounded ROUND_HALF_UP. Nobody else calls ``quantize``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_DIGITS = 14
DECIMAL_PLACES = 2


class MoneyError(ValueError):
    """Raised when a value cannot be read as an amount of money."""


class InexactMoney(MoneyError):
    """An amount, but not one that can be taken as it is: more than two places, or too large for the column."""


def amount_text(text: str) -> str:
    """``text`` without surrounding blanks: the one reading of an amount written as text (``to_money``,
    ``exact_money``)."""
    return text.strip()


def to_money(value: Decimal | int | str) -> Decimal:
    """Return ``value`` as a two-place Decimal, rounded half up.

    Floats are refused: they cannot represent cents exactly.
    """
    if isinstance(value, float):
        raise MoneyError("float amounts are not accepted; pass a string or Decimal")
    if isinstance(value, bool):
        raise MoneyError("a boolean is not an amount")
    written = amount_text(value) if isinstance(value, str) else value
    try:
        amount = Decimal(written)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise MoneyError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise MoneyError(f"not a finite amount: {value!r}")
    try:
        money = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # more digits than the decimal context holds
        raise MoneyError(f"amount out of range: {value!r}") from exc
    return money if money else ZERO  # never "-0.00"


def money_sum(values: Iterable[Decimal]) -> Decimal:
    """Exact sum of amounts, as money (floats are refused, as in ``to_money``)."""
    total = ZERO
    for value in values:
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise MoneyError(f"not an amount: {value!r}; pass Decimals")
        total += value
    return to_money(total)


def is_whole(value: Decimal) -> bool:
    """True when the amount has no paise/cents part."""
    return value == value.to_integral_value()


def fits_column(value: Decimal) -> bool:
    """True when the amount fits ``DecimalField(max_digits=14, decimal_places=2)``."""
    return abs(to_money(value)) < Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES)


def exact_money(value: Decimal | int | str, *, column: bool = True) -> Decimal:
    """``value`` as money when it needs no rounding: the one rule for an amount that is taken as given.

    Raises ``MoneyError`` when ``value`` is not an amount at all (a float, a boolean, text that is no number, NaN,
    infinity) and ``InexactMoney`` when it is one but has more than two places or, with ``column`` (the
    default), does not fit ``DecimalField(max_digits=14, decimal_places=2)``. Pure code that checks amounts held
    in memory passes ``column=False``.
    """
    money = to_money(value)
    written = Decimal(amount_text(value)) if isinstance(value, str) else Decimal(value)
    if money != written:
        raise InexactMoney(f"not exact to the cent: {value!r}")
    if column and not fits_column(money):
        raise InexactMoney(f"too large for an amount (at most 12 digits before the point): {value!r}")
    return money
