"""``counter_payment_take``: a counter-desk payment is recorded once per form key — a second submission of the
same form (a double click, a reload) answers the payment already taken, also when the two race."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from billing_project.errors import DomainError
from masters.access import Caller
from payments.models import CounterSubmission, Payment, PaymentDetail
from payments.services import counter_payment_take
from tests.concurrency import run_together
from tests.payments.conftest import PAY_AT, PTAN2018_FROM, PTAN2018_TO, line, make_bill, next_consumer, pay_input
from tests.payments.conftest import pt_demand as demand


def bill_of(employee: Caller) -> object:
    return make_bill(
        employee, demand(next_consumer(), period=(PTAN2018_FROM, PTAN2018_TO), details=(line("PT_TAX", "1000"),))
    )


@pytest.mark.django_db
def test_the_same_form_submitted_twice_records_one_payment(employee: Caller, cashier: Caller) -> None:
    bill = bill_of(employee)
    key = uuid.uuid4()
    first = counter_payment_take(caller=cashier, form_key=key, payment=pay_input(bill, "1000"), at=PAY_AT)
    again = counter_payment_take(caller=cashier, form_key=key, payment=pay_input(bill, "1000"), at=PAY_AT)

    assert (first.replayed, again.replayed) == (False, True)
    assert again.payment.pk == first.payment.pk
    assert Payment.objects.count() == 1
    assert PaymentDetail.objects.get().total_amount_paid == Decimal("1000.00")
    assert list(CounterSubmission.objects.values_list("key", "payment_id", "created_by")) == [
        (key, first.payment.pk, "cashier-asr")
    ]


@pytest.mark.django_db
def test_a_refused_payment_records_no_submission(employee: Caller, cashier: Caller) -> None:
    bill = bill_of(employee)
    with pytest.raises(DomainError) as refused:
        counter_payment_take(
            caller=cashier,
            form_key=uuid.uuid4(),
            payment=pay_input(bill, "1000", mode="CHEQUE", instrument_number=""),
            at=PAY_AT,
        )
    assert refused.value.code == "INVALID_INST_NUMBER"
    assert (Payment.objects.count(), CounterSubmission.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_another_users_form_key_is_refused(employee: Caller, cashier: Caller, user_factory) -> None:
    from masters.access import caller_for
    from masters.models import Role

    other = caller_for(user_factory("cashier-2", {"pb.amritsar": [Role.CASHIER]}))
    bill = bill_of(employee)
    key = uuid.uuid4()
    counter_payment_take(caller=cashier, form_key=key, payment=pay_input(bill, "1000"), at=PAY_AT)
    with pytest.raises(DomainError) as refused:
        counter_payment_take(caller=other, form_key=key, payment=pay_input(bill, "1000"), at=PAY_AT)
    assert refused.value.code == "PAYMENT_FORM_KEY_REUSED"
    assert Payment.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_click_racing_itself_records_one_payment(employee: Caller, cashier: Caller) -> None:
    bill = bill_of(employee)
    key = uuid.uuid4()

    def submit() -> tuple[str, bool]:
        outcome = counter_payment_take(caller=cashier, form_key=key, payment=pay_input(bill, "1000"), at=PAY_AT)
        return str(outcome.payment.pk), outcome.replayed

    outcomes = run_together([submit, submit])

    [payment] = Payment.objects.all()
    assert sorted(outcomes, key=lambda o: o[1]) == [(str(payment.pk), False), (str(payment.pk), True)]
    assert CounterSubmission.objects.count() == 1
