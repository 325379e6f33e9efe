"""The money helpers (one rounding rule) and the clock (one place that reads the time)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_project import clock
from billing_project.money import CENT, ZERO, MoneyError, fits_column, is_whole, money_sum, to_money

D = Decimal

# --- money -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.345", "2.35"),
        ("-2.345", "-2.35"),
        ("2.344", "2.34"),
        ("-2.344", "-2.34"),
        ("0.005", "0.01"),
        ("-0.005", "-0.01"),
        ("0.0049999", "0.00"),
        ("1.005", "1.01"),
        ("2.675", "2.68"),  # the float 2.675 is 2.67499..., a Decimal string is exact
        ("10", "10.00"),
        (10, "10.00"),
        (-3, "-3.00"),
        (D("99.999"), "100.00"),
        ("1e3", "1000.00"),
        ("  7.5 ", "7.50"),
        ("-0", "0.00"),
        ("-0.001", "0.00"),
        (D("-0.00"), "0.00"),
        ("999999999999.99", "999999999999.99"),
    ],
)
def test_to_money_rounds_half_up_to_cents(value, expected):
    result = to_money(value)
    assert result == D(expected)
    assert str(result) == expected  # two places, and never "-0.00"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (2.345, "float amounts are not accepted; pass a string or Decimal"),
        (0.1, "float amounts are not accepted"),
        (True, "a boolean is not an amount"),
        ("NaN", "not a finite amount: 'NaN'"),
        (D("NaN"), "not a finite amount"),
        ("sNaN", "not a finite amount"),
        ("Infinity", "not a finite amount: 'Infinity'"),
        ("-inf", "not a finite amount"),
        ("abc", "not an amount: 'abc'"),
        ("", "not an amount: ''"),
        ("1,000.00", "not an amount"),
        (None, "not an amount: None"),
        ([1], "not an amount"),
        ("1e100000", "amount out of range: '1e100000'"),
    ],
)
def test_to_money_refuses_what_is_not_an_exact_amount(value, message):
    with pytest.raises(MoneyError) as info:
        to_money(value)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_money_sum_is_exact_then_rounded_once():
    assert money_sum([]) == ZERO
    assert str(money_sum([])) == "0.00"
    assert money_sum([D("0.10")] * 10) == D("1.00")
    assert money_sum([D("0.004"), D("0.004")]) == D("0.01")  # sum first (0.008), round once
    assert money_sum([D("100.50"), D("-100.50")]) == ZERO
    assert money_sum([D("1.11"), 2, D("-0.11")]) == D("3.00")
    assert money_sum(iter([D("5"), D("0.255")])) == D("5.26")


@pytest.mark.parametrize("values", [[D("1"), 0.5], [D("1"), "2"], [True], [None]])
def test_money_sum_refuses_non_decimals(values):
    with pytest.raises(MoneyError, match="not an amount"):
        money_sum(values)


def test_is_whole_and_fits_column():
    assert is_whole(D("600.00")) is True
    assert is_whole(D("600.50")) is False
    assert is_whole(D("-3")) is True
    assert fits_column(D("999999999999.99")) is True
    assert fits_column(D("-999999999999.99")) is True
    assert fits_column(D("999999999999.995")) is False  # rounds to 10^12
    assert fits_column(D("1000000000000")) is False
    assert str(CENT) == "0.01"


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=6, allow_nan=False, allow_infinity=False))
def test_to_money_property_within_half_a_cent_and_idempotent(value):
    money = to_money(value)
    assert abs(money - value) <= D("0.005")
    assert to_money(money) == money
    assert to_money(-value) == -money  # half up means away from zero: symmetric


# --- clock -----------------------------------------------------------------------------------


def test_now_is_aware_utc_and_today_is_in_the_billing_zone(settings):
    settings.BILLING_TIME_ZONE = "Asia/Kolkata"
    assert clock.now().utcoffset() == dt.timedelta(0)
    assert clock.billing_zone() == ZoneInfo("Asia/Kolkata")


def test_frozen_fixes_now_and_today_and_restores_them(settings):
    settings.BILLING_TIME_ZONE = "Asia/Kolkata"
    before_midnight_ist = dt.datetime(2026, 3, 31, 18, 29, 59, tzinfo=dt.UTC)
    with clock.frozen(before_midnight_ist) as frozen_at:
        assert frozen_at == before_midnight_ist
        assert clock.now() == before_midnight_ist
        assert clock.today() == dt.date(2026, 3, 31)
        after_midnight_ist = dt.datetime(2026, 3, 31, 18, 30, tzinfo=dt.UTC)
        with clock.frozen(after_midnight_ist):
            assert clock.now() == after_midnight_ist
            assert clock.today() == dt.date(2026, 4, 1)  # still 31 March in UTC
        assert clock.now() == before_midnight_ist
    assert clock.now() != before_midnight_ist


def test_frozen_restores_after_an_exception():
    at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(RuntimeError), clock.frozen(at):
        raise RuntimeError("boom")
    assert clock.now() != at


def test_today_follows_the_configured_zone(settings):
    at = dt.datetime(2026, 6, 30, 20, 0, tzinfo=dt.UTC)
    with clock.frozen(at):
        settings.BILLING_TIME_ZONE = "Asia/Kolkata"
        assert clock.today() == dt.date(2026, 7, 1)
        settings.BILLING_TIME_ZONE = "UTC"
        assert clock.today() == dt.date(2026, 6, 30)


def test_frozen_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="aware"), clock.frozen(dt.datetime(2026, 1, 1)):
        pass
