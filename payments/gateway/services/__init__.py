"""Writes of the gateway integration (``docs/payment-gateway.md``).

- ``initiate``: ``gateway_payment_initiate`` (checkout or token charge for a bill)
- ``verdict``: ``gateway_verdict_apply`` — the one path that settles a transaction (and records its Payment)
- ``poll``: ``gateway_transaction_poll``, ``gateway_transactions_poll_due``, ``gateway_reconcile``,
  ``gateway_transaction_reconcile`` (one transaction, for a person)
- ``refund``: ``gateway_refund`` (and ``gateway_refund_send``, the re-sendable call)
- ``callbacks``: ``gateway_callback_receive`` (the callback endpoint's service)
- ``calls``: every gateway call, retried in place and recorded as a ``GatewayAttempt``
- ``schedule``: next poll times after a poll or a transient failure
"""

from payments.gateway.domain.verdicts import GatewayVerdict, VerdictOutcome
from payments.gateway.services.callbacks import CallbackResult, gateway_callback_receive
from payments.gateway.services.initiate import gateway_payment_initiate
from payments.gateway.services.poll import (
    ReconcileReport,
    gateway_reconcile,
    gateway_transaction_poll,
    gateway_transaction_reconcile,
    gateway_transactions_poll_due,
)
from payments.gateway.services.refund import gateway_refund, gateway_refund_send
from payments.gateway.services.verdict import (
    SOURCE_CALLBACK,
    SOURCE_CHARGE,
    SOURCE_INITIATE,
    SOURCE_POLL,
    SOURCE_RECONCILE,
    SOURCE_SETTLEMENT,
    gateway_verdict_apply,
)

__all__ = [
    "SOURCE_CALLBACK",
    "SOURCE_CHARGE",
    "SOURCE_INITIATE",
    "SOURCE_POLL",
    "SOURCE_RECONCILE",
    "SOURCE_SETTLEMENT",
    "CallbackResult",
    "GatewayVerdict",
    "ReconcileReport",
    "VerdictOutcome",
    "gateway_callback_receive",
    "gateway_payment_initiate",
    "gateway_reconcile",
    "gateway_refund",
    "gateway_refund_send",
    "gateway_transaction_poll",
    "gateway_transaction_reconcile",
    "gateway_transactions_poll_due",
    "gateway_verdict_apply",
]
