"""demand_update and demand_cancel (reference §7.2): ids, lines, immutables, payment flag, cancel, history."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from billing_project.errors import DomainError, NotFound, ValidationFailed
from demands.models import ConsumerAccount, Demand, DemandDetail, DemandDetailHistory, DemandHistory
from demands.services import DemandInput, PayerInput, demand_cancel, demand_create, demand_update
from masters.access import caller_for
from masters.models import Role
from tests.demands.conftest import (
    AT,
    LATER,
    PTAN2018_FROM,
    PTAN2018_TO,
    PTAN2019_FROM,
    PTAN2019_TO,
    line,
    ms,
    pt_demand,
    revision_of,
    snapshot,
)

LATEST = dt.datetime(2024, 5, 3, 8, 15, tzinfo=dt.UTC)
DUPLICATE = (
    "Demand already exists in the same period with the same businessService for the given consumercodes : {codes}"
)


def kept(demand: Demand, **changes: str) -> tuple[Any, ...]:
    """The demand's lines as update input (``changes``: head code -> new tax amount)."""
    return tuple(
        line(d.tax_head_code, changes.get(d.tax_head_code, str(d.tax_amount)), id=d.pk) for d in demand.details.all()
    )


def as_update(demand: Demand, **kwargs: Any) -> DemandInput:
    base = pt_demand(
        demand.consumer_code,
        tenant=demand.tenant.code,
        id=demand.pk,
        details=kept(demand),
        payer=PayerInput(uuid=demand.payer_id) if demand.payer_id else None,
    )
    return replace(base, **kwargs)


def refused(caller: Any, demands: list[DemandInput], *, at: dt.datetime = LATER) -> DomainError:
    before = snapshot()
    with pytest.raises(DomainError) as info:
        demand_update(caller=caller, demands=demands, at=at)
    assert snapshot() == before
    return info.value


@pytest.fixture
def demand(employee: Any, payer_factory: Any) -> Demand:
    payer = payer_factory("Asha Devi", "9876543210")
    [created] = demand_create(
        caller=employee,
        demands=[
            pt_demand(
                payer=PayerInput(uuid=payer.uuid),
                details=(line("PT_TAX", "1000", "400"), line("PT_TIME_REBATE", "-50")),
                additional_details={"v": 1},
            )
        ],
        at=AT,
    )
    return created


def lines_of(demand_id: uuid.UUID) -> list[tuple[str, Decimal, Decimal, str, dt.datetime, str, dt.datetime]]:
    return sorted(
        DemandDetail.objects.filter(demand_id=demand_id).values_list(
            "tax_head_code", "tax_amount", "collection_amount", "created_by", "created_at", "modified_by", "modified_at"
        )
    )


# --- refusals --------------------------------------------------------------------------------------


def test_update_without_any_id_is_undidentifiable(employee, demand):
    error = refused(employee, [pt_demand("PT-NEW")])
    assert (error.code, error.message) == (
        "EG_BS_DEMANDS_UNDIDENTIFIABLE",
        "Demands, must contain ids in the update payload",
    )
    assert refused(employee, []).code == "EG_BS_DEMANDS_UNDIDENTIFIABLE"


def test_unknown_demand_id(employee, demand):
    ghost = uuid.UUID("00000000-0000-4000-8000-0000000000aa")
    error = refused(employee, [as_update(demand), replace(as_update(demand), id=ghost)])
    assert (type(error), error.code, error.message, error.http_status) == (
        NotFound,
        "EG_BS_DEMANDS_NOT_FOUND",
        f"No Demands not found in db for following ids : [{ghost}]",
        404,
    )


def test_a_demand_of_another_city_is_not_found(employee, user_factory, seed):
    jalandhar = caller_for(user_factory("emp-jal", {"pb.jalandhar": [Role.EMPLOYEE]}))
    [other] = demand_create(caller=jalandhar, demands=[pt_demand(tenant="pb.jalandhar")], at=AT)
    # Claiming the caller's own city for it does not help: the id is not visible there.
    error = refused(employee, [replace(as_update(other), tenant_code="pb.amritsar")])
    assert (error.code, error.message) == (
        "EG_BS_DEMANDS_NOT_FOUND",
        f"No Demands not found in db for following ids : [{other.pk}]",
    )
    error = refused(employee, [as_update(other)])
    assert (error.code, error.http_status) == ("PERMISSION_DENIED", 403)


