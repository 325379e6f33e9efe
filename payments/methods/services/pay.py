"""``payment_method_pay``: pay a bill now with a saved payment method (review finding 3).

The gateway's REST input takes no token: a raw token from a client would let anyone charge any card whose token
they learnt (a revoked one too). Paying with a saved method goes through here, which checks what the gateway
cannot know (it sits below this app):

1. the method exists and the caller may act for its payer (``access.may_act_for``; otherwise not found, 404);
2. it is usable: ACTIVE, not flagged after a hard decline, not expired (``PAYMENT_METHOD_NOT_USABLE``, 409);
3. staff acting for the payer charge the card only for the payer's own bills (``PAYMENT_METHOD_NOT_FOR_BILL``,
   409); the payer may pay any bill she may pay online;

then calls ``gateway_payment_initiate`` with the method's token and id (the gateway checks the caller's role in
the bill's tenant and validates the payment like a counter payment). No transaction is open around the gateway
call (DESIGN rule 8).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from billing_project.errors import ConflictError, NotFound
from billing_project.uuids import uuid_or_none
from bills.models import Bill
from masters.access import Caller
from payments.gateway.models import GatewayTransaction
from payments.gateway.services import gateway_payment_initiate
from payments.methods.errors import PAYMENT_METHOD_NOT_FOR_BILL, PAYMENT_METHOD_NOT_FOUND
from payments.methods.models import PaymentMethod
from payments.methods.services.access import may_act_for
from payments.methods.services.mandates import check_usable


def payment_method_pay(
    *, caller: Caller, method_id: int | str, bill_id: uuid.UUID | str, amount: Decimal, at: dt.datetime
) -> GatewayTransaction:
    """Charge a saved payment method for ``amount`` of a bill; returns the gateway transaction as stored."""
    try:
        key = int(method_id)
    except (TypeError, ValueError):
        raise NotFound(PAYMENT_METHOD_NOT_FOUND, f"No payment method {method_id}") from None
    method = PaymentMethod.objects.select_related("payer", "payer__tenant").filter(pk=key).first()
    if method is None or not may_act_for(caller, method.payer):
        raise NotFound(PAYMENT_METHOD_NOT_FOUND, f"No payment method {method_id}")
    check_usable(method, at)
    own = caller.user_id is not None and method.payer.user_id == caller.user_id
    if not own and not caller.is_superuser:
        bill_key = uuid_or_none(bill_id)
        bill = Bill.objects.filter(pk=bill_key).values_list("payer_id").first() if bill_key else None
        if bill is not None and bill[0] != method.payer_id:  # an unknown bill: the gateway service says so
            raise ConflictError(
                PAYMENT_METHOD_NOT_FOR_BILL,
                f"Payment method {method.pk} pays only its payer's bills when staff charge it",
            )
    return gateway_payment_initiate(
        caller=caller,
        bill_id=bill_id,
        amount=amount,
        payment_method_token=method.gateway_token,
        payment_method_id=method.pk,
        at=at,
    )
