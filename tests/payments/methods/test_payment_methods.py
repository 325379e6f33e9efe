"""Registering, revoking and choosing the default payment method; card numbers are refused everywhere."""

from __future__ import annotations

import datetime as dt

import pytest

from billing_project.errors import DomainError
from masters.models import Role
from payments.methods.models import AutopayCharge, AutopayMandate, ChargeStatus, MethodStatus, PaymentMethod
from payments.methods.services import (
    payment_method_revoke,
    payment_method_set_default,
    payment_methods_expire,
)
from tests.payments.methods.conftest import AT, demand_of, fetch_bill, make_demands, next_consumer, opt_in, register

LATER = AT + dt.timedelta(hours=1)


def rows() -> list[tuple]:
    return list(
        PaymentMethod.objects.order_by("pk").values_list(
            "payer__name", "tenant__code", "gateway", "gateway_token", "label", "brand", "last4",
            "expiry_month", "expiry_year", "status", "is_default", "created_by", "created_at", "updated_at",
            "revoked_at",
        )
    )  # fmt: skip


def test_citizen_registers_a_token_for_herself_first_one_is_default(asha):
    method = register(asha)

    assert rows() == [
        (
            "Asha Devi", "pb", "sandbox", "tok_visa_0001", "VISA •••• 4242", "VISA", "4242", 12, 2030, "ACTIVE",
            True, "asha", AT, AT, None,
        )
    ]  # fmt: skip
    second = register(asha, "tok_visa_0002", label="MASTERCARD •••• 4444", last4="4444")
    assert (second.is_default, PaymentMethod.objects.get(pk=method.pk).is_default) == (False, True)


@pytest.mark.parametrize("gateway", ["", "no-such-gateway"])
def test_no_method_is_registered_without_a_configured_gateway(asha, settings, gateway):
    settings.PAYMENT_GATEWAY = gateway

    with pytest.raises(DomainError) as caught:
        register(asha)

    assert (caught.value.code, caught.value.http_status) == ("GATEWAY_UNKNOWN", 409)
    assert caught.value.message == (
        f"No payment gateway {gateway!r} is configured: payment methods cannot be registered"
    )
    assert not PaymentMethod.objects.exists()


def test_make_default_moves_the_default(asha):
    first = register(asha)
    second = register(asha, "tok_visa_0002", make_default=True)

    assert PaymentMethod.objects.filter(is_default=True).get().pk == second.pk
    assert payment_method_set_default(caller=asha, method_id=first.pk, at=LATER).is_default is True
    assert list(PaymentMethod.objects.order_by("pk").values_list("pk", "is_default")) == [
        (first.pk, True),
        (second.pk, False),
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("gateway_token", "4242424242424242"),
        ("gateway_token", "tok_4242 4242 4242 4242"),
        ("label", "VISA 4000-0000-0000-0002"),
        ("brand", "4000000000009995"),
        ("gateway_token", "5555555555554444"),
        ("gateway_token", "378282246310005"),  # 15-digit AMEX
        ("label", "6011111111111117 card"),
    ],
)
def test_anything_that_looks_like_a_card_number_is_refused_and_nothing_is_written(asha, field, value):
    kwargs = {field: value}
    token = kwargs.pop("gateway_token", "tok_visa_0001")

    with pytest.raises(DomainError) as err:
        register(asha, token, **kwargs)

    assert err.value.code == "PAYMENT_METHOD_CARD_NUMBER_REFUSED"
    assert err.value.fields == {field: ["looks like a card number (13-19 digits passing the Luhn check)"]}
    assert value not in err.value.message
    assert PaymentMethod.objects.count() == 0


def test_digit_runs_that_fail_luhn_are_not_card_numbers_but_labels_must_be_masked(asha):
    register(asha, "tok_1234567890123")  # 13 digits, not Luhn-valid
    with pytest.raises(DomainError) as err:
        register(asha, "tok_2", label="VISA 12345")

    assert (err.value.code, err.value.fields) == (
        "PAYMENT_METHOD_INVALID",
        {"label": ["the label must be masked: at most 4 digits in a row, e.g. VISA •••• 4242"]},
    )
    assert PaymentMethod.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "code", "fields"),
    [
        ({"label": ""}, "PAYMENT_METHOD_INVALID", {"label": ["a masked label is required (at most 64 characters)"]}),
        ({"last4": "42a2"}, "PAYMENT_METHOD_INVALID", {"last4": ["the last 4 digits, or blank"]}),
        ({"expiry_month": 13}, "PAYMENT_METHOD_INVALID", {"expiry_month": ["1 to 12"]}),
        ({"expiry_month": 4, "expiry_year": 2024}, "PAYMENT_METHOD_EXPIRED", {"expiry_year": ["expired"]}),
    ],
)
def test_invalid_methods_are_refused(asha, kwargs, code, fields):
    with pytest.raises(DomainError) as err:
        register(asha, **kwargs)

    assert (err.value.code, err.value.fields) == (code, fields)
    assert PaymentMethod.objects.count() == 0


def test_a_card_expiring_this_month_is_accepted(asha):
    assert register(asha, expiry_month=5, expiry_year=2024).status == MethodStatus.ACTIVE


