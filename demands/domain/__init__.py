"""Pure money logic of the demands app: apportionment and advance carry-forward (no Django, no I/O)."""

from .advance import (
    EG_DEMAND_DEATIL_INVALID,
    CarryForwardResult,
    CollectionUpdate,
    DemandDues,
    DemandLine,
    carry_forward_advance,
)
from .apportion import (
    APPORTION_DUPLICATE_KEY,
    APPORTION_INVALID_AMOUNT,
    INVALID_BILL,
    INVALID_PAYMENTDETAIL,
    NO_TAXHEAD_FOUND,
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
    "APPORTION_DUPLICATE_KEY",
    "APPORTION_INVALID_AMOUNT",
    "EG_DEMAND_DEATIL_INVALID",
    "INVALID_BILL",
    "INVALID_PAYMENTDETAIL",
    "NO_TAXHEAD_FOUND",
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
