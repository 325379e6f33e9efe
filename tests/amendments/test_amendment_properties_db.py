"""Properties of applying amendments on the database, over generated amendments.

Each example uses a new consumer, so examples do not see each other's rows.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amendments.models import Amendment
from billing_project.money import money_sum
from demands.models import DemandDetail
from demands.services import demand_create
from masters.access import Caller
from tests.amendments.conftest import AT, LATER, amend, decide, lines, wc_demand

pytestmark = pytest.mark.django_db
_consumers = itertools.count(1)


@st.composite
def amendment_lines(draw: st.DrawFn) -> tuple[tuple[str, str], ...]:
    """1–4 lines of one sign, in paise."""
    sign = draw(st.sampled_from((1, -1)))
    amounts = draw(st.lists(st.integers(0 if sign > 0 else 1, 100_000), min_size=1, max_size=4))
    heads = draw(
        st.lists(st.sampled_from(("WS_CHARGE", "WS_TIME_PENALTY")), min_size=len(amounts), max_size=len(amounts))
    )
    return tuple((head, str(Decimal(sign * amount) / 100)) for head, amount in zip(heads, amounts, strict=True))


@settings(
    derandomize=True,
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pairs=amendment_lines(), with_demand=st.booleans())
def test_the_demand_changes_by_exactly_the_amendment_total_once(
    employee: Caller,
    approver: Caller,
    wc_masters: dict[str, Any],
    pairs: tuple[tuple[str, str], ...],
    with_demand: bool,
) -> None:
    consumer = f"WS-P-{next(_consumers)}"
    if with_demand:
        demand_create(caller=employee, demands=[wc_demand(consumer)], at=AT)
    amendment = decide(approver, amend(employee, consumer, details=lines(*pairs), at=AT), "APPROVE", at=LATER)
    if not with_demand:
        assert Amendment.objects.get(pk=amendment.pk).status == "ACTIVE"
        demand_create(caller=employee, demands=[wc_demand(consumer)], at=LATER)
    stored = Amendment.objects.get(pk=amendment.pk)
    assert stored.status == "CONSUMED"
    taxes = list(DemandDetail.objects.filter(demand__consumer_code=consumer).values_list("tax_amount", flat=True))
    expected = Decimal("1000.00") + money_sum(Decimal(amount) for _, amount in pairs)
    assert money_sum(taxes) == expected
    assert len(taxes) == 1 + len(pairs)
    assert stored.amendment_id.startswith("CN-" if Decimal(pairs[0][1]) >= 0 else "DN-")
