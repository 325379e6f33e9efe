"""``billing_project.db.update_rows``: one set-based UPDATE writes a value per row (and shared values), exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_project.db import update_rows
from demands.models import Demand, DemandDetail
from demands.services import demand_create
from tests.demands import conftest as demand_fixtures
from tests.demands.conftest import PTAN2018_FROM, PTAN2018_TO, line, pt_demand

seed = demand_fixtures.seed
employee_user = demand_fixtures.employee_user
employee = demand_fixtures.employee

AT = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2024, 5, 2, 8, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
D = Decimal


@pytest.fixture
def lines(employee):
    demand_create(
        caller=employee,
        demands=[
            pt_demand("PT-UPD-1", details=(line("PT_TAX", "500"), line("PT_FIRE_CESS", "20"))),
            pt_demand("PT-UPD-1", period=(PTAN2018_FROM, PTAN2018_TO), details=(line("PT_TIME_REBATE", "-10"),)),
        ],
        at=AT,
    )
    return {row.tax_head_code: row for row in DemandDetail.objects.all()}


def stored():
    return {
        row.tax_head_code: (row.tax_amount, row.collection_amount, row.modified_by, row.modified_at)
        for row in DemandDetail.objects.all()
    }


def test_one_statement_writes_each_rows_values_and_the_shared_ones(lines):
    before = stored()
    with CaptureQueriesContext(connection) as queries:
        updated = update_rows(
            DemandDetail,
            [(lines["PT_TAX"].pk, D("123.45"), D("500.00")), (lines["PT_TIME_REBATE"].pk, D("-7.05"), D("-10.00"))],
            fields=("collection_amount", "tax_amount"),
            same={"modified_by": "cashier", "modified_at": LATER},
        )
    assert updated == 2
    assert len(queries) == 1
    assert queries[0]["sql"].startswith('UPDATE "demands_demanddetail" SET ')
    assert stored() == {
        "PT_TAX": (D("500.00"), D("123.45"), "cashier", LATER),
        "PT_FIRE_CESS": before["PT_FIRE_CESS"],
        "PT_TIME_REBATE": (D("-10.00"), D("-7.05"), "cashier", LATER),
    }
    assert str(DemandDetail.objects.get(pk=lines["PT_TAX"].pk).collection_amount) == "123.45"


def test_booleans_and_rows_without_shared_values(lines):
    demands = list(Demand.objects.order_by("tax_period_from"))
    update_rows(Demand, [(demands[0].pk, True), (demands[1].pk, False)], fields=("is_payment_completed",))
    assert list(Demand.objects.order_by("tax_period_from").values_list("is_payment_completed", "modified_at")) == [
        (True, AT),
        (False, AT),
    ]


def test_no_rows_is_no_statement(lines):
    with CaptureQueriesContext(connection) as queries:
        assert update_rows(DemandDetail, [], fields=("collection_amount",), same={"modified_by": "x"}) == 0
    assert len(queries) == 0


def test_a_row_of_the_wrong_width_or_a_field_that_is_no_column_is_refused_before_writing(lines):
    before = stored()
    with pytest.raises(ValueError, match="each row has the pk and 2 value"):
        update_rows(DemandDetail, [(lines["PT_TAX"].pk, D("1.00"))], fields=("collection_amount", "tax_amount"))
    with pytest.raises(ValueError, match="Demand.details is not a column"):
        update_rows(Demand, [(lines["PT_TAX"].demand_id, None)], fields=("details",))
    assert stored() == before


def test_rows_beyond_the_parameter_limit_are_written_in_runs(lines, monkeypatch):
    monkeypatch.setattr(connection.features, "max_query_params", 8)  # 2 shared + 2 rows of (pk, value, value)
    rows = [
        (lines["PT_TAX"].pk, D("1.00"), D("500.00")),
        (lines["PT_FIRE_CESS"].pk, D("2.00"), D("20.00")),
        (lines["PT_TIME_REBATE"].pk, D("-3.00"), D("-10.00")),
    ]
    with CaptureQueriesContext(connection) as queries:
        updated = update_rows(
            DemandDetail,
            rows,
            fields=("collection_amount", "tax_amount"),
            same={"modified_by": "cashier", "modified_at": LATER},
        )
    assert (updated, len(queries)) == (3, 2)
    assert stored() == {
        "PT_TAX": (D("500.00"), D("1.00"), "cashier", LATER),
        "PT_FIRE_CESS": (D("20.00"), D("2.00"), "cashier", LATER),
        "PT_TIME_REBATE": (D("-10.00"), D("-3.00"), "cashier", LATER),
    }


@pytest.mark.postgres
def test_an_over_long_text_value_is_refused_not_cut(lines):
    from django.db import DataError, transaction

    with pytest.raises(DataError), transaction.atomic():
        update_rows(DemandDetail, [(lines["PT_TAX"].pk, "X" * 300)], fields=("tax_head_code",))
    assert DemandDetail.objects.get(pk=lines["PT_TAX"].pk).tax_head_code == "PT_TAX"
