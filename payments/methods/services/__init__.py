"""Writes of payment methods and autopay.

- ``errors``: the error codes (``PAYMENT_METHOD_*``, ``AUTOPAY_*``)
- ``access``: who may act for a payer
- ``methods``: ``payment_method_register`` / ``_revoke`` / ``_set_default``, ``payment_methods_expire``
- ``mandates``: ``autopay_mandate_create`` (opt in) / ``autopay_mandate_revoke`` (opt out)
- ``pay``: ``payment_method_pay`` — pay a bill now with a saved method (owner and status checked)
- ``schedule``: ``autopay_schedule_due`` — one charge per new bill of a mandated consumer
- ``charge``: ``autopay_charge_run``, ``autopay_retries_due``, ``autopay_charges_sync``,
  ``autopay_charge_retry_now``, ``autopay_charge_resolve`` — the gateway charge, its outcome and the retry schedule
"""

from payments.methods.services.charge import (
    autopay_charge_resolve,
    autopay_charge_retry_now,
    autopay_charge_run,
    autopay_charges_sync,
    autopay_retries_due,
)
from payments.methods.services.mandates import autopay_mandate_create, autopay_mandate_revoke
from payments.methods.services.methods import (
    payment_method_register,
    payment_method_revoke,
    payment_method_set_default,
    payment_methods_expire,
)
from payments.methods.services.pay import payment_method_pay
from payments.methods.services.schedule import ScheduleResult, autopay_schedule_due

__all__ = [
    "ScheduleResult",
    "autopay_charge_resolve",
    "autopay_charge_retry_now",
    "autopay_charge_run",
    "autopay_charges_sync",
    "autopay_mandate_create",
    "autopay_mandate_revoke",
    "autopay_retries_due",
    "autopay_schedule_due",
    "payment_method_pay",
    "payment_method_register",
    "payment_method_revoke",
    "payment_method_set_default",
    "payment_methods_expire",
]
