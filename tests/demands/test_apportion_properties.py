"""Property tests (hypothesis) for the apportionment invariants. Deterministic: derandomized, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_project.money import ZERO, money_sum
from demands.domain import (
    ApportionError,
    ApportionRequest,
    ApportionResult,
    Bucket,
    DemandDues,
    DemandLine,
    Period,
    apportion_payment,
    carry_forward_advance,
)
from demands.errors import INVALID_PAYMENTDETAIL

PROPERTIES = settings(
    derandomize=True,
    database=None,
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

DATES = [datetime(year, 4, 1, tzinfo=UTC) for year in (2018, 2019, 2020, 2021)]
ADVANCE_HEAD = "WS_ADVANCE_CARRYFORWARD"


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    """Amounts in [low, high] cents, with round values and ties over-represented."""
    return st.one_of(
        st.sampled_from([c for c in (0, 5_000, 10_000, -5_000, 100) if low <= c <= high]),
        st.integers(min_value=low, max_value=high),
    ).map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def bills(draw: st.DrawFn) -> tuple[Period, ...]:
    periods = []
    for p in range(draw(st.integers(min_value=1, max_value=4))):
        buckets = []
        for b in range(draw(st.integers(min_value=0, max_value=5))):
            amount = draw(cents(-80_000, 200_000))
            advance = amount <= ZERO and draw(st.booleans())
            buckets.append(
                Bucket(
                    key=f"p{p}-b{b}",
                    tax_head_code=ADVANCE_HEAD if advance else f"HEAD_{b}",
                    order=draw(st.integers(min_value=0, max_value=4)),
                    amount=amount,
                    is_advance=advance,
                )
            )
        periods.append(Period(key=f"p{p}", period_from=draw(st.sampled_from(DATES)), buckets=tuple(buckets)))
    return tuple(periods)


@st.composite
def payments(draw: st.DrawFn) -> ApportionRequest:
    periods = draw(bills())
    total = money_sum(period.amount for period in periods)
    paid = draw(
        st.one_of(
            st.just(max(total, ZERO)),
            cents(0, 100_000),
            cents(0, max(int(total * 100), 0)),
            cents(1, 50_000).map(lambda extra: max(total, ZERO) + extra),
        )
    )
    return ApportionRequest(
        periods=periods,
        amount_paid=paid,
        advance_allowed=draw(st.booleans()),
        advance_tax_head=ADVANCE_HEAD,
    )


def _ordinary(bucket: Bucket) -> bool:
    return not bucket.is_unused_advance


def _apportioned(request: ApportionRequest) -> ApportionResult | None:
    """The result, or ``None`` when refused — and the only refusal expected here is an overpayment."""
    try:
        return apportion_payment(request)
    except ApportionError as err:
        code = err.code
    assert code == INVALID_PAYMENTDETAIL
    return None


@PROPERTIES
@given(payments())
def test_refused_exactly_when_overpaying_without_advance(request: ApportionRequest) -> None:
    refused = _apportioned(request) is None
    assert refused == (not request.advance_allowed and request.amount_paid > request.total_due)


@PROPERTIES
@given(payments())
def test_splits_sum_exactly_to_the_payment(request: ApportionRequest) -> None:
    result = _apportioned(request)
    if result is None:
        return
    assert money_sum(line.adjusted_amount for line in result.lines) + result.advance_amount == request.amount_paid
    assert money_sum(period.amount_paid for period in result.periods) == request.amount_paid
    for period in request.periods:
        assert result.amount_paid(period.key) == money_sum(result.adjusted_amount(b.key) for b in period.buckets) + (
            result.advance_amount if result.advance and result.advance.period_key == period.key else ZERO
        )
    for value in [line.adjusted_amount for line in result.lines] + [p.amount_paid for p in result.periods]:
        assert value.as_tuple().exponent == -2


@PROPERTIES
@given(payments())
def test_every_line_stays_within_its_due(request: ApportionRequest) -> None:
    result = _apportioned(request)
    if result is None:
        return
    for period in request.periods:
        for bucket in period.buckets:
            adjusted = result.adjusted_amount(bucket.key)
            if bucket.is_unused_advance:
                # advance is released, never overdrawn, and only when advance is allowed (or a zero bill)
                assert bucket.amount <= adjusted <= ZERO
                if adjusted != ZERO and not request.advance_allowed:
                    assert request.amount_paid == ZERO
                    assert request.total_due == ZERO
            elif bucket.amount >= ZERO:
                assert ZERO <= adjusted <= bucket.amount  # never beyond the due, never negative
            else:
                assert adjusted in (ZERO, bucket.amount)  # credits applied whole or not at all


@PROPERTIES
@given(payments())
def test_older_periods_are_settled_before_newer_ones_get_money(request: ApportionRequest) -> None:
    result = _apportioned(request)
    if result is None:
        return
    by_key = {period.key: period for period in request.periods}
    ordered = [by_key[p.key] for p in result.periods]
    assert [p.period_from for p in ordered] == sorted(p.period_from for p in request.periods)
    for index, period in enumerate(ordered):
        received = any(result.adjusted_amount(b.key) != ZERO for b in period.buckets if _ordinary(b))
        if received:
            for older in ordered[:index]:
                for bucket in older.buckets:
                    if _ordinary(bucket):
                        assert result.adjusted_amount(bucket.key) == bucket.amount


@PROPERTIES
@given(payments())
def test_within_a_period_smaller_dues_are_settled_first(request: ApportionRequest) -> None:
    result = _apportioned(request)
    if result is None:
        return
    for period in request.periods:
        dues = sorted(
            (b for b in period.buckets if _ordinary(b) and b.amount > ZERO), key=lambda b: (b.amount, b.order)
        )
        for later_index, later in enumerate(dues):
            if result.adjusted_amount(later.key) > ZERO:
                for earlier in dues[:later_index]:
                    assert result.adjusted_amount(earlier.key) == earlier.amount
        if any(result.adjusted_amount(b.key) > ZERO for b in dues):
            for credit in period.buckets:
                if _ordinary(credit) and credit.amount < ZERO:
                    assert result.adjusted_amount(credit.key) == credit.amount


@PROPERTIES
@given(payments())
def test_advance_credit_only_for_real_overpayment(request: ApportionRequest) -> None:
    result = _apportioned(request)
    if result is None or result.advance is None:
        return
    assert request.advance_allowed
    assert ZERO < result.advance.amount <= request.amount_paid - request.total_due
    latest = max(request.periods, key=lambda period: period.period_from)
    assert result.advance.period_key == result.periods[-1].key
    assert result.periods[-1].key in {p.key for p in request.periods if p.period_from == latest.period_from}


@PROPERTIES
@given(payments())
def test_full_payment_without_credits_or_advance_settles_everything(request: ApportionRequest) -> None:
    if any(b.amount < ZERO for p in request.periods for b in p.buckets):
        return
    full = ApportionRequest(
        periods=request.periods, amount_paid=request.total_due, advance_allowed=False, advance_tax_head=None
    )
    result = apportion_payment(full)
    for period in request.periods:
        for bucket in period.buckets:
            assert result.adjusted_amount(bucket.key) == bucket.amount


@PROPERTIES
@given(payments())
def test_input_order_of_periods_with_distinct_starts_does_not_matter(request: ApportionRequest) -> None:
    starts = [period.period_from for period in request.periods]
    if len(set(starts)) != len(starts):
        return
    reversed_request = ApportionRequest(
        periods=tuple(reversed(request.periods)),
        amount_paid=request.amount_paid,
        advance_allowed=request.advance_allowed,
        advance_tax_head=request.advance_tax_head,
    )
    assert _apportioned(request) == _apportioned(reversed_request)


# --- advance carry-forward ---------------------------------------------------------------------------


@st.composite
def demand_lines(draw: st.DrawFn, prefix: str) -> tuple[DemandLine, ...]:
    lines = []
    for index in range(draw(st.integers(min_value=0, max_value=4))):
        tax = draw(cents(-60_000, 150_000))
        advance = tax < ZERO and draw(st.booleans())
        low, high = (tax, ZERO) if tax < ZERO else (ZERO, tax)
        collected = draw(
            st.one_of(
                st.just(ZERO),
                st.just(tax),
                st.integers(min_value=int(low * 100), max_value=int(high * 100)).map(lambda c: Decimal(c).scaleb(-2)),
            )
        )
        lines.append(
            DemandLine(
                key=f"{prefix}-l{index}",
                tax_head_code=ADVANCE_HEAD if advance else f"HEAD_{index}",
                order=draw(st.integers(min_value=0, max_value=4)),
                tax_amount=tax,
                collection_amount=collected,
                is_advance=advance,
            )
        )
    return tuple(lines)


@st.composite
def advance_lines(draw: st.DrawFn, key: str) -> tuple[DemandLine, ...]:
    """Usually one advance line, with some (or all) of its credit unused."""
    if not draw(st.integers(min_value=0, max_value=3)):
        return ()
    tax = draw(cents(-80_000, -1))
    collected = draw(st.one_of(st.just(ZERO), cents(int(tax * 100), 0)))
    return (
        DemandLine(
            key=key, tax_head_code=ADVANCE_HEAD, order=0, tax_amount=tax, collection_amount=collected, is_advance=True
        ),
    )


@st.composite
def carry_forwards(draw: st.DrawFn) -> tuple[list[DemandDues], DemandDues]:
    existing = [
        DemandDues(
            key=f"d{i}",
            period_from=draw(st.sampled_from(DATES[:3])),
            lines=draw(demand_lines(f"d{i}")) + draw(advance_lines(f"d{i}-adv")),
        )
        for i in range(draw(st.integers(min_value=0, max_value=3)))
    ]
    new = DemandDues(key="new", period_from=draw(st.sampled_from(DATES)), lines=draw(demand_lines("new")))
    return existing, new


@PROPERTIES
@given(carry_forwards())
def test_carry_forward_moves_min_of_advance_and_net_dues_and_creates_nothing(
    case: tuple[list[DemandDues], DemandDues],
) -> None:
    existing, new = case
    result = carry_forward_advance(existing_demands=existing, new_demand=new)

    donors = [d for d in existing if d.has_unused_advance]
    if not donors:
        assert result.updates == ()
        assert result.moved_amount == ZERO
        return
    involved = [*donors, new]
    lines = {line.key: line for demand in involved for line in demand.lines}
    available = money_sum(ZERO - line.due for line in lines.values() if line.has_unused_advance)
    net_dues = money_sum(line.due for line in lines.values() if not line.has_unused_advance)
    assert result.moved_amount == min(available, max(net_dues, ZERO))

    # nothing from nothing: the collections only shift, onto existing lines, each line at most once
    assert money_sum(update.adjusted_amount for update in result.updates) == ZERO
    keys = [update.line_key for update in result.updates]
    assert len(keys) == len(set(keys))
    assert set(keys) <= set(lines)
    assert money_sum(u.adjusted_amount for u in result.updates if lines[u.line_key].has_unused_advance) == (
        ZERO - result.moved_amount
    )


@PROPERTIES
@given(carry_forwards())
def test_carry_forward_keeps_the_amount_rule_and_touches_only_participants(
    case: tuple[list[DemandDues], DemandDues],
) -> None:
    existing, new = case
    result = carry_forward_advance(existing_demands=existing, new_demand=new)
    participants = {d.key for d in existing if d.has_unused_advance} | {new.key}
    lines = {line.key: (demand.key, line) for demand in (*existing, new) for line in demand.lines}
    for update in result.updates:
        demand_key, line = lines[update.line_key]
        assert update.demand_key == demand_key
        assert demand_key in participants
        assert update.adjusted_amount != ZERO
        assert update.collection_amount == line.collection_amount + update.adjusted_amount
        # the updated line is still valid (DemandLine re-checks the amount rule)
        DemandLine(
            key=line.key,
            tax_head_code=line.tax_head_code,
            order=line.order,
            tax_amount=line.tax_amount,
            collection_amount=update.collection_amount,
            is_advance=line.is_advance,
        )
        if line.has_unused_advance:
            assert line.due <= update.adjusted_amount < ZERO
        elif line.due > ZERO:
            assert ZERO < update.adjusted_amount <= line.due
        else:
            assert update.adjusted_amount == line.due
