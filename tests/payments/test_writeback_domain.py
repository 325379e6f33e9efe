"""The pure write-back (payments/domain/writeback.py): examples of reference §7.9 step 5b and §14, and properties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_project.money import ZERO, money_sum
from demands.domain.apportion import ApportionRequest, Bucket, Period, apportion_payment
from payments.domain import (
    AdvanceKept,
    DemandLineState,
    HeadPayment,
    LineDelta,
    WriteBackError,
    amount_rule_holds,
    apply_deltas,
    distribute_head,
    is_payment_completed,
    is_payment_completed_after_reversal,
    plan_writeback,
    reverse_deltas,
)
from payments.errors import PAYMENT_REVERSAL_CONFLICT, PAYMENT_WRITEBACK_INVALID

D = Decimal


def state(key: str, head: str, tax: str, collection: str = "0") -> DemandLineState:
    return DemandLineState(key, head, D(tax), D(collection))


def summary(lines: tuple[DemandLineState, ...]) -> list[tuple[str, Decimal, Decimal]]:
    return [(line.key, line.tax_amount, line.collection_amount) for line in lines]


def test_reference_14_2_one_line_per_head_takes_the_whole_adjusted_amount():
    lines = [
        state("tax", "PT_TAX", "1000"),
        state("cess", "PT_FIRE_CESS", "100"),
        state("interest", "PT_TIME_INTEREST", "50"),
        state("rebate", "PT_TIME_REBATE", "-100"),
    ]
    heads = [
        HeadPayment("PT_TAX", D("550")),
        HeadPayment("PT_FIRE_CESS", D("100")),
        HeadPayment("PT_TIME_INTEREST", D("50")),
        HeadPayment("PT_TIME_REBATE", D("-100")),
    ]
    deltas = plan_writeback(lines, heads)
    assert deltas == (
        LineDelta("tax", "PT_TAX", D("550.00")),
        LineDelta("cess", "PT_FIRE_CESS", D("100.00")),
        LineDelta("interest", "PT_TIME_INTEREST", D("50.00")),
        LineDelta("rebate", "PT_TIME_REBATE", D("-100.00")),
    )
    after = apply_deltas(lines, deltas)
    assert summary(after) == [
        ("tax", D("1000.00"), D("550.00")),
        ("cess", D("100.00"), D("100.00")),
        ("interest", D("50.00"), D("50.00")),
        ("rebate", D("-100.00"), D("-100.00")),
    ]
    assert not is_payment_completed(after)


def test_several_lines_of_one_head_are_filled_smallest_tax_first_with_credits_applied_whole():
    lines = [
        state("i20", "PT_TIME_INTEREST", "20"),
        state("i5", "PT_TIME_INTEREST", "5"),
        state("c3", "PT_TIME_INTEREST", "-3"),
        state("i8", "PT_TIME_INTEREST", "8", "2"),
    ]
    # due = 20 + 5 - 3 + 6 = 28; pay 10 of it: the credit -3 whole, then 13 over the dues 5, 6 (tax 8), 20.
    assert distribute_head(lines, D("10")) == {"c3": D("-3.00"), "i5": D("5.00"), "i8": D("6.00"), "i20": D("2.00")}


def test_a_head_paid_in_full_settles_every_line_and_a_zero_amount_leaves_the_lines_alone():
    lines = [state("a", "H", "20"), state("b", "H", "-5")]
    assert distribute_head(lines, D("15")) == {"a": D("20.00"), "b": D("-5.00")}
    assert distribute_head(lines, D("0")) == {}
    zero_head = [state("a", "H", "100"), state("b", "H", "-100")]
    assert distribute_head(zero_head, D("0")) == {"a": D("100.00"), "b": D("-100.00")}


def test_a_partly_released_advance_takes_the_most_negative_advance_line_first():
    lines = [state("old", "ADV", "-100"), state("big", "ADV", "-500", "-300")]
    # dues -100 and -200; release 250: the line with the smaller tax (-500) first.
    assert distribute_head(lines, D("-250")) == {"big": D("-200.00"), "old": D("-50.00")}


def test_an_adjusted_amount_beyond_what_the_lines_can_take_is_refused():
    with pytest.raises(WriteBackError) as error:
        distribute_head([state("a", "H", "100", "40")], D("61"))
    assert error.value.code == PAYMENT_WRITEBACK_INVALID
    with pytest.raises(WriteBackError):
        distribute_head([state("a", "H", "-100")], D("-101"))


def test_a_payment_on_a_head_the_demand_does_not_have_is_refused():
    with pytest.raises(WriteBackError) as error:
        plan_writeback([state("a", "PT_TAX", "100")], [HeadPayment("PT_FIRE_CESS", D("10"))])
    assert error.value.code == PAYMENT_WRITEBACK_INVALID
    assert plan_writeback([state("a", "PT_TAX", "100")], [HeadPayment("PT_FIRE_CESS", D("0"))]) == ()


def test_reference_14_4_overpayment_creates_a_new_advance_line():
    lines = [state("charge", "WS_CHARGE", "1000")]
    deltas = plan_writeback(
        lines,
        [HeadPayment("WS_CHARGE", D("1000"))],
        advance=AdvanceKept("WS_ADVANCE_CARRYFORWARD", D("200"), onto_existing_line=False),
        new_line_key="new",
    )
    assert deltas == (
        LineDelta("charge", "WS_CHARGE", D("1000.00")),
        LineDelta("new", "WS_ADVANCE_CARRYFORWARD", ZERO, D("-200.00"), created=True),
    )
    after = apply_deltas(lines, deltas)
    assert summary(after) == [("charge", D("1000.00"), D("1000.00")), ("new", D("-200.00"), D("0.00"))]
    assert not is_payment_completed(after)  # Σtax 800 ≠ Σcollection 1000


def test_advance_onto_an_existing_line_lowers_its_tax_after_its_release():
    lines = [state("charge", "WS_CHARGE", "300"), state("adv", "WS_ADVANCE_CARRYFORWARD", "-500", "-300")]
    # The old advance (-200 left) is released, then 100 more than due is kept on the same line.
    deltas = plan_writeback(
        lines,
        [HeadPayment("WS_CHARGE", D("300")), HeadPayment("WS_ADVANCE_CARRYFORWARD", D("-200"))],
        advance=AdvanceKept("WS_ADVANCE_CARRYFORWARD", D("100"), onto_existing_line=True),
        new_line_key="unused",
    )
    assert deltas == (
        LineDelta("charge", "WS_CHARGE", D("300.00")),
        LineDelta("adv", "WS_ADVANCE_CARRYFORWARD", D("-200.00"), D("-100.00")),
    )
    assert summary(apply_deltas(lines, deltas)) == [
        ("charge", D("300.00"), D("300.00")),
        ("adv", D("-600.00"), D("-500.00")),
    ]


def test_advance_onto_an_existing_head_without_a_credit_line_creates_a_line():
    lines = [state("charge", "WS_CHARGE", "100"), state("adv", "WS_ADVANCE_CARRYFORWARD", "50", "50")]
    deltas = plan_writeback(
        lines,
        [HeadPayment("WS_CHARGE", D("100"))],
        advance=AdvanceKept("WS_ADVANCE_CARRYFORWARD", D("10"), onto_existing_line=True),
        new_line_key="new",
    )
    assert deltas[-1] == LineDelta("new", "WS_ADVANCE_CARRYFORWARD", ZERO, D("-10.00"), created=True)


def test_a_new_advance_line_needs_a_free_key():
    advance = AdvanceKept("ADV", D("5"), onto_existing_line=False)
    with pytest.raises(WriteBackError):
        plan_writeback([state("a", "H", "10")], [HeadPayment("H", D("10"))], advance=advance)
    with pytest.raises(WriteBackError):
        plan_writeback([state("a", "H", "10")], [HeadPayment("H", D("10"))], advance=advance, new_line_key="a")


def test_reversal_restores_existing_lines_and_leaves_a_created_line_at_zero():
    lines = [state("charge", "WS_CHARGE", "1000")]
    deltas = plan_writeback(
        lines,
        [HeadPayment("WS_CHARGE", D("1000"))],
        advance=AdvanceKept("ADV", D("200"), onto_existing_line=False),
        new_line_key="new",
    )
    restored = apply_deltas(apply_deltas(lines, deltas), reverse_deltas(deltas))
    assert summary(restored) == [("charge", D("1000.00"), D("0.00")), ("new", D("0.00"), D("0.00"))]


def test_a_reversal_that_would_break_the_amount_rule_is_refused():
    # The advance line a payment created was since collected by a carry-forward (-150 of -200).
    created = LineDelta("adv", "ADV", ZERO, D("-200"))
    now = [state("adv", "ADV", "-200", "-150")]
    with pytest.raises(WriteBackError) as error:
        apply_deltas(now, reverse_deltas([created]), code=PAYMENT_REVERSAL_CONFLICT)
    assert error.value.code == PAYMENT_REVERSAL_CONFLICT


def test_completion_after_a_reversal_needs_something_collected():
    zero_demand = [state("tax", "PT_TAX", "100"), state("exemption", "PT_OWNER_EXEMPTION", "-100")]
    assert is_payment_completed(zero_demand)  # Σtax 0 == Σcollection 0
    assert not is_payment_completed_after_reversal(zero_demand)  # its zero payment was reversed: open again
    settled = [state("tax", "PT_TAX", "100", "100"), state("exemption", "PT_OWNER_EXEMPTION", "-100", "-100")]
    assert is_payment_completed_after_reversal(settled)
    assert not is_payment_completed_after_reversal([state("tax", "PT_TAX", "100", "40")])


def test_amounts_must_be_exact_to_the_cent():
    with pytest.raises(WriteBackError):
        state("a", "H", "10.001")
    with pytest.raises(WriteBackError):
        HeadPayment("H", D("0.005"))
    with pytest.raises(WriteBackError):
        AdvanceKept("ADV", D("0"), onto_existing_line=False)


# --- properties -------------------------------------------------------------------------------

cents = st.integers(min_value=1, max_value=200_000)
HEADS = ("H_A", "H_B", "H_C")


@st.composite
def demand_lines(draw: st.DrawFn) -> list[DemandLineState]:
    """1–6 lines over up to three heads: charges partly collected, credits partly collected (valid lines)."""
    count = draw(st.integers(min_value=1, max_value=6))
    lines = []
    for index in range(count):
        tax = draw(cents) * draw(st.sampled_from((1, 1, -1)))
        share = draw(st.integers(min_value=0, max_value=100))
        collection = (tax * share) // 100 if tax > 0 else -((-tax * share) // 100)
        lines.append(
            DemandLineState(f"L{index}", draw(st.sampled_from(HEADS)), D(tax).scaleb(-2), D(collection).scaleb(-2))
        )
    return lines


@st.composite
def head_payments(draw: st.DrawFn, lines: list[DemandLineState]) -> list[HeadPayment]:
    """For each head, an adjusted amount the apportionment can produce: within [0, due] for a due, the whole
    credit or part of it (an advance release) for a credit."""
    payments = []
    for head in sorted({line.tax_head_code for line in lines}):
        due = money_sum(line.due for line in lines if line.tax_head_code == head)
        cents_due = int(due * 100)
        low, high = min(0, cents_due), max(0, cents_due)
        adjusted = draw(st.integers(min_value=low, max_value=high))
        payments.append(HeadPayment(head, D(adjusted).scaleb(-2)))
    return payments


@settings(derandomize=True, max_examples=300, deadline=None)
@given(data=st.data())
def test_property_deltas_sum_to_the_adjusted_amounts_and_never_over_collect(data: st.DataObject):
    lines = data.draw(demand_lines())
    heads = data.draw(head_payments(lines))
    advance = data.draw(
        st.none()
        | st.builds(
            AdvanceKept,
            st.just("H_A"),
            cents.map(lambda c: D(c).scaleb(-2)),
            st.booleans(),
        )
    )
    deltas = plan_writeback(lines, heads, advance=advance, new_line_key="NEW")

    assert money_sum(d.collection_delta for d in deltas) == money_sum(h.adjusted_amount for h in heads)
    kept = advance.amount if advance is not None else ZERO
    assert money_sum(d.tax_delta for d in deltas) == -kept
    for head in heads:
        of_head = [d for d in deltas if d.tax_head_code == head.tax_head_code and not d.created]
        assert money_sum(d.collection_delta for d in of_head) == head.adjusted_amount
    after = apply_deltas(lines, deltas)
    for line in after:
        assert amount_rule_holds(line.tax_amount, line.collection_amount)
        if line.tax_amount > ZERO:
            assert ZERO <= line.collection_amount <= line.tax_amount  # no positive line over-collected
        else:
            assert line.tax_amount <= line.collection_amount <= ZERO  # credits within [tax, 0]
    for before, delta_line in zip(lines, after, strict=False):
        # a charge's collection only grows, a credit's only shrinks (becomes more negative)
        if before.tax_amount > ZERO:
            assert delta_line.collection_amount >= before.collection_amount
        elif before.tax_amount < ZERO:
            assert delta_line.collection_amount <= before.collection_amount

    restored = apply_deltas(after, reverse_deltas(deltas))
    assert restored[: len(lines)] == tuple(lines)  # reverse(apply(x)) == x
    assert all(line.tax_amount == ZERO and line.collection_amount == ZERO for line in restored[len(lines) :])


@settings(derandomize=True, max_examples=200, deadline=None)
@given(lines=demand_lines(), paid_share=st.integers(min_value=0, max_value=150))
def test_property_apportion_then_write_back_applies_exactly_the_payment(lines: list[DemandLineState], paid_share: int):
    """The bill-level apportionment over the demand's heads, written back: Σ collections + advance == paid."""
    dues: dict[str, Decimal] = {}
    for line in lines:
        dues[line.tax_head_code] = money_sum([dues.get(line.tax_head_code, ZERO), line.due])
    total = money_sum(dues.values())
    if total < ZERO:
        return  # no bill is built for a credit balance
    paid = money_sum([(total * paid_share / 100).to_integral_value()])
    period = Period(
        key="P",
        period_from=dt.datetime(2024, 4, 1, tzinfo=dt.UTC),
        buckets=tuple(Bucket(key=head, tax_head_code=head, order=0, amount=due) for head, due in dues.items()),
    )
    result = apportion_payment(
        ApportionRequest(periods=(period,), amount_paid=paid, advance_allowed=True, advance_tax_head="H_ADV")
    )
    advance = (
        AdvanceKept(result.advance.tax_head_code, result.advance.amount, result.advance.line_key is not None)
        if result.advance is not None
        else None
    )
    deltas = plan_writeback(
        lines,
        [HeadPayment(line.tax_head_code, line.adjusted_amount) for line in result.lines],
        advance=advance,
        new_line_key="NEW",
    )
    collected = money_sum(d.collection_delta for d in deltas)
    assert money_sum([collected, result.advance_amount]) == paid
    after = apply_deltas(lines, deltas)
    if paid >= total:
        assert money_sum(line.tax_amount for line in after) == money_sum(
            [money_sum(line.collection_amount for line in after), -result.advance_amount]
        )
