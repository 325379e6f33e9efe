"""Review finding 6: one lock order for payment-method rows — payer → payment method → mandate → charge — in the
autopay paths and in revocation, so a hard decline recorded while the payer revokes the card cannot deadlock."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.methods.models import PaymentMethod
from payments.methods.services import autopay_charge_run, payment_method_revoke
from tests.concurrency import run_together
from tests.payments.methods.conftest import HARD, RUN_AT

pytestmark = pytest.mark.postgres

TABLES = {
    "masters_payer": "payer",
    "payment_methods_paymentmethod": "method",
    "payment_methods_autopaymandate": "mandate",
    "payment_methods_autopaycharge": "charge",
}


def row_locks(queries: CaptureQueriesContext) -> list[str]:
    """The payment-method rows locked (FOR UPDATE) or updated, in statement order."""
    order = []
    for query in queries.captured_queries:
        sql = query["sql"]
        table = re.match(r'(?:SELECT .*? FROM|UPDATE) "(\w+)"', sql, re.S)
        if table and table.group(1) in TABLES and ("FOR UPDATE" in sql or sql.startswith("UPDATE")):
            order.append(("update " if sql.startswith("UPDATE") else "") + TABLES[table.group(1)])
    return order


def test_a_hard_decline_locks_the_method_before_the_mandate_and_the_charge(autopay):
    method, _, charge, _ = autopay(HARD)

    with CaptureQueriesContext(connection) as queries:
        done = autopay_charge_run(charge_id=charge.pk, at=RUN_AT)

    assert (done.status, done.failure_code) == ("GAVE_UP", "card_declined")
    assert PaymentMethod.objects.get(pk=method.pk).flag_reason == "card_declined"
    assert row_locks(queries) == [
        # the IN_PROGRESS marker
        "method",
        "mandate",
        "charge",
        "update charge",
        # the outcome: flags the method it locked first
        "method",
        "mandate",
        "charge",
        "update method",
        "update charge",
    ]


def test_revoking_locks_payer_method_mandate_then_charges(autopay, asha):
    method, _, _, _ = autopay(HARD)

    with CaptureQueriesContext(connection) as queries:
        payment_method_revoke(caller=asha, method_id=method.pk, at=RUN_AT)

    assert row_locks(queries) == ["payer", "method", "mandate", "update method", "update mandate", "update charge"]


@pytest.mark.django_db(transaction=True)
def test_a_hard_decline_and_a_revocation_at_once_both_finish(autopay, asha):
    method, _, charge, _ = autopay(HARD)

    outcomes = run_together(
        [
            lambda: str(autopay_charge_run(charge_id=charge.pk, at=RUN_AT).status),
            lambda: str(payment_method_revoke(caller=asha, method_id=method.pk, at=RUN_AT).status),
        ]
    )

    # Whichever came first, no deadlock: the charge was declined (or cancelled before its attempt).
    assert outcomes[1] == "REVOKED", outcomes
    assert outcomes[0] in ("GAVE_UP", "CANCELLED"), outcomes
    assert PaymentMethod.objects.get(pk=method.pk).status == "REVOKED"
