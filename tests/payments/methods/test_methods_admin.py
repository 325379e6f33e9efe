"""Admin of payment methods and autopay: masked lists (never the token), status filters, the Revoke, Switch off
and Retry now actions calling the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages

from billing_project import clock
from payments.methods.models import AutopayCharge, AutopayMandate, PaymentMethod
from payments.models import Payment
from tests.payments.methods.conftest import APPROVE, RUN_AT, SOFT, charge_row, next_consumer, opt_in, register

METHODS = "/admin/payment_methods/paymentmethod/"
MANDATES = "/admin/payment_methods/autopaymandate/"
CHARGES = "/admin/payment_methods/autopaycharge/"


@pytest.fixture
def root(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw")


def texts(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def act(client: Any, url: str, action: str, ids: list[Any], *, at: dt.datetime) -> Any:
    with clock.frozen(at):
        return client.post(url, {"action": action, "_selected_action": [str(i) for i in ids]}, follow=True)


def test_methods_list_masked_and_revoke_action(client, root, asha, asha_payer, employee):
    from tests.payments.methods.conftest import demand_of, make_demands

    client.force_login(root)
    method = register(asha, "tok_secret_value_1")
    code = next_consumer()
    make_demands(employee, demand_of(asha_payer, code))
    opt_in(asha, method, code)

    page = client.get(METHODS)
    assert page.status_code == 200
    assert "VISA •••• 4242" in page.content.decode()
    assert "tok_secret_value_1" not in page.content.decode()
    assert "tok_secret_value_1" not in client.get(f"{METHODS}{method.pk}/change/").content.decode()
    assert client.get(f"{METHODS}?status__exact=ACTIVE").status_code == 200

    response = act(client, METHODS, "revoke_methods", [method.pk], at=RUN_AT)

    assert texts(response) == [("success", "Revoked 1 payment method(s).")]
    assert PaymentMethod.objects.get().status == "REVOKED"
    assert AutopayMandate.objects.get().active is False
    assert client.get(MANDATES).status_code == 200


def test_switch_off_action(client, root, asha, asha_payer, employee):
    from tests.payments.methods.conftest import demand_of, make_demands

    client.force_login(root)
    code = next_consumer()
    make_demands(employee, demand_of(asha_payer, code))
    mandate = opt_in(asha, register(asha), code)

    response = act(client, MANDATES, "switch_off", [mandate.pk], at=RUN_AT)

    assert texts(response) == [("success", "Switched off 1 mandate(s).")]
    mandate.refresh_from_db()
    assert (mandate.active, mandate.revoked_by, mandate.revoked_at) == (False, "root", RUN_AT)


def test_charges_list_with_next_retry_and_retry_now_action(client, root, autopay, sandbox):
    from payments.methods.services import autopay_charge_run

    client.force_login(root)
    _, _, failed, token = autopay(SOFT)
    _, _, succeeded, _ = autopay(APPROVE)
    autopay_charge_run(charge_id=failed.pk, at=RUN_AT)
    autopay_charge_run(charge_id=succeeded.pk, at=RUN_AT)

    page = client.get(f"{CHARGES}?status__exact=FAILED")
    assert page.status_code == 200
    assert "insufficient_funds" in page.content.decode()
    assert client.get(f"{CHARGES}{failed.pk}/change/").status_code == 200

    sandbox.fund(token["token"])
    now = RUN_AT + dt.timedelta(hours=1)
    response = act(client, CHARGES, "retry_now", [failed.pk, succeeded.pk], at=now)

    assert texts(response) == [
        (
            "error",
            f"{AutopayCharge.objects.get(pk=succeeded.pk)}: AUTOPAY_CHARGE_NOT_RETRYABLE: "
            "Only a FAILED charge can be retried; this one is SUCCEEDED",
        ),
        ("success", "Retried 1 charge(s); see their status."),
    ]
    assert charge_row(failed) == ("SUCCEEDED", 2, None, "")
    assert Payment.objects.count() == 2


def test_resolve_action_only_takes_unapplied_charges(client, root, autopay):
    from payments.methods.services import autopay_charge_run

    client.force_login(root)
    _, _, unapplied, _ = autopay(APPROVE)
    _, _, succeeded, _ = autopay(APPROVE)
    autopay_charge_run(charge_id=succeeded.pk, at=RUN_AT)
    AutopayCharge.objects.filter(pk=unapplied.pk).update(status="UNAPPLIED", attempt=1, failure_code="UNAPPLIED")
    now = RUN_AT + dt.timedelta(hours=1)

    response = act(client, CHARGES, "resolve_applied_by_hand", [unapplied.pk, succeeded.pk], at=now)

    assert texts(response) == [
        (
            "error",
            f"{AutopayCharge.objects.get(pk=succeeded.pk)}: AUTOPAY_CHARGE_NOT_UNAPPLIED: "
            "Only an UNAPPLIED charge can be resolved; this one is SUCCEEDED",
        ),
        ("success", "Resolved 1 charge(s); autopay resumes for their consumers."),
    ]
    assert charge_row(unapplied) == ("SUCCEEDED", 1, None, "")
