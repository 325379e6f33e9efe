"""Pure money logic of the payments app: the write-back of an apportioned payment to demand lines.

No Django, no clock, no I/O (the apportionment itself is ``demands.domain.apportion``).
"""

from .writeback import (
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

__all__ = [
    "AdvanceKept",
    "DemandLineState",
    "HeadPayment",
    "LineDelta",
    "WriteBackError",
    "amount_rule_holds",
    "apply_deltas",
    "distribute_head",
    "is_payment_completed",
    "is_payment_completed_after_reversal",
    "plan_writeback",
    "reverse_deltas",
]
