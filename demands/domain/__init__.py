"""Pure money logic of the demands app: apportionment and advance carry-forward (no Django, no I/O)."""

from .advance import (
    CarryForwardResult,
    CollectionUpdate,
    DemandDues,
    DemandLine,
    carry_forward_advance,
)
from .apportion import (
    AdjustedLine,
    AdvanceCredit,
    ApportionError,
    ApportionRequest,
    ApportionResult,
    Bucket,
    Period,
    PeriodPayment,
    apportion_payment,
)

__all__ = [
    "AdjustedLine",
    "AdvanceCredit",
    "ApportionError",
    "ApportionRequest",
    "ApportionResult",
    "Bucket",
    "CarryForwardResult",
    "CollectionUpdate",
    "DemandDues",
    "DemandLine",
    "Period",
    "PeriodPayment",
    "apportion_payment",
    "carry_forward_advance",
]
