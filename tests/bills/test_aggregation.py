"""Pure bill aggregation and expiry (reference §7.4.3, §7.4.4, §14.1, §14.5, §14.6, fixes [5] and [20]). No database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_project.money import ZERO, money_sum
from bills.domain.aggregation import (
    AccountLineDraft,
    BillDetailDraft,
    BillDraft,
    DemandData,
    DemandLineData,
    UnknownTaxHead,
    aggregate_demand,
    bill_expiry,
    build_bill,
)

IST = ZoneInfo("Asia/Kolkata")
UTC = dt.UTC

# §14.1 tax head orders (the reference example's, not the seed's).
ORDERS = {
    "PT_TAX": 3,
    "PT_TIME_REBATE": 0,
    "PT_TIME_INTEREST": 1,
    "PT_OWNER_EXEMPTION": 5,
    "PT_ADVANCE_CARRYFORWARD": 0,
}

P2019 = (dt.datetime(2019, 4, 1, tzinfo=UTC), dt.datetime(2020, 3, 31, 23, 59, 59, tzinfo=UTC))
P2020 = (dt.datetime(2020, 4, 1, tzinfo=UTC), dt.datetime(2021, 3, 31, 23, 59, 59, tzinfo=UTC))

# Generation at 2024-04-10 15:30:12.345 IST.
NOW = dt.datetime(2024, 4, 10, 15, 30, 12, 345000, tzinfo=IST)
END_OF_NOW_DAY = dt.datetime(2024, 4, 10, 23, 59, 59, 999000, tzinfo=IST)
TEN_DAYS = dt.timedelta(milliseconds=864_000_000)


def ln(key: str, head: str, tax: str, collection: str = "0") -> DemandLineData:
    return DemandLineData(key=key, tax_head_code=head, tax_amount=Decimal(tax), collection_amount=Decimal(collection))


def demand(key: str, period: tuple[dt.datetime, dt.datetime], *lines: DemandLineData, **kwargs: object) -> DemandData:
    return DemandData(key=key, period_from=period[0], period_to=period[1], lines=lines, **kwargs)  # type: ignore[arg-type]


def build(*demands: DemandData, now: dt.datetime = NOW) -> BillDraft | None:
    return build_bill(demands, head_order=ORDERS, now=now, zone=IST)


DEMAND_A = demand("A", P2019, ln("a1", "PT_TAX", "500"))
DEMAND_B = demand(
    "B",
    P2020,
    ln("b1", "PT_TAX", "1000"),
    ln("b2", "PT_TIME_REBATE", "-50"),
    ln("b3", "PT_TIME_INTEREST", "20"),
    ln("b4", "PT_TIME_INTEREST", "5"),
    additional_details={"propertyType": "BUILTUP"},
)


# --- §14.1 ------------------------------------------------------------------------------------------


def test_bill_from_two_demands_is_the_worked_example_14_1():
    # Given in the wrong order: the bill lists the oldest period first.
    draft = build(DEMAND_B, DEMAND_A)

    assert draft == BillDraft(
        details=(
            BillDetailDraft(
                demand_key="A",
                period_from=P2019[0],
                period_to=P2019[1],
                amount=Decimal("500.00"),
                expiry_date=END_OF_NOW_DAY,
                account_lines=(AccountLineDraft("a1", "PT_TAX", 3, Decimal("500.00")),),
                additional_details=None,
            ),
            BillDetailDraft(
                demand_key="B",
                period_from=P2020[0],
                period_to=P2020[1],
                amount=Decimal("975.00"),
                expiry_date=END_OF_NOW_DAY,
                account_lines=(
                    AccountLineDraft("b1", "PT_TAX", 3, Decimal("1000.00")),
                    AccountLineDraft("b2", "PT_TIME_REBATE", 0, Decimal("-50.00")),
                    # Two interest lines, one account line: 20 + 5, keyed by the first line.
                    AccountLineDraft("b3", "PT_TIME_INTEREST", 1, Decimal("25.00")),
                ),
                additional_details={"propertyType": "BUILTUP"},
            ),
        ),
        total_amount=Decimal("1475.00"),
    )
    assert draft is not None
    assert [str(d.amount) for d in draft.details] == ["500.00", "975.00"]
    assert str(draft.total_amount) == "1475.00"
    assert draft.is_billable
    assert draft.expiry_date == END_OF_NOW_DAY


def test_a_fully_paid_head_is_still_emitted_with_zero():
    paid_tax = demand(
        "B",
        P2020,
        ln("b1", "PT_TAX", "1000", "1000"),
        ln("b2", "PT_TIME_REBATE", "-50"),
        ln("b3", "PT_TIME_INTEREST", "20"),
        ln("b4", "PT_TIME_INTEREST", "5"),
    )

    detail = aggregate_demand(paid_tax, head_order=ORDERS, expiry_date=END_OF_NOW_DAY)

    assert detail.account_lines == (
        AccountLineDraft("b1", "PT_TAX", 3, Decimal("0.00")),
        AccountLineDraft("b2", "PT_TIME_REBATE", 0, Decimal("-50.00")),
        AccountLineDraft("b3", "PT_TIME_INTEREST", 1, Decimal("25.00")),
    )
    assert str(detail.amount) == "-25.00"
    draft = build(DEMAND_A, paid_tax)
    assert draft is not None
    assert str(draft.total_amount) == "475.00"


def test_partly_collected_lines_bill_the_remaining_due():
    draft = build(demand("A", P2019, ln("a1", "PT_TAX", "1000", "550"), ln("a2", "PT_TIME_REBATE", "-100", "-100")))

    assert draft is not None
    assert draft.details[0].account_lines == (
        AccountLineDraft("a1", "PT_TAX", 3, Decimal("450.00")),
        AccountLineDraft("a2", "PT_TIME_REBATE", 0, Decimal("0.00")),
    )
    assert str(draft.total_amount) == "450.00"


# --- billable or not ----------------------------------------------------------------------------------


def test_a_negative_total_is_not_billable():
    draft = build(demand("A", P2019, ln("a1", "PT_ADVANCE_CARRYFORWARD", "-200")))

    assert draft is not None
    assert draft.total_amount == Decimal("-200.00")
    assert draft.is_billable is False


def test_a_zero_total_is_billable_worked_example_14_5():
    draft = build(demand("A", P2019, ln("a1", "PT_TAX", "100"), ln("a2", "PT_OWNER_EXEMPTION", "-100")))

    assert draft is not None
    assert str(draft.total_amount) == "0.00"
    assert draft.is_billable is True
    assert draft.details[0].account_lines == (
        AccountLineDraft("a1", "PT_TAX", 3, Decimal("100.00")),
        AccountLineDraft("a2", "PT_OWNER_EXEMPTION", 5, Decimal("-100.00")),
    )


def test_no_demands_no_bill():
    assert build() is None


def test_an_unknown_tax_head_raises_with_every_unknown_code_sorted():
    with pytest.raises(UnknownTaxHead) as info:
        build(
            DEMAND_A, demand("C", P2020, ln("c1", "PT_ZETA", "1"), ln("c2", "PT_ALPHA", "1"), ln("c3", "PT_TAX", "1"))
        )

    assert info.value.codes == ("PT_ALPHA", "PT_ZETA")
    assert str(info.value) == "No taxhead masters found for the given codes ['PT_ALPHA', 'PT_ZETA']"


# --- expiry (§14.6 with fixes [5] and [20]) -------------------------------------------------------


def expiry(now: dt.datetime, duration: dt.timedelta | None = None, fixed: dt.datetime | None = None) -> dt.datetime:
    return bill_expiry(now=now, zone=IST, bill_expiry_time=duration, fixed_expiry=fixed)


def test_expiry_ten_days_later_at_the_end_of_the_day_in_ist():
    result = expiry(NOW, TEN_DAYS)

    assert result == dt.datetime(2024, 4, 20, 23, 59, 59, 999000, tzinfo=IST)
    assert result.astimezone(UTC) == dt.datetime(2024, 4, 20, 18, 29, 59, 999000, tzinfo=UTC)
    assert result.utcoffset() == dt.timedelta(hours=5, minutes=30)


@pytest.mark.parametrize("duration", [None, dt.timedelta(0), dt.timedelta(milliseconds=-1)])
def test_expiry_without_a_positive_duration_is_the_end_of_today(duration):
    assert expiry(NOW, duration) == END_OF_NOW_DAY


def test_expiry_counts_days_in_ist_not_utc():
    # 2024-04-10 19:00 UTC is already 2024-04-11 00:30 IST: the bill expires at the end of the IST day.
    just_after_ist_midnight = dt.datetime(2024, 4, 10, 19, 0, tzinfo=UTC)

    assert expiry(just_after_ist_midnight) == dt.datetime(2024, 4, 11, 23, 59, 59, 999000, tzinfo=IST)
    assert expiry(just_after_ist_midnight, TEN_DAYS) == dt.datetime(2024, 4, 21, 23, 59, 59, 999000, tzinfo=IST)
    # One minute before IST midnight it is still the 10th.
    assert expiry(dt.datetime(2024, 4, 10, 18, 29, tzinfo=UTC)) == END_OF_NOW_DAY


def test_a_future_fixed_expiry_date_wins_over_the_duration():
    fixed = dt.datetime(2024, 4, 15, 6, 0, tzinfo=UTC)  # 11:30 IST

    assert expiry(NOW, TEN_DAYS, fixed) == dt.datetime(2024, 4, 15, 23, 59, 59, 999000, tzinfo=IST)
    assert expiry(NOW, None, fixed) == dt.datetime(2024, 4, 15, 23, 59, 59, 999000, tzinfo=IST)
    # The fixed date's day is its IST day: 20:00 UTC on the 15th is the 16th in IST.
    late = dt.datetime(2024, 4, 15, 20, 0, tzinfo=UTC)
    assert expiry(NOW, None, late) == dt.datetime(2024, 4, 16, 23, 59, 59, 999000, tzinfo=IST)


@pytest.mark.parametrize("fixed", [NOW - dt.timedelta(days=3), NOW, NOW - dt.timedelta(milliseconds=1)])
def test_a_fixed_expiry_date_not_in_the_future_is_ignored(fixed):
    assert expiry(NOW, TEN_DAYS, fixed) == dt.datetime(2024, 4, 20, 23, 59, 59, 999000, tzinfo=IST)
    assert expiry(NOW, None, fixed) == END_OF_NOW_DAY


def test_the_bill_expires_with_its_earliest_detail():
    short = demand("A", P2019, ln("a1", "PT_TAX", "500"))
    long = demand("B", P2020, ln("b1", "PT_TAX", "1000"), bill_expiry_time=TEN_DAYS)

    draft = build(long, short)

    assert draft is not None
    assert [d.expiry_date for d in draft.details] == [
        END_OF_NOW_DAY,
        dt.datetime(2024, 4, 20, 23, 59, 59, 999000, tzinfo=IST),
    ]
    assert draft.expiry_date == END_OF_NOW_DAY


# --- properties -----------------------------------------------------------------------------------

PROPERTIES = settings(
    derandomize=True, database=None, max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
HEADS = ["PT_TAX", "PT_TIME_REBATE", "PT_TIME_INTEREST", "PT_OWNER_EXEMPTION"]


@st.composite
def demand_sets(draw: st.DrawFn) -> list[DemandData]:
    demands = []
    for d in range(draw(st.integers(min_value=1, max_value=4))):
        lines = []
        for n in range(draw(st.integers(min_value=1, max_value=6))):
            tax = Decimal(draw(st.integers(min_value=-50_000, max_value=200_000))).scaleb(-2)
            if tax >= 0:
                collection = Decimal(draw(st.integers(min_value=0, max_value=int(tax * 100)))).scaleb(-2)
            else:
                collection = Decimal(draw(st.integers(min_value=int(tax * 100), max_value=0))).scaleb(-2)
            lines.append(DemandLineData(f"d{d}l{n}", draw(st.sampled_from(HEADS)), tax, collection))
        start = dt.datetime(2016 + d, 4, 1, tzinfo=UTC)
        demands.append(DemandData(f"d{d}", start, start + dt.timedelta(days=364), tuple(lines)))
    return demands


@PROPERTIES
@given(demand_sets())
def test_aggregation_invariants(demands):
    draft = build(*reversed(demands))

    assert draft is not None
    # One detail per demand, oldest period first.
    assert [d.demand_key for d in draft.details] == [d.key for d in demands]
    for source, detail in zip(demands, draft.details, strict=True):
        dues: dict[str, Decimal] = {}
        first: dict[str, str] = {}
        for line in source.lines:
            dues[line.tax_head_code] = dues.get(line.tax_head_code, ZERO) + line.tax_amount - line.collection_amount
            first.setdefault(line.tax_head_code, line.key)
        # One account line per head, in first-appearance order, summing that head's dues, keyed by its first line.
        assert [(a.tax_head_code, a.amount, a.demand_detail_key) for a in detail.account_lines] == [
            (code, dues[code], first[code]) for code in dues
        ]
        assert detail.amount == money_sum(dues.values())
    # The total is exact: the sum of every line's due.
    assert draft.total_amount == money_sum(
        line.tax_amount - line.collection_amount for d in demands for line in d.lines
    )
    assert draft.is_billable == (draft.total_amount >= 0)
