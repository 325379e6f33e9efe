"""Pure rules of the gateway: retry backoff (hypothesis), the polling schedule, verdict decisions, signatures."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.gateway.domain import signature
from payments.gateway.domain.polling import PollSchedule, next_poll_at, poll_delay
from payments.gateway.domain.retry import RetryPolicy, backoff_base, backoff_delay, retry_allowed
from payments.gateway.domain.verdicts import (
    AMOUNT_MISMATCH,
    CONFLICTING_FINAL_VERDICT,
    CURRENCY_MISMATCH,
    GATEWAY_ID_MISMATCH,
    INVALID_STATUS,
    Decision,
    GatewayVerdict,
    verdict_decide,
)

D = Decimal
policies = st.builds(
    RetryPolicy,
    attempts=st.integers(1, 20),
    base_seconds=st.floats(0, 1000, allow_nan=False),
    factor=st.floats(1, 10, allow_nan=False),
    cap_seconds=st.floats(0, 100_000, allow_nan=False),
    jitter=st.floats(0, 1, allow_nan=False),
)


class Fixed:
    """A deterministic random source: answers the given values in turn."""

    def __init__(self, *values: float) -> None:
        self.values = itertools.cycle(values)

    def __call__(self) -> float:
        return next(self.values)


@given(policies, st.integers(1, 200))
def test_backoff_base_is_bounded_by_the_cap(policy: RetryPolicy, retry: int) -> None:
    assert 0 <= backoff_base(policy, retry) <= policy.cap_seconds


@given(policies, st.integers(1, 200))
def test_backoff_base_never_decreases(policy: RetryPolicy, retry: int) -> None:
    assert backoff_base(policy, retry) <= backoff_base(policy, retry + 1)


@given(policies, st.integers(1, 200), st.floats(0, 1, allow_nan=False))
def test_jittered_delay_stays_within_its_range(policy: RetryPolicy, retry: int, draw: float) -> None:
    base = backoff_base(policy, retry)
    delay = backoff_delay(policy, retry, Fixed(draw))
    assert base * (1 - policy.jitter) - 1e-9 <= delay <= base + 1e-9
    assert delay <= policy.cap_seconds + 1e-9


@given(policies, st.integers(0, 50))
def test_retries_are_bounded_by_attempts(policy: RetryPolicy, made: int) -> None:
    assert retry_allowed(policy, made) is (made < policy.attempts)


def test_backoff_exact_values_with_an_injected_random_source() -> None:
    policy = RetryPolicy(attempts=5, base_seconds=60, factor=2, cap_seconds=600, jitter=0.5)
    assert [backoff_base(policy, n) for n in range(1, 7)] == [60, 120, 240, 480, 600, 600]
    source = Fixed(0.0, 1.0, 0.5)
    assert [backoff_delay(policy, n, source) for n in (1, 2, 3)] == [30.0, 120.0, 180.0]


def test_retry_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0, base_seconds=1, factor=2, cap_seconds=1, jitter=0)
    with pytest.raises(ValueError):
        RetryPolicy(attempts=1, base_seconds=1, factor=0.5, cap_seconds=1, jitter=0)
    with pytest.raises(ValueError):
        RetryPolicy(attempts=1, base_seconds=1, factor=2, cap_seconds=1, jitter=1.5)
    with pytest.raises(ValueError):
        backoff_delay(RetryPolicy(attempts=1, base_seconds=1, factor=2, cap_seconds=1, jitter=0), 1, Fixed(2.0))


SCHEDULE = PollSchedule(delays=(300, 900, 3600, 21600, 86400), max_polls=10, max_age=dt.timedelta(days=7))
T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)


def test_poll_delays_follow_the_schedule_then_repeat_daily() -> None:
    assert [poll_delay(SCHEDULE, n).total_seconds() for n in range(7)] == [
        300,
        900,
        3600,
        21600,
        86400,
        86400,
        86400,
    ]


def test_next_poll_is_none_after_max_polls_or_max_age() -> None:
    assert next_poll_at(SCHEDULE, polls_done=1, created_at=T0, at=T0) == T0 + dt.timedelta(minutes=15)
    assert next_poll_at(SCHEDULE, polls_done=10, created_at=T0, at=T0) is None
    late = T0 + dt.timedelta(days=6, hours=1)
    assert next_poll_at(SCHEDULE, polls_done=5, created_at=T0, at=late) is None  # +1 day passes 7 days
    assert next_poll_at(SCHEDULE, polls_done=3, created_at=T0, at=late) == late + dt.timedelta(hours=6)


def verdict(
    status: str, amount: str | None = "1100.00", gateway_id: str = "txn_1", seq: int | None = None, currency: str = ""
) -> GatewayVerdict:
    return GatewayVerdict(
        status=status,
        amount=None if amount is None else D(amount),
        gateway_transaction_id=gateway_id,
        sequence=seq,
        currency=currency,
    )


def decide(current: str, v: GatewayVerdict, *, last: int = 0, gateway_id: str | None = "txn_1") -> Decision:
    return verdict_decide(
        current_status=current,
        last_sequence=last,
        gateway_transaction_id=gateway_id,
        amount=D("1100.00"),
        currency="INR",
        verdict=v,
    )


@pytest.mark.parametrize(
    ("current", "v", "last", "expected"),
    [
        ("PENDING", verdict("SUCCESS"), 0, Decision("applied", "SUCCESS")),
        ("UNKNOWN", verdict("FAILURE"), 0, Decision("applied", "FAILURE")),
        ("INITIATED", verdict("PENDING", seq=1), 0, Decision("applied", "PENDING")),
        ("PENDING", verdict("PENDING", seq=3), 1, Decision("duplicate", "already PENDING")),
        ("PENDING", verdict("PENDING", seq=1), 2, Decision("stale", "sequence 1 already seen (last 2)")),
        ("SUCCESS", verdict("SUCCESS"), 2, Decision("duplicate", "already SUCCESS")),
        ("SUCCESS", verdict("PENDING", seq=1), 2, Decision("stale", "PENDING after the final SUCCESS")),
        ("FAILURE", verdict("SUCCESS"), 2, Decision("rejected", CONFLICTING_FINAL_VERDICT)),
        ("PENDING", verdict("SUCCESS", amount="1000.00"), 0, Decision("rejected", AMOUNT_MISMATCH)),
        ("PENDING", verdict("SUCCESS", currency="USD"), 0, Decision("rejected", CURRENCY_MISMATCH)),
        ("SUCCESS", verdict("SUCCESS", currency="USD"), 0, Decision("rejected", CURRENCY_MISMATCH)),
        ("PENDING", verdict("SUCCESS", currency="inr"), 0, Decision("applied", "SUCCESS")),
        ("PENDING", verdict("SUCCESS", currency=""), 0, Decision("applied", "SUCCESS")),
        ("PENDING", verdict("SUCCESS", gateway_id="txn_2"), 0, Decision("rejected", GATEWAY_ID_MISMATCH)),
        ("PENDING", verdict("REFUNDED"), 0, Decision("rejected", INVALID_STATUS)),
        ("PENDING", verdict("SUCCESS", amount=None), 0, Decision("applied", "SUCCESS")),
    ],
)
def test_verdict_decisions(current: str, v: GatewayVerdict, last: int, expected: Decision) -> None:
    assert decide(current, v, last=last) == expected


def test_a_verdict_for_a_transaction_without_gateway_id_is_not_an_id_mismatch() -> None:
    assert decide("UNKNOWN", verdict("SUCCESS", gateway_id="txn_9"), gateway_id=None) == Decision("applied", "SUCCESS")


BODY = b'{"status": "SUCCESS", "amount": "1100.00"}'


def test_signature_round_trip_and_every_refusal() -> None:
    header = signature.signature_header("s3cret", 1_714_557_600, BODY)
    assert header.startswith("t=1714557600,v1=")
    ok = {"secret": "s3cret", "body": BODY, "now": 1_714_557_600 + 300, "tolerance": 300}
    assert signature.signature_problem(header=header, **ok) is None
    assert signature.signature_problem(header=None, **ok) == signature.MISSING
    assert signature.signature_problem(header="garbage", **ok) == signature.MALFORMED
    assert signature.signature_problem(header="t=abc,v1=00", **ok) == signature.MALFORMED
    # Unicode digits pass str.isdigit() but are not a timestamp (int("\xb2") raises): MALFORMED, never a crash.
    for stamp in ("\xb2", "\u0661\u0662", "\uff11", "1" * 13, "+1", " 1", "-1"):
        assert signature.signature_problem(header=f"t={stamp},v1=00", **ok) == signature.MALFORMED, stamp
    tampered = {**ok, "body": BODY.replace(b"1100", b"9100")}
    assert signature.signature_problem(header=header, **tampered) == signature.MISMATCH
    assert signature.signature_problem(header=header, **{**ok, "secret": "other"}) == signature.MISMATCH
    assert signature.signature_problem(header=header, **{**ok, "now": 1_714_557_600 + 301}) == signature.EXPIRED
    assert signature.signature_problem(header=header, **{**ok, "now": 1_714_557_600 - 301}) == signature.EXPIRED


verdicts = st.lists(
    st.builds(
        GatewayVerdict,
        status=st.sampled_from(["PENDING", "SUCCESS", "FAILURE"]),
        amount=st.sampled_from([D("1100.00"), D("1100.00"), D("1000.00"), None]),
        gateway_transaction_id=st.sampled_from(["txn_1", "txn_1", "txn_2", ""]),
        sequence=st.one_of(st.none(), st.integers(1, 6)),
    ),
    max_size=12,
)


@given(verdicts)
def test_any_stream_of_verdicts_settles_once_on_the_first_acceptable_final(stream: list[GatewayVerdict]) -> None:
    """Duplicated, reordered and mismatching verdicts: the status changes to a final one at most once, to the
    first final verdict whose amount and id match, and never again (so at most one Payment is recorded)."""
    status, last = "PENDING", 0
    finals_applied = 0
    expected = next(
        (
            v.status
            for v in stream
            if v.status != "PENDING"
            and (v.amount is None or v.amount == D("1100.00"))
            and v.gateway_transaction_id in ("txn_1", "")
        ),
        None,
    )
    for v in stream:
        decision = decide(status, v, last=last)
        if v.sequence is not None and decision.result != "rejected":
            last = max(last, v.sequence)
        if decision.result == "applied":
            if v.status != "PENDING":
                finals_applied += 1
            status = v.status
    assert finals_applied <= 1
    assert status == (expected or "PENDING")
