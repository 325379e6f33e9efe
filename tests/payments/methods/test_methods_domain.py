"""Pure rules: card-number (PAN) detection and the autopay retry schedule — no database."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.methods.domain.pan import contains_pan, luhn_valid
from payments.methods.domain.retry import max_attempts, next_retry_at


def with_check_digit(body: str) -> str:
    """``body`` plus the digit that makes it Luhn-valid."""
    for digit in "0123456789":
        if luhn_valid(body + digit):
            return body + digit
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    "text",
    [
        "4242424242424242",
        "4000000000000002",
        "4000000000009995",
        "5555 5555 5555 4444",
        "3782-822463-10005",
        "card 6011111111111117 exp 12/30",
        "tok_4242424242424242",
        "4111.1111.1111.1111",
    ],
)
def test_test_cards_are_found(text):
    assert contains_pan(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "VISA •••• 4242",
        "tok_3f9c2a7b1e",
        "4242424242424241",  # Luhn fails
        "424242424242",  # 12 digits
        "12/2030",
        "4242  4242 4242 4242",  # two blanks in a row: not one number
        "42424242424242424242",  # 20 digits
    ],
)
def test_non_card_numbers_are_not(text):
    assert not contains_pan(text)


WORDS = st.text(alphabet="abcxyz_:/ ", max_size=6)


@given(body=st.text(alphabet="0123456789", min_size=12, max_size=18), prefix=WORDS, suffix=WORDS)
def test_every_luhn_valid_13_to_19_digit_number_is_found_wherever_it_sits(body, prefix, suffix):
    pan = with_check_digit(body)
    assert contains_pan(prefix + pan + suffix)


@given(st.text(alphabet="0123456789", max_size=12))
def test_fewer_than_13_digits_are_never_a_card_number(digits):
    assert not contains_pan(digits)


def test_luhn():
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")


FAILED_AT = dt.datetime(2024, 5, 1, 10, 15, tzinfo=dt.UTC)


def test_default_schedule_three_retries_three_days_apart():
    delays = [3, 3, 3]
    assert [next_retry_at(delays_days=delays, attempt=n, failed_at=FAILED_AT) for n in (1, 2, 3, 4)] == [
        dt.datetime(2024, 5, 4, 10, 15, tzinfo=dt.UTC),
        dt.datetime(2024, 5, 4, 10, 15, tzinfo=dt.UTC),
        dt.datetime(2024, 5, 4, 10, 15, tzinfo=dt.UTC),
        None,
    ]
    assert max_attempts(delays) == 4


def test_custom_schedule_and_no_retries():
    assert next_retry_at(delays_days=[1, 2, 7], attempt=3, failed_at=FAILED_AT) == FAILED_AT + dt.timedelta(days=7)
    assert next_retry_at(delays_days=[], attempt=1, failed_at=FAILED_AT) is None
    with pytest.raises(ValueError):
        next_retry_at(delays_days=[3], attempt=0, failed_at=FAILED_AT)