def test_detail_id_of_another_demand(employee, demand):
    [other] = demand_create(caller=employee, demands=[pt_demand(period=(PTAN2018_FROM, PTAN2018_TO))], at=AT)
    [foreign] = other.details.all()
    ghost = uuid.UUID("00000000-0000-4000-8000-0000000000bb")
    data = as_update(demand, details=(*kept(demand), line("PT_TAX", "5", id=foreign.pk), line("PT_TAX", "6", id=ghost)))
    error = refused(employee, [data])
    assert (error.code, error.message) == (
        "EG_BS_DEMAND_DETAIL_NOTFOUND",
        f"No Demand details found for the given ids :  [{foreign.pk}, {ghost}]",
    )


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("consumer_code", "PT-999", "consumerCode of demand {pk} (PT-107-001 -> PT-999)"),
        ("business_service", "TL", "businessService of demand {pk} (PT -> TL)"),
    ],
)
def test_consumer_code_and_business_service_are_immutable(employee, demand, field, value, text):
    error = refused(employee, [replace(as_update(demand), **{field: value})])
    assert (error.code, error.message) == (
        "EG_BS_DEMAND_IMMUTABLE_FIELD",
        "tenantId, consumerCode and businessService of a demand cannot be changed: " + text.format(pk=demand.pk),
    )


def test_update_validates_like_create(employee, demand):
    data = as_update(demand, details=(*kept(demand), line("PT_BOGUS", "1")), tax_period_from=ms(1000))
    data = replace(data, tax_period_to=ms(2000))
    error = refused(employee, [data])
    assert isinstance(error, ValidationFailed)
    assert [(e.code, e.message) for e in error.errors] == [
        ("EG_BS_TAXPERIODS_DEMAND", "No Tax Periods Found for the given demand with fromDate : 1000 and toDate : 2000"),
        ("EG_BS_TAXHEADS_NOTFOUND", "No TaxHead masters found for give codes [PT_BOGUS]"),
    ]


def test_lowering_a_tax_below_what_was_collected_breaks_the_amount_rule(employee, demand):
    error = refused(employee, [as_update(demand, details=kept(demand, PT_TAX="300"))])
    assert (error.code, error.message) == (
        "EG_DEMAND_DEATIL_INVALID",
        'Invalid demand details found with following Values : [ "collection amount : 400, cannot not be greater '
        'than taxAmount or Negative in case of positive tax : 300" ]',
    )


def test_moving_a_demand_onto_the_period_of_another_active_demand_is_a_duplicate(employee, demand):
    demand_create(caller=employee, demands=[pt_demand(period=(PTAN2018_FROM, PTAN2018_TO))], at=AT)
    data = replace(as_update(demand), tax_period_from=ms(PTAN2018_FROM), tax_period_to=ms(PTAN2018_TO))
    error = refused(employee, [data])
    assert (error.code, error.message) == ("EG_BS_DUPLICATE_CONSUMERCODE", DUPLICATE.format(codes="[PT-107-001]"))


def test_a_cashier_cannot_update(demand, user_factory):
    cashier = caller_for(user_factory("cashier", {"pb.amritsar": [Role.CASHIER]}))
    error = refused(cashier, [as_update(demand)])
    assert (error.code, error.message) == (
        "PERMISSION_DENIED",
        "You need one of the roles EMPLOYEE, BILLING_ADMIN, SYSTEM in pb.amritsar to update demands.",
    )


# --- lines ---------------------------------------------------------------------------------------


