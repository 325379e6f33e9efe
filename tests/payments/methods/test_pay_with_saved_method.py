"""Review finding 3: paying with a saved payment method goes through ``POST /api/v1/payment-methods/{id}/pay/``
(``payment_method_pay``), which checks the owner and the method's status before the gateway charges the token;
and autopay's crash recovery adopts only the transaction of its own attempt, never the payer's own charge."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from billing_project import clock
from billing_project.errors import DomainError
from masters.access import caller_for
from masters.models import Role
from payments.gateway.models import GatewayTransaction
from payments.methods.models import AutopayCharge, PaymentMethod
from payments.methods.services import (
    autopay_charge_run,
    autopay_charges_sync,
    payment_method_pay,
    payment_method_revoke,
)
from payments.models import Payment
from tests.payments.methods.conftest import (
    APPROVE,
    RUN_AT,
    charge_row,
    demand_of,
    fetch_bill,
    make_demands,
    next_consumer,
    register,
    tokenise,
)

D = Decimal
AT = RUN_AT + dt.timedelta(minutes=1)


def client_of(user: Any) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def pay(client: APIClient, method_id: int, data: dict[str, Any]) -> Any:
    with clock.frozen(AT):
        return client.post(f"/api/v1/payment-methods/{method_id}/pay/", data, format="json")


def written() -> tuple[int, int, list[Any]]:
    return (
        GatewayTransaction.objects.count(),
        Payment.objects.count(),
        list(PaymentMethod.objects.order_by("pk").values_list("status", "flagged_at")),
    )


@pytest.fixture
def card(sandbox, asha, asha_payer, employee):
    """Asha's saved card and a 1000.00 bill of hers (pb.amritsar)."""
    token = tokenise(sandbox, APPROVE)
    method = register(asha, token["token"], label=token["label"])
    code = next_consumer()
    make_demands(employee, demand_of(asha_payer, code, "1000"))
    return method, fetch_bill(employee, code, at=RUN_AT)


def test_the_owner_pays_her_bill_with_her_saved_card(card, asha_user, sandbox):
    method, bill = card

    answer = pay(client_of(asha_user), method.pk, {"bill_id": str(bill.pk), "amount": "1000.00"})

    assert answer.status_code == 201, answer.json()
    txn = GatewayTransaction.objects.get()
    body = answer.json()
    assert {k: body[k] for k in ("id", "kind", "status", "amount", "payment_method_id", "payment", "created_by")} == {
        "id": str(txn.pk),
        "kind": "TOKEN_CHARGE",
        "status": "SUCCESS",
        "amount": "1000.00",
        "payment_method_id": method.pk,
        "payment": str(Payment.objects.get().pk),
        "created_by": "asha",
    }
    assert "token" not in str(body)
    assert Payment.objects.get().total_amount_paid == D("1000.00")


def test_another_citizen_cannot_charge_her_card_even_knowing_the_token(card, ravi, ravi_payer, asha):
    # The review's reproduction: Ravi used Asha's token after she revoked it and got 201 SUCCESS.
    method, bill = card
    payment_method_revoke(caller=asha, method_id=method.pk, at=RUN_AT)
    before = written()

    answer = pay(client_of(ravi_payer.user), method.pk, {"bill_id": str(bill.pk), "amount": "1000.00"})

    assert (answer.status_code, answer.json()) == (
        404,
        {"code": "PAYMENT_METHOD_NOT_FOUND", "message": f"No payment method {method.pk}", "fields": {}},
    )
    assert written() == before


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "REVOKED", "revoked_at": RUN_AT, "is_default": False}, "revoked"),
        ({"flagged_at": RUN_AT, "flag_reason": "card_declined"}, "flagged after a hard decline"),
        ({"expiry_year": 2024, "expiry_month": 4}, "expired"),
    ],
)
def test_an_unusable_method_is_refused_and_nothing_is_charged(card, asha_user, change, reason):
    method, bill = card
    PaymentMethod.objects.filter(pk=method.pk).update(**change)
    before = written()

    answer = pay(client_of(asha_user), method.pk, {"bill_id": str(bill.pk), "amount": "1000.00"})

    assert (answer.status_code, answer.json()) == (
        409,
        {
            "code": "PAYMENT_METHOD_NOT_USABLE",
            "message": f"Payment method {method.pk} cannot be used: {reason}",
            "fields": {},
        },
    )
    assert written() == before


def test_bad_input_is_400_and_writes_nothing(card, asha_user):
    method, bill = card
    before = written()
    for data in ({"bill_id": "x", "amount": "1"}, {"bill_id": str(bill.pk)}, {"amount": "1"}):
        answer = pay(client_of(asha_user), method.pk, data)
        assert (answer.status_code, answer.json()["code"]) == (400, "VALIDATION_ERROR"), data
    answer = pay(client_of(asha_user), method.pk, {"bill_id": str(bill.pk), "amount": "5000"})
    assert (answer.status_code, answer.json()["code"]) == (400, "INVALID_PAYMENTDETAIL")
    assert written() == before


def test_staff_charge_a_payers_card_only_for_her_own_bills(card, employee, ravi_payer, user_factory):
    method, bill = card
    cashier = caller_for(user_factory("cashier-asr", {"pb.amritsar": [Role.CASHIER]}))
    code = next_consumer()
    make_demands(employee, demand_of(ravi_payer, code, "300"))
    ravis_bill = fetch_bill(employee, code, at=RUN_AT)
    before = written()

    with pytest.raises(DomainError) as err:
        payment_method_pay(caller=cashier, method_id=method.pk, bill_id=ravis_bill.pk, amount=D("300"), at=AT)
    assert (err.value.code, err.value.http_status) == ("PAYMENT_METHOD_NOT_FOR_BILL", 409)
    assert written() == before

    txn = payment_method_pay(caller=cashier, method_id=method.pk, bill_id=bill.pk, amount=D("1000"), at=AT)
    assert (txn.status, txn.payment_method_id, txn.created_by) == ("SUCCESS", method.pk, "cashier-asr")


def test_autopay_recovery_never_adopts_the_payers_own_charge_of_the_card(autopay, asha):
    method, bill, charge, _ = autopay(APPROVE)
    # A worker committed the IN_PROGRESS marker and died before the gateway service stored anything...
    AutopayCharge.objects.filter(pk=charge.pk).update(status="IN_PROGRESS", attempt=1, last_attempt_at=RUN_AT)
    # ...and meanwhile Asha paid the bill herself with the same card.
    own = payment_method_pay(caller=asha, method_id=method.pk, bill_id=bill.pk, amount=D("1000"), at=AT)
    assert own.status == "SUCCESS"

    lost_at = RUN_AT + dt.timedelta(minutes=15)
    assert autopay_charges_sync(at=lost_at) == 1
    assert charge_row(charge) == ("FAILED", 0, lost_at, "ATTEMPT_LOST")  # not adopted
    done = autopay_charge_run(charge_id=charge.pk, at=lost_at)
    assert (done.status, done.failure_code, done.gateway_transaction_id) == ("CANCELLED", "BILL_PAID", None)
    assert (GatewayTransaction.objects.count(), Payment.objects.count()) == (1, 1)
