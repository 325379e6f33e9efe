"""Autopay opt-in/opt-out and ``autopay_schedule_due``: which bills get a charge, exactly once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from billing_project.errors import DomainError
from bills.models import Bill
from masters.access import caller_for
from masters.models import Role
from payments.methods.models import AutopayCharge, AutopayMandate, ChargeStatus, PaymentMethod
from payments.methods.services import autopay_mandate_revoke, autopay_schedule_due
from tests.concurrency import run_together
from tests.payments.methods.conftest import (
    AT,
    CITY,
    P2018,
    demand_of,
    fetch_bill,
    make_demands,
    next_consumer,
    opt_in,
    register,
)

MANDATE_AT = AT + dt.timedelta(minutes=1)
BILL_AT = AT + dt.timedelta(minutes=5)
RUN_AT = AT + dt.timedelta(minutes=15)
D = Decimal


@pytest.fixture
def consumer(employee, asha_payer):
    code = next_consumer()
    make_demands(employee, demand_of(asha_payer, code, "1000"))
    return code


@pytest.fixture
def method(asha):
    return register(asha)


def charges() -> list[tuple]:
    return list(
        AutopayCharge.objects.order_by("created_at", "bill__created_at").values_list(
            "bill__consumer_code", "amount", "attempt", "status", "next_retry_at", "failure_code", "created_at"
        )
    )


# --- opt in / opt out ---------------------------------------------------------------------------------------


def test_citizen_opts_her_consumer_in(asha, method, consumer):
    mandate = opt_in(asha, method, consumer, at=MANDATE_AT, max_amount=D("5000"))

    assert list(
        AutopayMandate.objects.values_list(
            "payer__name", "tenant__code", "business_service", "consumer_code", "payment_method_id", "max_amount",
            "active", "created_by", "created_at", "revoked_at",
        )
    ) == [("Asha Devi", CITY, "PT", consumer, method.pk, D("5000.00"), True, "asha", MANDATE_AT, None)]  # fmt: skip
    assert mandate.pk is not None


def test_a_consumer_whose_demands_do_not_name_the_payer_cannot_be_opted_in(asha, method, employee, ravi_payer):
    code = next_consumer()
    make_demands(employee, demand_of(ravi_payer, code))
    for consumer_code in (code, "NO-SUCH-CONSUMER"):
        with pytest.raises(DomainError) as err:
            opt_in(asha, method, consumer_code)
        assert (err.value.code, err.value.http_status) == ("AUTOPAY_CONSUMER_NOT_FOUND", 404)
    assert AutopayMandate.objects.count() == 0


def test_one_active_mandate_per_consumer(asha, method, consumer):
    first = opt_in(asha, method, consumer)
    with pytest.raises(DomainError) as err:
        opt_in(asha, method, consumer)
    assert (err.value.code, err.value.http_status) == ("AUTOPAY_MANDATE_EXISTS", 409)

    autopay_mandate_revoke(caller=asha, mandate_id=first.pk, at=MANDATE_AT)
    second = opt_in(asha, method, consumer, at=MANDATE_AT)
    assert list(AutopayMandate.objects.order_by("pk").values_list("pk", "active")) == [
        (first.pk, False),
        (second.pk, True),
    ]


def test_other_citizens_and_other_cities_staff_cannot_opt_in_or_out(asha, method, consumer, ravi, user_factory):
    jalandhar = caller_for(user_factory("emp-jal", {"pb.jalandhar": [Role.EMPLOYEE]}))
    with pytest.raises(DomainError) as err:
        opt_in(ravi, method, consumer)
    assert err.value.code == "PAYMENT_METHOD_NOT_FOUND"
    with pytest.raises(DomainError) as err:
        opt_in(jalandhar, method, consumer)  # same state, but no demand or mandate of hers in Jalandhar
    assert (err.value.code, err.value.http_status) == ("PAYMENT_METHOD_NOT_FOUND", 404)
    mandate = opt_in(asha, method, consumer)
    for other in (ravi, jalandhar):
        with pytest.raises(DomainError) as err:
            autopay_mandate_revoke(caller=other, mandate_id=mandate.pk, at=MANDATE_AT)
        assert err.value.code == "AUTOPAY_MANDATE_NOT_FOUND"
    assert AutopayMandate.objects.get().active is True


def test_staff_of_the_city_opt_a_payer_in(asha_payer, consumer, employee):
    method = register(employee, payer_id=asha_payer.pk)
    mandate = opt_in(employee, method, consumer)
    assert (mandate.payer_id, mandate.created_by) == (asha_payer.pk, "emp-asr")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"flagged_at": AT, "flag_reason": "card_declined"}, "PAYMENT_METHOD_NOT_USABLE"),
        ({"status": "EXPIRED"}, "PAYMENT_METHOD_NOT_USABLE"),
        ({"expiry_year": 2024, "expiry_month": 4}, "PAYMENT_METHOD_NOT_USABLE"),
    ],
)
def test_unusable_methods_cannot_back_a_mandate(asha, method, consumer, change, code):
    PaymentMethod.objects.filter(pk=method.pk).update(**change)
    with pytest.raises(DomainError) as err:
        opt_in(asha, PaymentMethod.objects.get(pk=method.pk), consumer)
    assert (err.value.code, err.value.http_status) == (code, 409)
    assert AutopayMandate.objects.count() == 0


@pytest.mark.parametrize("limit", [D("0"), D("-5"), D("10.005")])
def test_max_amount_must_be_a_positive_amount(asha, method, consumer, limit):
    with pytest.raises(DomainError) as err:
        opt_in(asha, method, consumer, max_amount=limit)
    assert err.value.code == "AUTOPAY_MANDATE_INVALID"


# --- scheduling ----------------------------------------------------------------------------------------------


def test_new_bill_after_opt_in_is_scheduled_once(asha, method, consumer, employee):
    opt_in(asha, method, consumer, at=MANDATE_AT)
    bill = fetch_bill(employee, consumer, at=BILL_AT)

    first = autopay_schedule_due(at=RUN_AT)
    again = autopay_schedule_due(at=RUN_AT + dt.timedelta(minutes=15))

    assert charges() == [(consumer, D("1000.00"), 0, "SCHEDULED", None, "", RUN_AT)]
    charge = AutopayCharge.objects.get()
    assert (charge.bill_id, first.scheduled, first.to_charge) == (bill.pk, [charge.pk], [charge.pk])
    assert (again.scheduled, again.to_charge) == ([], [charge.pk])  # still waiting to be sent: queued again


def test_bills_made_before_the_opt_in_of_other_payers_or_stale_are_not_charged(
    asha, asha_payer, method, employee, ravi_payer
):
    before = next_consumer()
    make_demands(employee, demand_of(asha_payer, before))
    fetch_bill(employee, before, at=AT)  # billed before the mandate
    opt_in(asha, method, before, at=MANDATE_AT)

    stale = next_consumer()
    make_demands(employee, demand_of(asha_payer, stale, expiry=None))
    opt_in(asha, method, stale, at=MANDATE_AT)
    fetch_bill(employee, stale, at=BILL_AT)  # expires at the end of 2024-05-01 IST

    autopay_schedule_due(at=dt.datetime(2024, 5, 2, 0, 0, tzinfo=dt.UTC))

    assert charges() == []


def test_bill_naming_another_payer_is_not_charged(asha, asha_payer, method, employee, ravi_payer):
    code = next_consumer()
    make_demands(employee, demand_of(asha_payer, code, "200", period=P2018))
    opt_in(asha, method, code, at=MANDATE_AT)
    # The property changed hands: the 2019-20 demand names Ravi, and a bill carries its latest period's payer.
    make_demands(employee, demand_of(ravi_payer, code, "1000"), at=AT + dt.timedelta(minutes=2))
    bill = fetch_bill(employee, code, at=BILL_AT)
    assert (bill.payer_id, bill.total_amount) == (ravi_payer.pk, D("1200.00"))

    assert autopay_schedule_due(at=RUN_AT).scheduled == []
    assert charges() == []


def test_expired_methods_are_marked_and_schedule_nothing(asha, asha_payer, employee):
    code = next_consumer()
    make_demands(employee, demand_of(asha_payer, code, expiry=dt.timedelta(days=60)))
    method = register(asha, expiry_month=5, expiry_year=2024)
    opt_in(asha, method, code, at=MANDATE_AT)
    fetch_bill(employee, code, at=BILL_AT)

    result = autopay_schedule_due(at=dt.datetime(2024, 6, 1, 0, 0, tzinfo=dt.UTC))

    assert (result.methods_expired, result.scheduled, PaymentMethod.objects.get().status) == (1, [], "EXPIRED")
    assert charges() == []
    # The same run a second earlier (still May): the card is valid and the bill is charged.
    PaymentMethod.objects.update(status="ACTIVE")
    result = autopay_schedule_due(at=dt.datetime(2024, 5, 31, 23, 59, 59, tzinfo=dt.UTC))
    assert (result.methods_expired, len(result.scheduled)) == (0, 1)


def test_revoked_mandates_and_flagged_methods_schedule_nothing(asha, method, consumer, employee):
    mandate = opt_in(asha, method, consumer, at=MANDATE_AT)
    fetch_bill(employee, consumer, at=BILL_AT)
    PaymentMethod.objects.filter(pk=method.pk).update(flagged_at=AT, flag_reason="card_declined")
    assert autopay_schedule_due(at=RUN_AT).scheduled == []
    PaymentMethod.objects.filter(pk=method.pk).update(flagged_at=None, flag_reason="")
    autopay_mandate_revoke(caller=asha, mandate_id=mandate.pk, at=BILL_AT)
    assert autopay_schedule_due(at=RUN_AT).scheduled == []
    assert charges() == []


def test_a_bill_above_the_limit_is_given_up_visibly_once(asha, method, consumer, employee):
    opt_in(asha, method, consumer, at=MANDATE_AT, max_amount=D("999.99"))
    fetch_bill(employee, consumer, at=BILL_AT)

    result = autopay_schedule_due(at=RUN_AT)
    autopay_schedule_due(at=RUN_AT)

    assert charges() == [(consumer, D("1000.00"), 0, "GAVE_UP", None, "AUTOPAY_OVER_LIMIT", RUN_AT)]
    assert (result.scheduled, result.to_charge, len(result.over_limit)) == ([], [], 1)


def test_a_regenerated_bill_supersedes_a_failed_charge_and_keeps_its_retry_date(asha, method, consumer, employee):
    mandate = opt_in(asha, method, consumer, at=MANDATE_AT)
    old_bill = fetch_bill(employee, consumer, at=BILL_AT)
    retry = RUN_AT + dt.timedelta(days=3)
    old = AutopayCharge.objects.create(
        mandate=mandate,
        bill=old_bill,
        amount=old_bill.total_amount,
        attempt=1,
        status=ChargeStatus.FAILED,
        next_retry_at=retry,
        failure_code="insufficient_funds",
        created_at=RUN_AT,
        updated_at=RUN_AT,
    )
    # A new demand (2018-19) makes the bill stale; the next fetch builds a new bill with both periods.
    later = RUN_AT + dt.timedelta(hours=1)
    make_demands(employee, demand_of(mandate.payer, consumer, "300", period=P2018), at=later)
    new_bill = fetch_bill(employee, consumer, at=later)

    result = autopay_schedule_due(at=later + dt.timedelta(minutes=1))

    new = AutopayCharge.objects.get(bill=new_bill)
    assert (new.amount, new.attempt, new.status, new.next_retry_at, new.failure_code) == (
        D("1300.00"),
        1,
        "FAILED",
        retry,
        "insufficient_funds",
    )
    old.refresh_from_db()
    assert (old.status, old.failure_code, old.superseded_by_id, old.next_retry_at) == (
        "CANCELLED",
        "SUPERSEDED",
        new.pk,
        None,
    )
    assert (result.scheduled, result.superseded, result.to_charge) == ([new.pk], [old.pk], [])


def test_after_giving_up_the_same_dues_are_not_charged_again_new_dues_are(asha, method, consumer, employee):
    mandate = opt_in(asha, method, consumer, at=MANDATE_AT)
    bill = fetch_bill(employee, consumer, at=BILL_AT)
    AutopayCharge.objects.create(
        mandate=mandate, bill=bill, amount=bill.total_amount, attempt=4, status=ChargeStatus.GAVE_UP,
        failure_code="insufficient_funds", created_at=RUN_AT, updated_at=RUN_AT, finished_at=RUN_AT,
    )  # fmt: skip
    # The bill expires; the consumer fetches again: same demand, new bill — not charged again.
    Bill.objects.filter(pk=bill.pk).update(expiry_date=RUN_AT)
    same = fetch_bill(employee, consumer, at=RUN_AT + dt.timedelta(hours=1))
    assert same.pk != bill.pk
    assert autopay_schedule_due(at=RUN_AT + dt.timedelta(hours=2)).scheduled == []
    # A new demand: the next bill has new dues and is charged.
    make_demands(employee, demand_of(mandate.payer, consumer, "300", period=P2018), at=RUN_AT + dt.timedelta(hours=3))
    newer = fetch_bill(employee, consumer, at=RUN_AT + dt.timedelta(hours=3))
    result = autopay_schedule_due(at=RUN_AT + dt.timedelta(hours=4))
    assert list(AutopayCharge.objects.filter(pk__in=result.scheduled).values_list("bill_id", "amount", "attempt")) == [
        (newer.pk, D("1300.00"), 0)
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_scheduling_runs_schedule_each_bill_once(seed, user_factory, tenant_factory):
    from masters.models import Payer, PayerType

    employee = caller_for(user_factory("emp-asr", {"pb.amritsar": [Role.EMPLOYEE]}))
    user = user_factory("asha", {"pb": [Role.CITIZEN]})
    payer = Payer.objects.create(tenant=seed["pb"], name="Asha Devi", mobile_number="9876543210", user=user,
                                 type=PayerType.CITIZEN)  # fmt: skip
    asha = caller_for(user)
    method = register(asha)
    codes = [next_consumer() for _ in range(5)]
    make_demands(employee, *(demand_of(payer, code) for code in codes))
    for code in codes:
        opt_in(asha, method, code, at=MANDATE_AT)
        fetch_bill(employee, code, at=BILL_AT)
    assert connection.vendor == "postgresql"

    outcomes = run_together([lambda: len(autopay_schedule_due(at=RUN_AT).scheduled) for _ in range(4)])

    assert sum(outcomes) == 5, outcomes
    assert sorted(AutopayCharge.objects.values_list("bill__consumer_code", flat=True)) == sorted(codes)


def test_a_failed_charge_whose_bill_was_paid_at_the_counter_ends_and_the_next_bill_starts_afresh(
    asha, method, consumer, employee, user_factory
):
    from payments.services import PaymentDetailInput, PaymentInput, payment_create

    mandate = opt_in(asha, method, consumer, at=MANDATE_AT)
    bill = fetch_bill(employee, consumer, at=BILL_AT)
    old = AutopayCharge.objects.create(
        mandate=mandate, bill=bill, amount=bill.total_amount, attempt=2, status=ChargeStatus.FAILED,
        next_retry_at=RUN_AT + dt.timedelta(days=3), created_at=RUN_AT, updated_at=RUN_AT,
    )  # fmt: skip
    cashier = caller_for(user_factory("cashier", {CITY: [Role.CASHIER]}))
    paid_at = RUN_AT + dt.timedelta(hours=1)
    payment_create(
        caller=cashier,
        payment=PaymentInput(
            tenant_code=CITY, payment_mode="CASH", total_due=D("1000"), total_amount_paid=D("1000"), paid_by="Asha",
            details=(PaymentDetailInput(bill_id=bill.pk, business_service="PT", total_due=D("1000"),
                                        total_amount_paid=D("1000")),),
        ),
        at=paid_at,
    )  # fmt: skip
    make_demands(employee, demand_of(mandate.payer, consumer, "300", period=P2018), at=paid_at)
    new_bill = fetch_bill(employee, consumer, at=paid_at)

    result = autopay_schedule_due(at=paid_at + dt.timedelta(minutes=1))

    old.refresh_from_db()
    assert (old.status, old.failure_code, old.superseded_by_id) == ("CANCELLED", "BILL_PAID", None)
    new = AutopayCharge.objects.get(bill=new_bill)
    assert (new.amount, new.attempt, new.status, new.next_retry_at) == (D("300.00"), 0, "SCHEDULED", None)
    assert (result.scheduled, result.superseded) == ([new.pk], [])


def test_a_retry_whose_consumer_now_bills_another_payer_is_cancelled_without_a_gateway_call(
    asha, asha_payer, method, employee, ravi_payer
):
    from payments.gateway.models import GatewayTransaction
    from payments.methods.services import autopay_charge_run

    code = next_consumer()
    make_demands(employee, demand_of(asha_payer, code, "200", period=P2018))
    mandate = opt_in(asha, method, code, at=MANDATE_AT)
    bill = fetch_bill(employee, code, at=BILL_AT)
    retry = RUN_AT + dt.timedelta(days=3)
    charge = AutopayCharge.objects.create(
        mandate=mandate, bill=bill, amount=bill.total_amount, attempt=1, status=ChargeStatus.FAILED,
        next_retry_at=retry, failure_code="insufficient_funds", created_at=RUN_AT, updated_at=RUN_AT,
    )  # fmt: skip
    # The 2019-20 demand names Ravi: Asha's bill is stale, and the consumer's next bill is Ravi's.
    make_demands(employee, demand_of(ravi_payer, code, "1000"), at=RUN_AT + dt.timedelta(days=1))

    done = autopay_charge_run(charge_id=charge.pk, at=retry)

    assert (done.status, done.attempt, done.failure_code, done.finished_at) == ("CANCELLED", 1, "PAYER_CHANGED", retry)
    new_bill = Bill.objects.get(consumer_code=code, status="ACTIVE")
    assert (new_bill.payer_id, new_bill.created_by) == (ravi_payer.pk, "autopay")  # fetched by autopay
    assert AutopayCharge.objects.count() == 1
    assert GatewayTransaction.objects.count() == 0