def test_new_line_starts_with_zero_collection_and_omitted_lines_are_kept(employee, demand):
    rebate = demand.details.get(tax_head_code="PT_TIME_REBATE")
    tax = demand.details.get(tax_head_code="PT_TAX")
    data = as_update(
        demand,
        details=(
            line("PT_TAX", "1200", "999", id=tax.pk),  # tax changes; the sent collection is ignored
            line("PT_FIRE_CESS", "100", "100", additional_details={"new": True}),  # new: collection forced to 0
        ),  # PT_TIME_REBATE omitted
    )
    [updated] = demand_update(caller=employee, demands=[data], at=LATER)

    assert lines_of(demand.pk) == [
        ("PT_FIRE_CESS", Decimal("100.00"), Decimal("0.00"), "emp-asr", LATER, "emp-asr", LATER),
        ("PT_TAX", Decimal("1200.00"), Decimal("400.00"), "emp-asr", AT, "emp-asr", LATER),
        ("PT_TIME_REBATE", Decimal("-50.00"), Decimal("0.00"), "emp-asr", AT, "emp-asr", AT),
    ]
    assert DemandDetail.objects.get(pk=rebate.pk).modified_at == AT
    assert DemandDetail.objects.get(tax_head_code="PT_FIRE_CESS").additional_details == {"new": True}
    # The returned demand: lines by creation time, then head code.
    assert [(d.tax_head_code, d.tax_amount, d.collection_amount) for d in updated.details.all()] == [
        ("PT_TAX", Decimal("1200.00"), Decimal("400.00")),
        ("PT_TIME_REBATE", Decimal("-50.00"), Decimal("0.00")),
        ("PT_FIRE_CESS", Decimal("100.00"), Decimal("0.00")),
    ]
    row = Demand.objects.get(pk=demand.pk)
    assert (row.created_by, row.created_at, row.modified_by, row.modified_at) == ("emp-asr", AT, "emp-asr", LATER)


def test_update_history_rows_and_revision(employee, demand):
    tax = demand.details.get(tax_head_code="PT_TAX")
    data = as_update(
        demand,
        details=(line("PT_TAX", "1100", id=tax.pk), line("PT_ADHOC_PENALTY", "25")),
        additional_details={"v": 2},
        minimum_amount_payable=Decimal("50"),
    )
    assert revision_of("PT-107-001") == 1
    demand_update(caller=employee, demands=[data], at=LATER)
    assert revision_of("PT-107-001") == 2
    assert ConsumerAccount.objects.get().updated_at == LATER

    assert list(
        DemandHistory.objects.order_by("id").values_list(
            "demand_id", "revision", "action", "changed_by", "changed_at", "status", "additional_details",
            "minimum_amount_payable", "is_payment_completed",
        )
    ) == [
        (demand.pk, 1, "CREATE", "emp-asr", AT, "ACTIVE", {"v": 1}, Decimal("0.00"), False),
        (demand.pk, 2, "UPDATE", "emp-asr", LATER, "ACTIVE", {"v": 2}, Decimal("50.00"), False),
    ]  # fmt: skip
    penalty = DemandDetail.objects.get(tax_head_code="PT_ADHOC_PENALTY")
    # One row per line written: the changed PT_TAX and the new penalty; the omitted rebate is not written.
    assert sorted(
        DemandDetailHistory.objects.filter(revision=2).values_list(
            "detail_id", "demand_id", "action", "changed_by", "changed_at", "tax_head_code", "tax_amount",
            "collection_amount",
        ),
        key=lambda r: r[5],
    ) == [
        (penalty.pk, demand.pk, "UPDATE", "emp-asr", LATER, "PT_ADHOC_PENALTY", Decimal("25.00"), Decimal("0.00")),
        (tax.pk, demand.pk, "UPDATE", "emp-asr", LATER, "PT_TAX", Decimal("1100.00"), Decimal("400.00")),
    ]  # fmt: skip
    assert DemandDetailHistory.objects.filter(revision=1).count() == 2


def test_period_payer_and_expiry_can_change(employee, demand, payer_factory):
    other = payer_factory("Ravi", "9000000001")
    data = replace(
        as_update(demand),
        tax_period_from=ms(PTAN2019_FROM + 1000),
        tax_period_to=ms(PTAN2019_TO - 1000),
        payer=PayerInput(uuid=other.uuid),
        bill_expiry_time=dt.timedelta(days=3),
        fixed_bill_expiry_date=dt.datetime(2024, 7, 1, tzinfo=dt.UTC),
        consumer_type="VACANT",
    )
    demand_update(caller=employee, demands=[data], at=LATER)
    row = Demand.objects.get(pk=demand.pk)
    assert (
        row.tax_period_from,
        row.tax_period_to,
        row.payer_id,
        row.bill_expiry_time,
        row.fixed_bill_expiry_date,
        row.consumer_type,  # immutable through update, as in the reference (the sent value is ignored)
    ) == (
        ms(PTAN2019_FROM + 1000),
        ms(PTAN2019_TO - 1000),
        other.uuid,
        dt.timedelta(days=3),
        dt.datetime(2024, 7, 1, tzinfo=dt.UTC),
        "BUILTUP",
    )