def test_a_token_is_registered_once_per_gateway(asha, ravi):
    register(asha)
    with pytest.raises(DomainError) as err:
        register(ravi, "tok_visa_0001")

    assert (err.value.code, err.value.http_status) == ("PAYMENT_METHOD_DUPLICATE", 409)
    assert PaymentMethod.objects.count() == 1


def test_citizens_act_only_for_themselves(asha, ravi_payer):
    with pytest.raises(DomainError) as err:
        register(asha, payer_id=ravi_payer.pk)

    assert (err.value.code, err.value.http_status) == ("PAYMENT_METHOD_PAYER_NOT_FOUND", 404)
    method = register(asha)
    with pytest.raises(DomainError) as err:
        payment_method_revoke(caller=_caller_of(ravi_payer), method_id=method.pk, at=LATER)
    assert err.value.code == "PAYMENT_METHOD_NOT_FOUND"
    assert PaymentMethod.objects.get().status == MethodStatus.ACTIVE


def _caller_of(payer):
    from masters.access import caller_for

    return caller_for(payer.user)


def test_staff_of_a_city_where_the_payer_has_dues_act_for_them_others_do_not(
    asha_payer, employee, user_factory, tenant_factory
):
    from masters.access import caller_for

    cashier = caller_for(user_factory("cashier-asr", {"pb.amritsar": [Role.CASHIER]}))
    other_city = caller_for(user_factory("cashier-jal", {"pb.jalandhar": [Role.CASHIER]}))
    outsider = caller_for(user_factory("cashier-hr", {"hr.karnal": [Role.CASHIER]}))
    for staff in (cashier, other_city):  # no demand names her yet: no city's staff reach her
        with pytest.raises(DomainError) as err:
            register(staff, "tok_early", payer_id=asha_payer.pk)
        assert err.value.code == "PAYMENT_METHOD_PAYER_NOT_FOUND"
    make_demands(employee, demand_of(asha_payer, next_consumer()))  # a demand in pb.amritsar names her

    method = register(cashier, payer_id=asha_payer.pk)
    assert (method.payer_id, method.created_by) == (asha_payer.pk, "cashier-asr")
    for staff in (other_city, outsider):  # same state, other city; other state
        with pytest.raises(DomainError) as err:
            register(staff, "tok_other", payer_id=asha_payer.pk)
        assert err.value.code == "PAYMENT_METHOD_PAYER_NOT_FOUND"
    assert PaymentMethod.objects.count() == 1


def test_a_login_without_payer_must_name_one(seed, user_factory):
    from masters.access import caller_for

    nobody = caller_for(user_factory("nobody", {"pb": [Role.CITIZEN]}))
    with pytest.raises(DomainError) as err:
        register(nobody)
    assert err.value.code == "PAYMENT_METHOD_PAYER_NOT_FOUND"


def test_revoking_switches_off_its_mandates_and_cancels_their_waiting_charges(asha, asha_payer, employee):
    code = next_consumer()
    make_demands(employee, demand_of(asha_payer, code))
    method = register(asha)
    mandate = opt_in(asha, method, code)
    bill = fetch_bill(employee, code, at=AT + dt.timedelta(minutes=5))
    charge = AutopayCharge.objects.create(
        mandate=mandate, bill=bill, amount=bill.total_amount, created_at=AT, updated_at=AT
    )

    revoked = payment_method_revoke(caller=asha, method_id=method.pk, at=LATER)

    assert (revoked.status, revoked.is_default, revoked.revoked_at) == (MethodStatus.REVOKED, False, LATER)
    mandate.refresh_from_db()
    assert (mandate.active, mandate.revoked_at, mandate.revoked_by) == (False, LATER, "asha")
    charge.refresh_from_db()
    assert (charge.status, charge.failure_code, charge.finished_at) == (
        ChargeStatus.CANCELLED,
        "PAYMENT_METHOD_REVOKED",
        LATER,
    )
    # Idempotent.
    assert payment_method_revoke(caller=asha, method_id=method.pk, at=LATER + dt.timedelta(hours=1)).revoked_at == LATER
    with pytest.raises(DomainError) as err:
        payment_method_set_default(caller=asha, method_id=method.pk, at=LATER)
    assert (err.value.code, err.value.http_status) == ("PAYMENT_METHOD_NOT_USABLE", 409)
    assert AutopayMandate.objects.filter(active=True).count() == 0


def test_expiry_sweep_marks_methods_whose_month_ended(asha):
    old = register(asha, "tok_old", expiry_month=5, expiry_year=2024)
    new = register(asha, "tok_new", expiry_month=6, expiry_year=2024)

    assert payment_methods_expire(at=dt.datetime(2024, 6, 1, 0, 0, tzinfo=dt.UTC)) == 1
    assert list(PaymentMethod.objects.order_by("pk").values_list("pk", "status", "is_default")) == [
        (old.pk, "EXPIRED", False),
        (new.pk, "ACTIVE", False),
    ]


def test_unknown_method_ids_are_not_found(asha):
    for bad in (999, "abc"):
        with pytest.raises(DomainError) as err:
            payment_method_revoke(caller=asha, method_id=bad, at=AT)
        assert err.value.code == "PAYMENT_METHOD_NOT_FOUND"
