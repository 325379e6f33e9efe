"""The pure file reader and line parser (no database): exact amounts, normalised keys, line numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.imports.domain.csvfile import (
    OFFLINE_OPTIONAL,
    OFFLINE_REQUIRED,
    Line,
    RowProblem,
    iter_lines,
    offline_key,
    parse_amount,
    parse_offline,
    read_file,
    settlement_key,
)

TODAY = dt.date(2024, 5, 1)
MODES = {"CASH", "CHEQUE"}
cents = st.integers(min_value=1, max_value=10**12 - 1)


def amount_texts(value: int) -> list[str]:
    """Ways a spreadsheet writes one amount of ``value`` cents."""
    units, rest = divmod(value, 100)
    texts = [f"{units}.{rest:02d}"]
    if rest % 10 == 0:
        texts.append(f"{units}.{rest // 10}")
    if rest == 0:
        texts.append(str(units))
    return texts


@given(cents)
def test_every_way_of_writing_an_amount_reads_the_exact_decimal(value):
    for text in amount_texts(value):
        assert parse_amount(text) == Decimal(value) / 100


@given(cents, st.sampled_from(["", " ", "  "]), st.booleans())
def test_reformatted_lines_have_one_key(value, padding, lower):
    keys = set()
    for text in amount_texts(value):
        values = {
            "consumer_code": f"{padding}PT-1{padding}",
            "business_service": "pt" if lower else "PT",
            "amount": f"{padding}{text}{padding}",
            "mode": "cash" if lower else "CASH",
            "instrument_reference": f"{padding}r-0001" if lower else "R-0001",
            "date": "2024-05-01",
        }
        line = Line(number=2, values=values, field_count=6, header_count=6)
        keys.add(offline_key("pb.amritsar", parse_offline(line, modes=MODES, refused_modes={}, today=TODAY)))
    amount = f"{Decimal(value) / 100:.2f}"
    assert keys == {f'["OFFLINE","pb.amritsar","PT","PT-1","CASH","R-0001","{amount}","2024-05-01"]'}


@given(st.text(alphabet="0123456789.,-+eE ", min_size=1, max_size=12))
def test_an_amount_is_exact_or_refused(text):
    outcome: object
    try:
        outcome = parse_amount(text)
    except RowProblem as problem:
        outcome = problem.code
    if isinstance(outcome, Decimal):
        assert outcome > 0
        assert outcome == Decimal(text)  # nothing was rounded away
    else:
        assert outcome == "PAYMENT_IMPORT_BAD_AMOUNT"


def test_line_numbers_count_physical_lines_and_skip_blank_ones():
    text = read_file(
        b"consumer_code,business_service,amount,mode,instrument_reference,date\r\n"
        b"\r\n"
        b'PT-1,PT,1,CASH,"R\r\n1",2024-05-01\r\n'
        b",,,,,\r\n"
        b"PT-2,PT,2,CASH,R-2,2024-05-01\r\n",
        required=OFFLINE_REQUIRED,
        optional=OFFLINE_OPTIONAL,
    )
    assert text.rows == 2
    assert [(line.number, line.values["consumer_code"]) for line in iter_lines(text.text)] == [(3, "PT-1"), (6, "PT-2")]


def test_very_long_keys_are_hashed():
    key = settlement_key("pb.amritsar", "x" * 2000)
    assert key.startswith("SETTLEMENT:sha256:")
    assert len(key) == len("SETTLEMENT:sha256:") + 64


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("consumer_code", "C" * 251, "consumer_code is longer than 250 characters"),
        ("instrument_reference", "R" * 129, "instrument_reference is longer than 128 characters"),
    ],
)
def test_values_longer_than_their_column_are_refused(field, value, message):
    values = {
        "consumer_code": "PT-1",
        "business_service": "PT",
        "amount": "1",
        "mode": "CASH",
        "instrument_reference": "R",
        "date": "2024-05-01",
        field: value,
    }
    with pytest.raises(RowProblem) as caught:
        parse_offline(Line(2, values, 6, 6), modes=MODES, refused_modes={}, today=TODAY)
    assert (caught.value.code, caught.value.message) == ("PAYMENT_IMPORT_VALUE_TOO_LONG", message)


@pytest.mark.parametrize("text", ["9" * 13, "9" * 27, "9" * 30 + ".99", "1" + "0" * 40])
def test_an_amount_too_large_is_a_row_problem_not_a_crash(text):
    with pytest.raises(RowProblem) as problem:
        parse_amount(text)
    assert (problem.value.code, problem.value.message) == ("PAYMENT_IMPORT_BAD_AMOUNT", f"amount {text!r} is too large")


def test_leading_zeros_do_not_make_an_amount_too_large():
    assert parse_amount("0" * 30 + "12.50") == Decimal("12.50")