def test_update_without_payer_removes_the_payer(employee, demand):
    demand_update(caller=employee, demands=[as_update(demand, payer=None)], at=LATER)
    assert Demand.objects.get(pk=demand.pk).payer_id is None


# --- isPaymentCompleted ----------------------------------------------------------------------------


def test_payment_completed_is_server_managed(employee, demand):
    # Settled lines: PT_TAX 1000/1000 and the rebate fully consumed, as a payment would leave them.
    DemandDetail.objects.filter(tax_head_code="PT_TAX").update(collection_amount=Decimal("1000"))
    DemandDetail.objects.filter(tax_head_code="PT_TIME_REBATE").update(collection_amount=Decimal("-50"))

    # Not completed in the database and sums equal: stays false (the DB value is kept).
    demand_update(caller=employee, demands=[as_update(demand)], at=LATER)
    assert Demand.objects.get(pk=demand.pk).is_payment_completed is False

    # Completed in the database and sums still equal: stays true.
    Demand.objects.filter(pk=demand.pk).update(is_payment_completed=True)
    demand_update(caller=employee, demands=[as_update(demand, additional_details={"v": 3})], at=LATEST)
    assert Demand.objects.get(pk=demand.pk).is_payment_completed is True
    assert DemandHistory.objects.order_by("-id").values_list("is_payment_completed", flat=True)[0] is True

    # A new line makes the sums differ: false again.
    demand_update(
        caller=employee,
        demands=[as_update(demand, details=(*kept(demand), line("PT_ADHOC_PENALTY", "10")))],
        at=LATEST,
    )
    assert Demand.objects.get(pk=demand.pk).is_payment_completed is False
    assert DemandHistory.objects.order_by("-id").values_list("is_payment_completed", flat=True)[0] is False


# --- cancel --------------------------------------------------------------------------------------


def test_cancel_through_update_status(employee, demand):
    payer_id = demand.payer_id
    [cancelled] = demand_update(caller=employee, demands=[as_update(demand, status="CANCELLED")], at=LATER)
    assert (cancelled.status, cancelled.payer_id) == ("CANCELLED", payer_id)
    assert revision_of("PT-107-001") == 2
    assert list(DemandHistory.objects.order_by("id").values_list("revision", "action", "status")) == [
        (1, "CREATE", "ACTIVE"),
        (2, "CANCEL", "CANCELLED"),
    ]
    assert sorted(DemandDetailHistory.objects.filter(revision=2).values_list("action", "tax_head_code")) == [
        ("CANCEL", "PT_TAX"),
        ("CANCEL", "PT_TIME_REBATE"),
    ]
    # The period is free again.
    [new] = demand_create(caller=employee, demands=[pt_demand()], at=LATEST)
    assert (new.status, revision_of("PT-107-001")) == ("ACTIVE", 3)


def test_demand_cancel_keeps_lines_and_payer(employee, demand):
    before_lines = lines_of(demand.pk)
    cancelled = demand_cancel(caller=employee, demand_id=demand.pk, at=LATER)
    row = Demand.objects.get(pk=demand.pk)
    assert (cancelled.pk, row.status, row.modified_at) == (demand.pk, "CANCELLED", LATER)
    assert row.payer_id == demand.payer_id
    assert row.additional_details == {"v": 1}
    assert [r[:3] for r in lines_of(demand.pk)] == [r[:3] for r in before_lines]
    assert revision_of("PT-107-001") == 2
    [history] = DemandHistory.objects.filter(revision=2)
    assert (history.action, history.status, history.payer_id, history.changed_by, history.changed_at) == (
        "CANCEL",
        "CANCELLED",
        demand.payer_id,
        "emp-asr",
        LATER,
    )
    [new] = demand_create(caller=employee, demands=[pt_demand()], at=LATEST)
    assert new.status == "ACTIVE"


