"""Properties of payment_create / payment_cancel on the database, over generated demands and payments.

Each example uses a new consumer, so examples do not see each other's rows.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_project.money import ZERO, money_sum
from demands.models import Demand, DemandDetail
from masters.models import BusinessService
from payments.models import PaymentApplication
from payments.services import payment_cancel
from tests.payments.conftest import (
    CANCEL_AT,
    PTAN2017_FROM,
    PTAN2017_TO,
    PTAN2018_FROM,
    PTAN2018_TO,
    PTAN2019_FROM,
    PTAN2019_TO,
    fetch_bill,
    line,
    make_bill,
    next_consumer,
    pay,
    pt_demand,
)

PERIODS = ((PTAN2017_FROM, PTAN2017_TO), (PTAN2018_FROM, PTAN2018_TO), (PTAN2019_FROM, PTAN2019_TO))
CHARGES = ("PT_TAX", "PT_FIRE_CESS", "PT_ADHOC_PENALTY")
CREDITS = ("PT_TIME_REBATE", "PT_OWNER_EXEMPTION")


@st.composite
def demand_details(draw: st.DrawFn) -> tuple[tuple[str, int], ...]:
    """1–4 whole-rupee lines: at least one charge; credits never larger than the charges."""
    charges = draw(st.lists(st.tuples(st.sampled_from(CHARGES), st.integers(1, 5000)), min_size=1, max_size=3))
    credit_room = sum(amount for _, amount in charges)
    credits = draw(st.lists(st.tuples(st.sampled_from(CREDITS), st.integers(1, 500)), max_size=1))
    return tuple(charges) + tuple((head, -min(amount, credit_room)) for head, amount in credits)


def lines_of(consumer: str) -> list[tuple[str, Decimal, Decimal, bool]]:
    return list(
        DemandDetail.objects.filter(demand__consumer_code=consumer)
        .order_by("pk")
        .values_list("pk", "tax_amount", "collection_amount", "demand__is_payment_completed")
    )


@settings(
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    demands=st.lists(demand_details(), min_size=1, max_size=3),
    share=st.integers(min_value=1, max_value=100),
)
def test_property_payment_applies_exactly_once_and_cancel_restores(employee, cashier, demands, share):
    # Any part payment: the property is about exact apportioning, not the service's minimum part payment.
    BusinessService.objects.filter(code="PT").update(part_payment_allowed=True, min_amount_payable=None)
    consumer = next_consumer()
    bill = make_bill(
        employee,
        *(
            pt_demand(
                consumer, period=PERIODS[index], details=tuple(line(head, str(amount)) for head, amount in details)
            )
            for index, details in enumerate(demands)
        ),
    )
    before = lines_of(consumer)
    amount = (
        max(Decimal(1), (bill.total_amount * share / 100).to_integral_value()) if bill.total_amount > ZERO else ZERO
    )
    collected_before = money_sum(row[2] for row in before)

    payment = pay(cashier, bill, amount)

    after = lines_of(consumer)
    # Σ collections grew by exactly the payment; no line breaks the amount rule.
    assert money_sum(row[2] for row in after) - collected_before == amount
    assert money_sum(PaymentApplication.objects.filter(payment_detail__payment=payment).values_list(
        "collection_delta", flat=True
    )) == amount  # fmt: skip
    for _, tax, collection, _ in after:
        assert (ZERO <= collection <= tax) if tax >= ZERO else (tax <= collection <= ZERO)
    # A demand is completed exactly when its collections add up to its taxes.
    for demand in Demand.objects.filter(consumer_code=consumer).prefetch_related("details"):
        rows = list(demand.details.all())
        assert demand.is_payment_completed == (
            money_sum(r.tax_amount for r in rows) == money_sum(r.collection_amount for r in rows)
        )
    next_bill = fetch_bill(cashier, consumer)
    remaining = next_bill.total_amount if next_bill is not None else ZERO
    assert remaining == bill.total_amount - amount

    payment_cancel(caller=cashier, payment_id=payment.pk, reason="property", at=CANCEL_AT)

    assert lines_of(consumer) == before  # cancel(pay(x)) == x
