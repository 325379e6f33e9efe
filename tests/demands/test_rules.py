"""demands.domain.rules: the amount rule (reference §4.2, relaxed per DECISIONS [10]) and containing_period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from demands.domain.rules import AmountLine, Period, amount_rule_violation, amount_rule_violations, containing_period

POSITIVE = "collection amount : {c}, cannot not be greater than taxAmount or Negative in case of positive tax : {t}"
NEGATIVE = "collection amount : {c}, should be between tax amount : {t} and 'ZERO' in case of negative Tax"


@pytest.mark.parametrize(
    ("tax", "collection", "expected"),
    [
        # Reference §16 item 2, with the relaxed rule for credit lines.
        ("100", "120", POSITIVE.format(c="120", t="100")),
        ("100", "-1", POSITIVE.format(c="-1", t="100")),
        ("-50", "-20", None),  # partly consumed credit line: refused by the reference, accepted here
        ("-50", "0", None),
        ("-50", "-50", None),
        ("-50", "-60", NEGATIVE.format(c="-60", t="-50")),
        ("-50", "10", NEGATIVE.format(c="10", t="-50")),
        # Positive tax: 0 <= collection <= tax.
        ("100", "100", None),
        ("100", "0", None),
        ("100", "99.99", None),
        ("100", "100.01", POSITIVE.format(c="100.01", t="100")),
        ("0", "0", None),
        ("0", "0.01", POSITIVE.format(c="0.01", t="0")),
        ("0", "-0.01", POSITIVE.format(c="-0.01", t="0")),
        # Negative tax: tax <= collection <= 0.
        ("-0.01", "-0.01", None),
        ("-0.01", "-0.02", NEGATIVE.format(c="-0.02", t="-0.01")),
        ("-50.50", "0.01", NEGATIVE.format(c="0.01", t="-50.50")),
    ],
)
def test_amount_rule_violation(tax: str, collection: str, expected: str | None) -> None:
    assert amount_rule_violation(AmountLine(Decimal(tax), Decimal(collection))) == expected


def test_whole_amounts_print_without_fraction_and_others_as_given() -> None:
    assert amount_rule_violation(AmountLine(Decimal("100.00"), Decimal("120.00"))) == POSITIVE.format(c="120", t="100")
    assert amount_rule_violation(AmountLine(Decimal("1000.00"), Decimal("1000.50"))) == POSITIVE.format(
        c="1000.50", t="1000"
    )
    assert amount_rule_violation(AmountLine(Decimal("-100.00"), Decimal("-100.10"))) == NEGATIVE.format(
        c="-100.10", t="-100"
    )


def test_amount_rule_violations_lists_every_offending_line_in_order() -> None:
    lines = [
        AmountLine(Decimal("100"), Decimal("120")),
        AmountLine(Decimal("-50"), Decimal("-20")),
        AmountLine(Decimal("-50"), Decimal("10")),
        AmountLine(Decimal("100"), Decimal("50")),
        AmountLine(Decimal("100"), Decimal("-1")),
    ]
    assert amount_rule_violations(lines) == [
        POSITIVE.format(c="120", t="100"),
        NEGATIVE.format(c="10", t="-50"),
        POSITIVE.format(c="-1", t="100"),
    ]
    assert amount_rule_violations([]) == []
    assert amount_rule_violations(iter([AmountLine(Decimal("1"), Decimal("1"))])) == []


UTC = dt.UTC
P2018 = Period("PTAN2018", dt.datetime(2018, 4, 1, tzinfo=UTC), dt.datetime(2019, 3, 31, 23, 59, 59, tzinfo=UTC))
P2019 = Period("PTAN2019", dt.datetime(2019, 3, 31, 23, 59, 59, tzinfo=UTC), dt.datetime(2020, 3, 31, tzinfo=UTC))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Whole period, and strictly inside.
        (P2019.from_date, P2019.to_date, P2019),
        (dt.datetime(2019, 6, 1, tzinfo=UTC), dt.datetime(2019, 9, 30, tzinfo=UTC), P2019),
        (dt.datetime(2018, 4, 1, tzinfo=UTC), dt.datetime(2018, 4, 1, tzinfo=UTC), P2018),
        # One millisecond outside at either end.
        (P2019.from_date - dt.timedelta(milliseconds=1), P2019.to_date, None),
        (P2019.from_date, P2019.to_date + dt.timedelta(milliseconds=1), None),
        # Spanning two periods is held by neither.
        (dt.datetime(2018, 6, 1, tzinfo=UTC), dt.datetime(2019, 6, 1, tzinfo=UTC), None),
        # The instant shared by both periods: the first period in the given order wins.
        (P2018.to_date, P2018.to_date, P2018),
        # Before every period and after every period.
        (dt.datetime(2010, 1, 1, tzinfo=UTC), dt.datetime(2010, 2, 1, tzinfo=UTC), None),
        (dt.datetime(2030, 1, 1, tzinfo=UTC), dt.datetime(2030, 2, 1, tzinfo=UTC), None),
    ],
)
def test_containing_period(start: dt.datetime, end: dt.datetime, expected: Period | None) -> None:
    assert containing_period([P2018, P2019], start, end) == expected


def test_containing_period_order_and_empty() -> None:
    shared = P2018.to_date
    assert containing_period([P2019, P2018], shared, shared) == P2019
    assert containing_period([], P2019.from_date, P2019.to_date) is None
    assert containing_period((P2019,), P2019.from_date, P2019.to_date) == Period(
        code="PTAN2019",
        from_date=dt.datetime(2019, 3, 31, 23, 59, 59, tzinfo=UTC),
        to_date=dt.datetime(2020, 3, 31, tzinfo=UTC),
    )