def test_demand_cancel_refusals(employee, demand, user_factory, seed):
    demand_cancel(caller=employee, demand_id=demand.pk, at=LATER)
    before = snapshot()
    with pytest.raises(DomainError) as info:
        demand_cancel(caller=employee, demand_id=demand.pk, at=LATEST)
    assert (info.value.code, info.value.message, info.value.http_status) == (
        "EG_BS_DEMAND_ALREADY_CANCELLED",
        f"Demand {demand.pk} is already cancelled",
        409,
    )
    jalandhar = caller_for(user_factory("emp-jal", {"pb.jalandhar": [Role.EMPLOYEE]}))
    with pytest.raises(NotFound) as info:
        demand_cancel(caller=jalandhar, demand_id=demand.pk, at=LATEST)
    assert (info.value.code, info.value.message) == (
        "EG_BS_DEMANDS_NOT_FOUND",
        f"No Demands not found in db for following ids : [{demand.pk}]",
    )
    assert snapshot() == before


def test_reactivating_a_cancelled_demand_whose_period_was_taken_is_a_duplicate(employee, demand):
    demand_cancel(caller=employee, demand_id=demand.pk, at=LATER)
    demand_create(caller=employee, demands=[pt_demand()], at=LATER)
    stale = Demand.objects.get(pk=demand.pk)
    error = refused(employee, [as_update(stale, status="ACTIVE")], at=LATEST)
    assert (error.code, error.message) == ("EG_BS_DUPLICATE_CONSUMERCODE", DUPLICATE.format(codes="[PT-107-001]"))


# --- demands without id in an update payload --------------------------------------------------------


def test_demands_without_id_are_created_in_the_same_write(employee, demand):
    data = [
        as_update(demand, details=kept(demand, PT_TAX="1100")),
        pt_demand(period=(PTAN2018_FROM, PTAN2018_TO), details=(line("PT_TAX", "800", "100"),)),
    ]
    result = demand_update(caller=employee, demands=data, at=LATER)
    assert [(d.tax_period_from, d.status) for d in result] == [
        (ms(PTAN2018_FROM), "ACTIVE"),
        (ms(PTAN2019_FROM), "ACTIVE"),
    ]
    created = result[0]
    # A new demand keeps the collection it was sent with (create rules), at the same revision.
    assert [(d.tax_head_code, d.tax_amount, d.collection_amount) for d in created.details.all()] == [
        ("PT_TAX", Decimal("800.00"), Decimal("100.00"))
    ]
    assert revision_of("PT-107-001") == 2
    assert list(DemandHistory.objects.order_by("id").values_list("demand_id", "revision", "action")) == [
        (demand.pk, 1, "CREATE"),
        (demand.pk, 2, "UPDATE"),
        (created.pk, 2, "CREATE"),
    ]


def test_an_invalid_new_demand_in_an_update_writes_nothing(employee, demand):
    data = [
        as_update(demand, details=kept(demand, PT_TAX="1100")),
        pt_demand(period=(PTAN2018_FROM, PTAN2018_TO), details=(line("PT_BOGUS", "1"),)),
    ]
    error = refused(employee, data)
    assert (error.code, error.message) == (
        "EG_BS_TAXHEADS_NOTFOUND",
        "No TaxHead masters found for give codes [PT_BOGUS]",
    )
    assert DemandDetail.objects.get(tax_head_code="PT_TAX").tax_amount == Decimal("1000.00")


def test_a_new_demand_duplicating_an_existing_period_in_an_update_writes_nothing(employee, demand):
    demand_create(caller=employee, demands=[pt_demand(period=(PTAN2018_FROM, PTAN2018_TO))], at=AT)
    data = [
        as_update(demand, details=kept(demand, PT_TAX="1100")),
        pt_demand(period=(PTAN2018_FROM, PTAN2018_TO)),
    ]
    error = refused(employee, data)
    assert (error.code, error.message) == ("EG_BS_DUPLICATE_CONSUMERCODE", DUPLICATE.format(codes="[PT-107-001]"))
    assert revision_of("PT-107-001") == 2
