"""What a gateway says about a transaction (a *verdict*) and what applying it did (its *outcome*).

``verdict_decide`` is the rule every source of verdicts goes through (callback, poll, reconciliation, direct
charge, settlement import): a final state never changes, stale and out-of-order verdicts are ignored, and a
verdict whose amount, currency or gateway id does not match ours is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

PENDING = "PENDING"
SUCCESS = "SUCCESS"
FAILURE = "FAILURE"
FINAL_STATUSES = frozenset({SUCCESS, FAILURE})
VERDICT_STATUSES = frozenset({PENDING, SUCCESS, FAILURE})

APPLIED: Literal["applied"] = "applied"
DUPLICATE: Literal["duplicate"] = "duplicate"
STALE: Literal["stale"] = "stale"
REJECTED: Literal["rejected"] = "rejected"
Result = Literal["applied", "duplicate", "stale", "rejected"]

# Reasons of a rejected verdict.
AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
GATEWAY_ID_MISMATCH = "GATEWAY_ID_MISMATCH"
CONFLICTING_FINAL_VERDICT = "CONFLICTING_FINAL_VERDICT"
INVALID_STATUS = "INVALID_STATUS"


@dataclass(frozen=True)
class GatewayVerdict:
    """The gateway's word on one transaction: ``status`` PENDING, SUCCESS or FAILURE.

    ``amount`` None and ``currency`` "" mean "not stated" (not checked); ``sequence`` None means the source has
    no ordering (a status query), ``decline`` is HARD or SOFT for a FAILURE when the gateway says so.
    """

    status: str
    amount: Decimal | None
    gateway_transaction_id: str
    failure_code: str = ""
    sequence: int | None = None
    occurred_at: dt.datetime | None = None
    decline: str = ""
    currency: str = ""


@dataclass(frozen=True)
class VerdictOutcome:
    """What ``gateway_verdict_apply`` did: ``result`` applied / duplicate / stale / rejected, and why.

    ``status`` is the transaction's status afterwards; ``payment_id`` the Payment recorded for it (if any);
    ``needs_attention`` whether the transaction is in the reconciliation queue afterwards.
    """

    result: Result
    reason: str
    status: str
    payment_id: str | None = None
    needs_attention: bool = False


@dataclass(frozen=True)
class Decision:
    result: Result
    reason: str


def verdict_decide(
    *,
    current_status: str,
    last_sequence: int,
    gateway_transaction_id: str | None,
    amount: Decimal,
    currency: str,
    verdict: GatewayVerdict,
) -> Decision:
    """Whether ``verdict`` moves a transaction in ``current_status`` (INITIATED, PENDING, UNKNOWN, SUCCESS,
    FAILURE) that has seen callbacks up to ``last_sequence``, for ``amount`` in ``currency``."""
    if verdict.status not in VERDICT_STATUSES:
        return Decision(REJECTED, INVALID_STATUS)
    if (
        gateway_transaction_id
        and verdict.gateway_transaction_id
        and verdict.gateway_transaction_id != (gateway_transaction_id)
    ):
        return Decision(REJECTED, GATEWAY_ID_MISMATCH)
    if verdict.amount is not None and verdict.amount != amount:
        return Decision(REJECTED, AMOUNT_MISMATCH)
    if verdict.currency and verdict.currency.strip().upper() != currency.strip().upper():
        return Decision(REJECTED, CURRENCY_MISMATCH)
    if current_status in FINAL_STATUSES:
        if verdict.status == current_status:
            return Decision(DUPLICATE, f"already {current_status}")
        if verdict.status == PENDING:
            return Decision(STALE, f"PENDING after the final {current_status}")
        return Decision(REJECTED, CONFLICTING_FINAL_VERDICT)
    if verdict.status in FINAL_STATUSES:
        return Decision(APPLIED, verdict.status)
    # A PENDING verdict for an open transaction.
    if verdict.sequence is not None and verdict.sequence <= last_sequence:
        return Decision(STALE, f"sequence {verdict.sequence} already seen (last {last_sequence})")
    if current_status == PENDING:
        return Decision(DUPLICATE, "already PENDING")
    return Decision(APPLIED, PENDING)
