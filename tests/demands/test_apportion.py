"""Apportionment table tests: every worked example of reference §14 that apportions money, plus edges.

No database: these are plain functions over frozen dataclasses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from demands.domain import (
    AdvanceCredit,
    ApportionError,
    ApportionRequest,
    Bucket,
    CollectionUpdate,
    DemandDues,
    DemandLine,
    Period,
    apportion_payment,
    carry_forward_advance,
)
from demands.errors import (
    APPORTION_DUPLICATE_KEY,
    APPORTION_INVALID_AMOUNT,
    EG_DEMAND_DEATIL_INVALID,
    INVALID_BILL,
    INVALID_PAYMENTDETAIL,
    NO_TAXHEAD_FOUND,
)

FY2019 = datetime(2019, 4, 1, tzinfo=UTC)
FY2020 = datetime(2020, 4, 1, tzinfo=UTC)
FY2021 = datetime(2021, 4, 1, tzinfo=UTC)
FY2022 = datetime(2022, 4, 1, tzinfo=UTC)


def D(value: str) -> Decimal:
    return Decimal(value)


def bucket(key: str, head: str, order: int, amount: str, *, advance: bool = False) -> Bucket:
    return Bucket(key=key, tax_head_code=head, order=order, amount=D(amount), is_advance=advance)


def period(key: str, start: datetime, *buckets: Bucket) -> Period:
    return Period(key=key, period_from=start, buckets=buckets)


def pay(*periods: Period, paid: str, advance: bool = False, head: str | None = None):
    return apportion_payment(
        ApportionRequest(periods=periods, amount_paid=D(paid), advance_allowed=advance, advance_tax_head=head)
    )


def line(key: str, head: str, order: int, tax: str, collected: str = "0", *, advance: bool = False) -> DemandLine:
    return DemandLine(
        key=key, tax_head_code=head, order=order, tax_amount=D(tax), collection_amount=D(collected), is_advance=advance
    )


def demand(key: str, start: datetime, *lines: DemandLine) -> DemandDues:
    return DemandDues(key=key, period_from=start, lines=lines)


# --- §14 worked examples ------------------------------------------------------------------------------


def test_14_1_full_payment_of_the_two_demand_bill_settles_every_head():
    # §14.1 states the bill (total 1475); paying it in full must settle each BAD at its amount.
    bill = (
        period("A", FY2019, bucket("a-tax", "PT_TAX", 3, "500")),
        period(
            "B",
            FY2020,
            bucket("b-tax", "PT_TAX", 3, "1000"),
            bucket("b-rebate", "PT_TIME_REBATE", 0, "-50"),
            bucket("b-interest", "PT_TIME_INTEREST", 1, "25"),
        ),
    )
    result = pay(*bill, paid="1475")
    assert [(x.key, x.adjusted_amount) for x in result.lines] == [
        ("a-tax", D("500.00")),
        ("b-tax", D("1000.00")),
        ("b-rebate", D("-50.00")),
        ("b-interest", D("25.00")),
    ]
    assert [(p.key, p.amount, p.amount_paid) for p in result.periods] == [
        ("A", D("500.00"), D("500.00")),
        ("B", D("975.00"), D("975.00")),
    ]
    assert result.advance is None


def test_14_1_fully_paid_head_variant_credit_of_a_later_period_waits_for_money():
    # §14.1 variant: B with PT_TAX 1000/1000 still yields a 0 BAD, so B's amount is -25 and the bill 475.
    # Oldest first: A absorbs all 475, the money is gone before B, so B's rebate is not applied (reference
    # rule "later periods' rebates are then NOT applied"); the next bill is 0 and a zero payment settles it.
    result = pay(
        period("A", FY2019, bucket("a-tax", "PT_TAX", 3, "500")),
        period(
            "B",
            FY2020,
            bucket("b-tax", "PT_TAX", 3, "0"),
            bucket("b-rebate", "PT_TIME_REBATE", 0, "-50"),
            bucket("b-interest", "PT_TIME_INTEREST", 1, "25"),
        ),
        paid="475",
    )
    assert [(x.key, x.adjusted_amount) for x in result.lines] == [
        ("a-tax", D("475.00")),
        ("b-tax", D("0.00")),
        ("b-rebate", D("0.00")),
        ("b-interest", D("0.00")),
    ]
    assert [(p.key, p.amount, p.amount_paid) for p in result.periods] == [
        ("A", D("500.00"), D("475.00")),
        ("B", D("-25.00"), D("0.00")),
    ]
    follow_up = pay(
        period("A", FY2019, bucket("a-tax", "PT_TAX", 3, "25")),
        period(
            "B",
            FY2020,
            bucket("b-tax", "PT_TAX", 3, "0"),
            bucket("b-rebate", "PT_TIME_REBATE", 0, "-50"),
            bucket("b-interest", "PT_TIME_INTEREST", 1, "25"),
        ),
        paid="0",
    )
    assert [x.adjusted_amount for x in follow_up.lines] == [D("25.00"), D("0.00"), D("-50.00"), D("25.00")]


def test_14_2_partial_payment_of_600_rebate_first_then_smallest_dues():
    bill = period(
        "bd-1",
        FY2020,
        bucket("tax", "PT_TAX", 3, "1000"),
        bucket("cess", "PT_FIRE_CESS", 2, "100"),
        bucket("interest", "PT_TIME_INTEREST", 1, "50"),
        bucket("rebate", "PT_TIME_REBATE", 0, "-100"),
    )
    assert bill.amount == D("1050.00")
    result = pay(bill, paid="600")
    assert {x.key: x.adjusted_amount for x in result.lines} == {
        "rebate": D("-100.00"),
        "interest": D("50.00"),
        "cess": D("100.00"),
        "tax": D("550.00"),
    }
    assert result.amount_paid("bd-1") == D("600.00")
    assert result.advance is None


def test_14_2_next_bill_of_450_is_settled_by_a_payment_of_450():
    # After the back-update the next bill is 450: PT_TAX 450, the other heads 0.
    bill = period(
        "bd-2",
        FY2020,
        bucket("tax", "PT_TAX", 3, "450"),
        bucket("cess", "PT_FIRE_CESS", 2, "0"),
        bucket("interest", "PT_TIME_INTEREST", 1, "0"),
        bucket("rebate", "PT_TIME_REBATE", 0, "0"),
    )
    result = pay(bill, paid="450")
    assert {x.key: x.adjusted_amount for x in result.lines} == {
        "tax": D("450.00"),
        "cess": D("0.00"),
        "interest": D("0.00"),
        "rebate": D("0.00"),
    }
    assert result.amount_paid("bd-2") == D("450.00")


def test_14_3_arrears_first():
    result = pay(
        # Passed newest first on purpose: the order of the input must not matter.
        period(
            "2020", FY2020, bucket("tax-2020", "PT_TAX", 3, "1000"), bucket("rebate-2020", "PT_TIME_REBATE", 0, "-50")
        ),
        period("2019", FY2019, bucket("tax-2019", "PT_TAX", 3, "500")),
        paid="700",
    )
    assert [(p.key, p.amount_paid) for p in result.periods] == [("2019", D("500.00")), ("2020", D("200.00"))]
    assert result.adjusted_amount("tax-2019") == D("500.00")
    assert result.adjusted_amount("rebate-2020") == D("-50.00")
    assert result.adjusted_amount("tax-2020") == D("250.00")


def test_14_4_overpayment_with_advance_allowed_becomes_a_new_advance_line():
    result = pay(
        period("bd-ws", FY2021, bucket("charge", "WS_CHARGE", 0, "1000")),
        paid="1200",
        advance=True,
        head="WS_ADVANCE_CARRYFORWARD",
    )
    assert result.adjusted_amount("charge") == D("1000.00")
    assert result.advance == AdvanceCredit(
        period_key="bd-ws", tax_head_code="WS_ADVANCE_CARRYFORWARD", amount=D("200.00"), line_key=None
    )
    assert result.advance_amount == D("200.00")
    assert result.amount_paid("bd-ws") == D("1200.00")


def test_14_4_next_demand_takes_over_the_advance():
    # Back-update of the payment above: the old demand has WS_ADVANCE_CARRYFORWARD tax -200, collection 0.
    old = demand(
        "d-old",
        FY2021,
        line("old-charge", "WS_CHARGE", 0, "1000", "1000"),
        line("old-advance", "WS_ADVANCE_CARRYFORWARD", 0, "-200", advance=True),
    )
    new = demand("d-new", FY2022, line("new-charge", "WS_CHARGE", 0, "1500"))
    result = carry_forward_advance(existing_demands=[old], new_demand=new)
    assert result.updates == (
        CollectionUpdate("d-old", "old-advance", "WS_ADVANCE_CARRYFORWARD", D("-200.00"), D("-200.00")),
        CollectionUpdate("d-new", "new-charge", "WS_CHARGE", D("200.00"), D("200.00")),
    )
    assert result.moved_amount == D("200.00")
    assert result.demand_keys == ("d-old", "d-new")
    # "next bill 1300 (+ a 0-amount detail for the old demand)": paying it settles WS_CHARGE.
    bill = pay(
        period(
            "bd-old",
            FY2021,
            bucket("b-old-charge", "WS_CHARGE", 0, "0"),
            bucket("b-old-adv", "WS_ADVANCE_CARRYFORWARD", 0, "0", advance=True),
        ),
        period("bd-new", FY2022, bucket("b-new-charge", "WS_CHARGE", 0, "1300")),
        paid="1300",
        advance=True,
        head="WS_ADVANCE_CARRYFORWARD",
    )
    assert [(p.key, p.amount, p.amount_paid) for p in bill.periods] == [
        ("bd-old", D("0.00"), D("0.00")),
        ("bd-new", D("1300.00"), D("1300.00")),
    ]
    assert bill.adjusted_amount("b-new-charge") == D("1300.00")
    assert bill.advance is None


def test_14_5_zero_payment_on_zero_bill_settles_every_head():
    result = pay(
        period("bd-0", FY2020, bucket("tax", "PT_TAX", 3, "100"), bucket("exemption", "PT_OWNER_EXEMPTION", 0, "-100")),
        paid="0",
    )
    assert result.adjusted_amount("tax") == D("100.00")
    assert result.adjusted_amount("exemption") == D("-100.00")
    assert result.amount_paid("bd-0") == D("0.00")
    assert result.advance is None


def test_7_8_3_carry_forward_moves_only_what_the_new_demand_needs():
    # The reference's own example: it would release all 500 and append an id-less -200 line (bug [23]).
    old = demand(
        "d-old",
        FY2021,
        line("old-charge", "WS_CHARGE", 0, "1000", "1000"),
        line("old-advance", "WS_ADVANCE_CARRYFORWARD", 0, "-500", advance=True),
    )
    new = demand("d-new", FY2022, line("new-charge", "WS_CHARGE", 0, "300"))
    result = carry_forward_advance(existing_demands=[old], new_demand=new)
    assert result.updates == (
        CollectionUpdate("d-old", "old-advance", "WS_ADVANCE_CARRYFORWARD", D("-300.00"), D("-300.00")),
        CollectionUpdate("d-new", "new-charge", "WS_CHARGE", D("300.00"), D("300.00")),
    )
    assert result.moved_amount == D("300.00")


# --- bill-level edge cases ----------------------------------------------------------------------------


def test_zero_payment_on_empty_bill():
    result = pay(paid="0")
    assert result.lines == ()
    assert result.periods == ()
    assert result.advance is None


def test_zero_payment_on_zero_bill_over_two_periods_fills_amount_paid():
    # The reference leaves amountPaid unset here, and its write-back then skips the 100 period.
    result = pay(
        period("p1", FY2019, bucket("tax", "PT_TAX", 3, "100")),
        period("p2", FY2020, bucket("rebate", "PT_ADHOC_REBATE", 0, "-100")),
        paid="0",
    )
    assert [(p.key, p.amount_paid) for p in result.periods] == [("p1", D("100.00")), ("p2", D("-100.00"))]


def test_credit_larger_than_the_period_dues_flows_into_the_next_period():
    result = pay(
        period("p1", FY2019, bucket("tax-1", "PT_TAX", 3, "100"), bucket("exemption", "PT_OWNER_EXEMPTION", 0, "-300")),
        period("p2", FY2020, bucket("tax-2", "PT_TAX", 3, "500")),
        paid="300",
    )
    assert result.adjusted_amount("exemption") == D("-300.00")
    assert result.adjusted_amount("tax-1") == D("100.00")
    assert result.adjusted_amount("tax-2") == D("500.00")
    assert [(p.key, p.amount_paid) for p in result.periods] == [("p1", D("-200.00")), ("p2", D("500.00"))]


def test_credit_larger_than_all_dues_with_advance_becomes_advance():
    result = pay(
        period("p1", FY2020, bucket("tax", "PT_TAX", 3, "100"), bucket("exemption", "PT_OWNER_EXEMPTION", 0, "-300")),
        paid="50",
        advance=True,
        head="PT_ADVANCE_CARRYFORWARD",
    )
    assert result.adjusted_amount("exemption") == D("-300.00")
    assert result.adjusted_amount("tax") == D("100.00")
    assert result.advance == AdvanceCredit("p1", "PT_ADVANCE_CARRYFORWARD", D("250.00"), None)


def test_money_running_out_leaves_later_periods_and_their_credits_untouched():
    result = pay(
        period("p1", FY2019, bucket("tax-1", "PT_TAX", 3, "500")),
        period("p2", FY2020, bucket("tax-2", "PT_TAX", 3, "1000"), bucket("rebate-2", "PT_TIME_REBATE", 0, "-50")),
        paid="500",
    )
    assert result.adjusted_amount("tax-1") == D("500.00")
    assert result.adjusted_amount("rebate-2") == D("0.00")
    assert result.adjusted_amount("tax-2") == D("0.00")
    assert result.amount_paid("p2") == D("0.00")


def test_three_periods_part_payment_stops_inside_the_middle_period():
    result = pay(
        period("p3", FY2021, bucket("t3", "PT_TAX", 3, "300")),
        period("p1", FY2019, bucket("t1", "PT_TAX", 3, "100"), bucket("c1", "PT_FIRE_CESS", 2, "10")),
        period("p2", FY2020, bucket("t2", "PT_TAX", 3, "200"), bucket("c2", "PT_FIRE_CESS", 2, "20")),
        paid="150",
    )
    assert [(p.key, p.amount_paid) for p in result.periods] == [
        ("p1", D("110.00")),
        ("p2", D("40.00")),
        ("p3", D("0.00")),
    ]
    assert result.adjusted_amount("c2") == D("20.00")
    assert result.adjusted_amount("t2") == D("20.00")


def test_order_only_breaks_ties_between_equal_dues():
    result = pay(
        period(
            "p",
            FY2020,
            bucket("high-order", "PT_TAX", 3, "100"),
            bucket("low-order", "PT_FIRE_CESS", 2, "100"),
            bucket("small", "PT_TIME_PENALTY", 9, "40"),
        ),
        paid="90",
    )
    assert result.adjusted_amount("small") == D("40.00")
    assert result.adjusted_amount("low-order") == D("50.00")
    assert result.adjusted_amount("high-order") == D("0.00")


def test_cents_are_split_exactly():
    result = pay(
        period("p", FY2020, bucket("a", "PT_TAX", 3, "33.33"), bucket("b", "PT_FIRE_CESS", 2, "33.34")),
        paid="50.01",
    )
    assert result.adjusted_amount("a") == D("33.33")
    assert result.adjusted_amount("b") == D("16.68")


def test_overpayment_without_advance_is_refused():
    with pytest.raises(ApportionError) as err:
        pay(period("p", FY2020, bucket("tax", "PT_TAX", 3, "100")), paid="101")
    assert err.value.code == INVALID_PAYMENTDETAIL
    assert err.value.message == "The amount to be paid is more than amount due"


def test_payment_above_total_is_refused_even_when_the_money_would_stop_early():
    # p1 alone absorbs 250, but the bill total is 200: the overpayment is refused up front.
    with pytest.raises(ApportionError) as err:
        pay(
            period("p1", FY2019, bucket("tax", "PT_TAX", 3, "300")),
            period("p2", FY2020, bucket("rebate", "PT_TIME_REBATE", 0, "-100")),
            paid="250",
        )
    assert err.value.code == INVALID_PAYMENTDETAIL


def test_negative_payment_is_refused():
    with pytest.raises(ApportionError) as err:
        pay(period("p", FY2020, bucket("tax", "PT_TAX", 3, "100")), paid="-1", advance=True, head="X_ADVANCE")
    assert err.value.code == INVALID_PAYMENTDETAIL


def test_overpayment_without_advance_head_is_refused():
    with pytest.raises(ApportionError) as err:
        pay(period("p", FY2020, bucket("tax", "WS_CHARGE", 0, "100")), paid="150", advance=True)
    assert err.value.code == NO_TAXHEAD_FOUND


def test_advance_payment_on_a_bill_without_details_is_refused():
    with pytest.raises(ApportionError) as err:
        pay(paid="10", advance=True, head="WS_ADVANCE_CARRYFORWARD")
    assert err.value.code == INVALID_BILL


def test_overpayment_goes_onto_the_latest_period_existing_advance_line():
    result = pay(
        period("p1", FY2020, bucket("c1", "WS_CHARGE", 0, "100")),
        period(
            "p2",
            FY2021,
            bucket("c2", "WS_CHARGE", 0, "100"),
            bucket("adv", "WS_ADVANCE_CARRYFORWARD", 0, "0", advance=True),
        ),
        paid="250",
        advance=True,
        head="WS_ADVANCE_CARRYFORWARD",
    )
    assert result.advance == AdvanceCredit("p2", "WS_ADVANCE_CARRYFORWARD", D("50.00"), "adv")
    assert result.adjusted_amount("adv") == D("0.00")
    assert [(p.key, p.amount_paid) for p in result.periods] == [("p1", D("100.00")), ("p2", D("150.00"))]


def test_existing_advance_is_released_before_the_payment():
    # The older period holds advance -100 (due -100); the bill total is 300 - 100 = 200.
    result = pay(
        period("p1", FY2020, bucket("adv", "WS_ADVANCE_CARRYFORWARD", 0, "-100", advance=True)),
        period("p2", FY2021, bucket("charge", "WS_CHARGE", 0, "300")),
        paid="200",
        advance=True,
        head="WS_ADVANCE_CARRYFORWARD",
    )
    assert result.adjusted_amount("adv") == D("-100.00")
    assert result.adjusted_amount("charge") == D("300.00")
    assert [(p.key, p.amount_paid) for p in result.periods] == [("p1", D("-100.00")), ("p2", D("300.00"))]
    assert result.advance is None


def test_advance_larger_than_dues_is_released_partly():
    # Bill total is 0 here only if the payment is 0; pay 100 against 300 of dues and 500 of advance.
    result = pay(
        period("p1", FY2020, bucket("adv", "WS_ADVANCE_CARRYFORWARD", 0, "-500", advance=True)),
        period("p2", FY2021, bucket("charge", "WS_CHARGE", 0, "300")),
        paid="100",
        advance=True,
        head="WS_ADVANCE_CARRYFORWARD",
    )
    # 300 of the advance pays the charge; the whole payment is overpayment and becomes new advance.
    assert result.adjusted_amount("adv") == D("-300.00")
    assert result.adjusted_amount("charge") == D("300.00")
    assert result.advance == AdvanceCredit("p2", "WS_ADVANCE_CARRYFORWARD", D("100.00"), None)


def test_advance_in_the_same_period_as_unpaid_dues_is_fully_used():
    # The reference caps the release by the positive *period* totals (300 here) and leaves 200 of dues
    # unpaid after a full payment; the net-dues cap releases the whole advance.
    result = pay(
        period(
            "p1",
            FY2020,
            bucket("c1", "WS_CHARGE", 0, "400"),
            bucket("adv", "WS_ADVANCE_CARRYFORWARD", 0, "-500", advance=True),
        ),
        period("p2", FY2021, bucket("c2", "WS_CHARGE", 0, "300")),
        paid="200",
        advance=True,
        head="WS_ADVANCE_CARRYFORWARD",
    )
    assert result.adjusted_amount("adv") == D("-500.00")
    assert result.adjusted_amount("c1") == D("400.00")
    assert result.adjusted_amount("c2") == D("300.00")
    assert result.advance is None


def test_advance_not_allowed_leaves_existing_advance_alone():
    result = pay(
        period("p1", FY2020, bucket("adv", "PT_ADVANCE_CARRYFORWARD", 0, "-100", advance=True)),
        period("p2", FY2021, bucket("tax", "PT_TAX", 3, "300")),
        paid="200",
    )
    assert result.adjusted_amount("adv") == D("0.00")
    assert result.adjusted_amount("tax") == D("200.00")


def test_a_head_named_advance_is_not_advance_unless_flagged():
    # FN.ADVANCE_PROVIDENT_FUND_TAX is a TAX head: the reference's substring match would skip a credit on it.
    result = pay(
        period(
            "p", FY2020, bucket("fund", "FN.ADVANCE_PROVIDENT_FUND_TAX", 1, "-10"), bucket("fee", "FN.FEE", 0, "50")
        ),
        paid="40",
    )
    assert result.adjusted_amount("fund") == D("-10.00")
    assert result.adjusted_amount("fee") == D("50.00")


def test_sub_cent_amounts_are_refused():
    with pytest.raises(ApportionError) as err:
        bucket("x", "PT_TAX", 3, "10.005")
    assert err.value.code == APPORTION_INVALID_AMOUNT
    with pytest.raises(ApportionError) as err:
        pay(period("p", FY2020, bucket("x", "PT_TAX", 3, "10")), paid="1.001")
    assert err.value.code == APPORTION_INVALID_AMOUNT


def test_amounts_are_normalised_to_two_places():
    assert bucket("x", "PT_TAX", 3, "10").amount.as_tuple().exponent == -2


def test_duplicate_line_keys_are_refused():
    with pytest.raises(ApportionError) as err:
        pay(
            period("p1", FY2019, bucket("same", "PT_TAX", 3, "10")),
            period("p2", FY2020, bucket("same", "PT_TAX", 3, "10")),
            paid="20",
        )
    assert err.value.code == APPORTION_DUPLICATE_KEY


def test_duplicate_period_keys_are_refused():
    with pytest.raises(ApportionError) as err:
        pay(
            period("p", FY2019, bucket("a", "PT_TAX", 3, "10")),
            period("p", FY2020, bucket("b", "PT_TAX", 3, "10")),
            paid="20",
        )
    assert err.value.code == APPORTION_DUPLICATE_KEY


def test_result_lookup_of_unknown_key_raises_key_error():
    result = pay(period("p", FY2020, bucket("a", "PT_TAX", 3, "10")), paid="10")
    with pytest.raises(KeyError):
        result.adjusted_amount("nope")
    with pytest.raises(KeyError):
        result.amount_paid("nope")


# --- demand-level: advance carry-forward -------------------------------------------------------------


def test_no_existing_advance_creates_the_demand_as_is():
    paid_up = demand("d-old", FY2020, line("c", "WS_CHARGE", 0, "100", "100"))
    new = demand("d-new", FY2021, line("n", "WS_CHARGE", 0, "100"))
    result = carry_forward_advance(existing_demands=[paid_up], new_demand=new)
    assert result.updates == ()
    assert result.moved_amount == D("0.00")
    assert result.collection_amount("n") is None


def test_fully_used_advance_line_does_not_take_part():
    used = demand("d-old", FY2020, line("adv", "WS_ADVANCE_CARRYFORWARD", 0, "-100", "-100", advance=True))
    new = demand("d-new", FY2021, line("n", "WS_CHARGE", 0, "100"))
    assert carry_forward_advance(existing_demands=[used], new_demand=new).updates == ()


def test_partly_consumed_advance_line_is_valid_and_gives_the_rest():
    # tax ≤ collection ≤ 0 is valid (DECISIONS [10]): -500 with -300 collected has 200 left.
    old = demand("d-old", FY2020, line("adv", "WS_ADVANCE_CARRYFORWARD", 0, "-500", "-300", advance=True))
    new = demand("d-new", FY2021, line("n", "WS_CHARGE", 0, "1000"))
    result = carry_forward_advance(existing_demands=[old], new_demand=new)
    assert result.collection_amount("adv") == D("-500.00")
    assert result.collection_amount("n") == D("200.00")
    assert result.moved_amount == D("200.00")


def test_carry_forward_nets_credits_of_the_new_demand():
    old = demand("d-old", FY2020, line("adv", "WS_ADVANCE_CARRYFORWARD", 0, "-1000", advance=True))
    new = demand(
        "d-new",
        FY2021,
        line("charge", "WS_CHARGE", 0, "300"),
        line("rebate", "WS_TIME_REBATE", 0, "-50"),
        line("interest", "WS_TIME_INTEREST", 1, "20"),
    )
    result = carry_forward_advance(existing_demands=[old], new_demand=new)
    assert result.moved_amount == D("270.00")
    assert [(u.line_key, u.adjusted_amount, u.collection_amount) for u in result.updates] == [
        ("adv", D("-270.00"), D("-270.00")),
        ("charge", D("300.00"), D("300.00")),
        ("rebate", D("-50.00"), D("-50.00")),
        ("interest", D("20.00"), D("20.00")),
    ]


def test_carry_forward_spreads_over_several_old_advances_oldest_first():
    a = demand("d-a", FY2019, line("adv-a", "WS_ADVANCE_CARRYFORWARD", 0, "-100", advance=True))
    b = demand("d-b", FY2020, line("adv-b", "WS_ADVANCE_CARRYFORWARD", 0, "-100", advance=True))
    skipped = demand("d-paid", FY2020, line("paid", "WS_CHARGE", 0, "70", "70"))
    new = demand("d-new", FY2021, line("n", "WS_CHARGE", 0, "150"))
    result = carry_forward_advance(existing_demands=[b, skipped, a], new_demand=new)
    assert [(u.demand_key, u.line_key, u.collection_amount) for u in result.updates] == [
        ("d-a", "adv-a", D("-100.00")),
        ("d-b", "adv-b", D("-50.00")),
        ("d-new", "n", D("150.00")),
    ]
    assert result.demand_keys == ("d-a", "d-b", "d-new")


def test_carry_forward_pays_old_dues_of_the_donor_first():
    # An amendment landed on the demand holding the advance: its own dues are older, so they go first.
    old = demand(
        "d-old",
        FY2020,
        line("old-penalty", "WS_TIME_PENALTY", 3, "80"),
        line("adv", "WS_ADVANCE_CARRYFORWARD", 0, "-100", advance=True),
    )
    new = demand("d-new", FY2021, line("n", "WS_CHARGE", 0, "500"))
    result = carry_forward_advance(existing_demands=[old], new_demand=new)
    assert result.collection_amount("old-penalty") == D("80.00")
    assert result.collection_amount("n") == D("20.00")
    assert result.moved_amount == D("100.00")


def test_carry_forward_onto_a_demand_without_net_dues_moves_nothing():
    old = demand("d-old", FY2020, line("adv", "WS_ADVANCE_CARRYFORWARD", 0, "-100", advance=True))
    new = demand("d-new", FY2021, line("c", "WS_CHARGE", 0, "50"), line("r", "WS_TIME_REBATE", 0, "-80"))
    result = carry_forward_advance(existing_demands=[old], new_demand=new)
    assert result.updates == ()
    assert result.moved_amount == D("0.00")


def test_carry_forward_exactly_matching_advance_settles_everything():
    old = demand("d-old", FY2020, line("adv", "WS_ADVANCE_CARRYFORWARD", 0, "-250", advance=True))
    new = demand("d-new", FY2021, line("c", "WS_CHARGE", 0, "300"), line("r", "WS_TIME_REBATE", 0, "-50"))
    result = carry_forward_advance(existing_demands=[old], new_demand=new)
    assert {u.line_key: u.collection_amount for u in result.updates} == {
        "adv": D("-250.00"),
        "c": D("300.00"),
        "r": D("-50.00"),
    }


@pytest.mark.parametrize(
    ("tax", "collected"),
    [("100", "120"), ("100", "-1"), ("-50", "-60"), ("-50", "10")],
)
def test_amount_rule_violations_are_refused(tax, collected):
    with pytest.raises(ApportionError) as err:
        line("x", "PT_TAX", 3, tax, collected)
    assert err.value.code == EG_DEMAND_DEATIL_INVALID


@pytest.mark.parametrize(
    ("tax", "collected"), [("100", "0"), ("100", "100"), ("-50", "0"), ("-50", "-20"), ("-50", "-50")]
)
def test_amount_rule_accepts_relaxed_negative_lines(tax, collected):
    assert line("x", "PT_TAX", 3, tax, collected).due == D(tax) - D(collected)


def test_carry_forward_refuses_duplicate_keys():
    old = demand("d", FY2020, line("adv", "WS_ADVANCE_CARRYFORWARD", 0, "-100", advance=True))
    new = demand("d", FY2021, line("n", "WS_CHARGE", 0, "100"))
    with pytest.raises(ApportionError) as err:
        carry_forward_advance(existing_demands=[old], new_demand=new)
    assert err.value.code == APPORTION_DUPLICATE_KEY
