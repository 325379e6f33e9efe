"""Review finding 8: staff act on a payer's payment methods only through the tenants (cities) they cover — where a
demand names the payer or the payer holds a mandate — and switch off a mandate only with the role in its tenant.
Payers are kept at state level, so "the payer's state" would let every city's staff act on every payer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from billing_project import clock
from billing_project.errors import DomainError
from demands.services import PayerInput
from masters.access import caller_for
from masters.models import Role
from payments.methods.models import AutopayMandate, PaymentMethod
from payments.methods.selectors import payment_methods_visible_to
from payments.methods.services import payment_method_revoke
from tests.demands.conftest import pt_demand
from tests.payments.methods.conftest import AT, demand_of, make_demands, next_consumer, opt_in, register

pytestmark = pytest.mark.django_db
METHODS = "/api/v1/payment-methods/"
NOW = AT + dt.timedelta(minutes=1)


def client_of(user: Any) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def amritsar_card(asha, asha_payer, employee) -> PaymentMethod:
    """Asha (a pb payer) owes in pb.amritsar and pays it by autopay with her card."""
    code = next_consumer()
    make_demands(employee, demand_of(asha_payer, code))
    method = register(asha)
    opt_in(asha, method, code)
    return method


def snapshot() -> list[tuple[Any, ...]]:
    return [
        *PaymentMethod.objects.order_by("pk").values_list("pk", "status", "is_default", "revoked_at"),
        *AutopayMandate.objects.order_by("pk").values_list("pk", "active", "revoked_at"),
    ]


def test_staff_of_another_city_of_the_state_neither_see_nor_touch_the_card(amritsar_card, user_factory):
    user = user_factory("cashier-jal", {"pb.jalandhar": [Role.CASHIER]})
    client = client_of(user)
    before = snapshot()

    with clock.frozen(NOW):
        listed = client.get(METHODS)
        detail = client.get(f"{METHODS}{amritsar_card.pk}/")
        revoked = client.post(f"{METHODS}{amritsar_card.pk}/revoke/", {}, format="json")
        made_default = client.post(f"{METHODS}{amritsar_card.pk}/set-default/", {}, format="json")

    assert (listed.status_code, listed.json()["count"], listed.json()["results"]) == (200, 0, [])
    assert [r.status_code for r in (detail, revoked, made_default)] == [404, 404, 404]
    with pytest.raises(DomainError) as err:
        payment_method_revoke(caller=caller_for(user), method_id=amritsar_card.pk, at=NOW)
    assert (err.value.code, err.value.http_status) == ("PAYMENT_METHOD_NOT_FOUND", 404)
    assert snapshot() == before


def test_staff_of_the_payers_city_and_of_the_state_see_it(amritsar_card, user_factory):
    city = caller_for(user_factory("cashier-asr", {"pb.amritsar": [Role.CASHIER]}))
    state = caller_for(user_factory("admin-pb", {"pb": [Role.BILLING_ADMIN]}))
    other_state = caller_for(user_factory("cashier-hr", {"hr.karnal": [Role.CASHIER]}))

    assert [list(payment_methods_visible_to(c).values_list("pk", flat=True)) for c in (city, state, other_state)] == [
        [amritsar_card.pk],
        [amritsar_card.pk],
        [],
    ]


def test_revoking_needs_the_role_in_each_mandates_city(amritsar_card, asha_payer, employee, user_factory):
    # Asha also owes in Jalandhar: Jalandhar's staff reach her, but her Amritsar autopay is not theirs to stop.
    jalandhar_employee = caller_for(user_factory("emp-jal", {"pb.jalandhar": [Role.EMPLOYEE]}))
    make_demands(jalandhar_employee, pt_demand("PT-JAL-1", tenant="pb.jalandhar", payer=PayerInput(uuid=asha_payer.pk)))
    jalandhar_cashier = caller_for(user_factory("cashier-jal", {"pb.jalandhar": [Role.CASHIER]}))
    assert list(payment_methods_visible_to(jalandhar_cashier).values_list("pk", flat=True)) == [amritsar_card.pk]
    before = snapshot()

    with pytest.raises(DomainError) as err:
        payment_method_revoke(caller=jalandhar_cashier, method_id=amritsar_card.pk, at=NOW)

    assert (err.value.code, err.value.http_status) == ("PERMISSION_DENIED", 403)
    assert snapshot() == before
    amritsar_cashier = caller_for(user_factory("cashier-asr", {"pb.amritsar": [Role.CASHIER]}))
    revoked = payment_method_revoke(caller=amritsar_cashier, method_id=amritsar_card.pk, at=NOW)
    assert (revoked.status, AutopayMandate.objects.get().active) == ("REVOKED", False)
