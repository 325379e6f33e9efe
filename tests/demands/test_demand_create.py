"""demand_create (reference §7.1): validations with their exact codes and texts, payers, duplicates, history.

Every refusal is checked to have written nothing: rows of every demand table, payers and account revisions.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from billing_project.errors import ConflictError, DomainError, PermissionDeniedError, ValidationFailed
from demands.models import ConsumerAccount, Demand, DemandDetail, DemandDetailHistory, DemandHistory
from demands.services import PayerInput, demand_create, demand_update
from masters.access import caller_for
from masters.models import Payer, PayerType, Role
from tests.demands.conftest import (
    AT,
    LATER,
    PTAN2016_FROM,
    PTAN2016_TO,
    PTAN2017_FROM,
    PTAN2017_TO,
    PTAN2018_FROM,
    PTAN2018_TO,
    PTAN2019_FROM,
    PTAN2019_TO,
    TLAN2018_FROM,
    TLAN2018_TO,
    line,
    ms,
    pt_demand,
    revision_of,
    snapshot,
    wc_demand,
)

DUPLICATE = (
    "Demand already exists in the same period with the same businessService for the given consumercodes : {codes}"
)
POSITIVE = "collection amount : {c}, cannot not be greater than taxAmount or Negative in case of positive tax : {t}"
NEGATIVE = "collection amount : {c}, should be between tax amount : {t} and 'ZERO' in case of negative Tax"


def errors_of(exc: DomainError) -> list[tuple[str, str]]:
    if isinstance(exc, ValidationFailed):
        return [(e.code, e.message) for e in exc.errors]
    return [(exc.code, exc.message)]


def refused(caller: Any, demands: list[Any], *, at: dt.datetime = AT) -> list[tuple[str, str]]:
    """Run demand_create expecting a refusal; assert that nothing was written; return (code, message) pairs."""
    before = snapshot()
    with pytest.raises(DomainError) as info:
        demand_create(caller=caller, demands=demands, at=at)
    assert snapshot() == before
    return errors_of(info.value)


# --- the happy path, exactly -------------------------------------------------------------------


def test_create_writes_demand_details_history_and_bumps_the_account_once(employee, payer_factory):
    payer = payer_factory("Asha Devi", "9876543210")
    data = pt_demand(
        payer=PayerInput(uuid=payer.uuid),
        details=(
            line("PT_TAX", "1000", additional_details={"note": "base"}),
            line("PT_TIME_REBATE", "-50"),
            line("PT_FIRE_CESS", "100.50", "40.25"),
        ),
        bill_expiry_time=dt.timedelta(days=10),
        fixed_bill_expiry_date=dt.datetime(2024, 6, 30, 18, 29, 59, 999000, tzinfo=dt.UTC),
        minimum_amount_payable=Decimal("100"),
        additional_details={"propertyType": "BUILTUP"},
    )
    assert snapshot().demands == 0

    [demand] = demand_create(caller=employee, demands=[data], at=AT)

    assert Demand.objects.count() == 1
    row = Demand.objects.get()
    assert row.pk == demand.pk
    account = ConsumerAccount.objects.get()
    assert (account.tenant.code, account.business_service, account.consumer_code, account.revision) == (
        "pb.amritsar",
        "PT",
        "PT-107-001",
        1,
    )
    assert (account.created_at, account.updated_at) == (AT, AT)
    assert {
        "account": row.account_id,
        "tenant": row.tenant.code,
        "business_service": row.business_service,
        "consumer_code": row.consumer_code,
        "consumer_type": row.consumer_type,
        "payer": row.payer_id,
        "tax_period_from": row.tax_period_from,
        "tax_period_to": row.tax_period_to,
        "bill_expiry_time": row.bill_expiry_time,
        "fixed_bill_expiry_date": row.fixed_bill_expiry_date,
        "minimum_amount_payable": row.minimum_amount_payable,
        "additional_details": row.additional_details,
        "is_payment_completed": row.is_payment_completed,
        "status": row.status,
        "audit": (row.created_by, row.created_at, row.modified_by, row.modified_at),
    } == {
        "account": account.pk,
        "tenant": "pb.amritsar",
        "business_service": "PT",
        "consumer_code": "PT-107-001",
        "consumer_type": "BUILTUP",
        "payer": payer.uuid,
        "tax_period_from": ms(PTAN2019_FROM),
        "tax_period_to": ms(PTAN2019_TO),
        "bill_expiry_time": dt.timedelta(days=10),
        "fixed_bill_expiry_date": dt.datetime(2024, 6, 30, 18, 29, 59, 999000, tzinfo=dt.UTC),
        "minimum_amount_payable": Decimal("100.00"),
        "additional_details": {"propertyType": "BUILTUP"},
        "is_payment_completed": False,
        "status": "ACTIVE",
        "audit": ("emp-asr", AT, "emp-asr", AT),
    }
    details = sorted(
        DemandDetail.objects.values_list(
            "demand_id",
            "tax_head_code",
            "tax_amount",
            "collection_amount",
            "additional_details",
            "created_by",
            "created_at",
            "modified_by",
            "modified_at",
        ),
        key=lambda r: r[1],
    )
    assert details == [
        (row.pk, "PT_FIRE_CESS", Decimal("100.50"), Decimal("40.25"), None, "emp-asr", AT, "emp-asr", AT),
        (row.pk, "PT_TAX", Decimal("1000.00"), Decimal("0.00"), {"note": "base"}, "emp-asr", AT, "emp-asr", AT),
        (row.pk, "PT_TIME_REBATE", Decimal("-50.00"), Decimal("0.00"), None, "emp-asr", AT, "emp-asr", AT),
    ]
    # The returned demand carries its lines in the order they were sent.
    assert [(d.tax_head_code, d.tax_amount, d.collection_amount, d.position) for d in demand.details.all()] == [
        ("PT_TAX", Decimal("1000.00"), Decimal("0.00"), 0),
        ("PT_TIME_REBATE", Decimal("-50.00"), Decimal("0.00"), 1),
        ("PT_FIRE_CESS", Decimal("100.50"), Decimal("40.25"), 2),
    ]

    [history] = DemandHistory.objects.all()
    assert {
        "demand": history.demand_id,
        "revision": history.revision,
        "action": history.action,
        "changed_by": history.changed_by,
        "changed_at": history.changed_at,
        "status": history.status,
        "payer_id": history.payer_id,
        "consumer_type": history.consumer_type,
        "period": (history.tax_period_from, history.tax_period_to),
        "bill_expiry_time": history.bill_expiry_time,
        "fixed_bill_expiry_date": history.fixed_bill_expiry_date,
        "minimum_amount_payable": history.minimum_amount_payable,
        "additional_details": history.additional_details,
        "is_payment_completed": history.is_payment_completed,
    } == {
        "demand": row.pk,
        "revision": 1,
        "action": "CREATE",
        "changed_by": "emp-asr",
        "changed_at": AT,
        "status": "ACTIVE",
        "payer_id": payer.uuid,
        "consumer_type": "BUILTUP",
        "period": (ms(PTAN2019_FROM), ms(PTAN2019_TO)),
        "bill_expiry_time": dt.timedelta(days=10),
        "fixed_bill_expiry_date": dt.datetime(2024, 6, 30, 18, 29, 59, 999000, tzinfo=dt.UTC),
        "minimum_amount_payable": Decimal("100.00"),
        "additional_details": {"propertyType": "BUILTUP"},
        "is_payment_completed": False,
    }
    detail_ids = {d.tax_head_code: d.pk for d in DemandDetail.objects.all()}
    assert sorted(
        DemandDetailHistory.objects.values_list(
            "detail_id",
            "demand_id",
            "revision",
            "action",
            "changed_by",
            "changed_at",
            "tax_head_code",
            "tax_amount",
            "collection_amount",
            "additional_details",
        ),
        key=lambda r: r[6],
    ) == [
        (detail_ids["PT_FIRE_CESS"], row.pk, 1, "CREATE", "emp-asr", AT, "PT_FIRE_CESS", Decimal("100.50"),
         Decimal("40.25"), None),
        (detail_ids["PT_TAX"], row.pk, 1, "CREATE", "emp-asr", AT, "PT_TAX", Decimal("1000.00"), Decimal("0.00"),
         {"note": "base"}),
        (detail_ids["PT_TIME_REBATE"], row.pk, 1, "CREATE", "emp-asr", AT, "PT_TIME_REBATE", Decimal("-50.00"),
         Decimal("0.00"), None),
    ]  # fmt: skip


def test_three_demands_of_one_consumer_in_one_call_bump_the_revision_once(employee):
    created = demand_create(
        caller=employee,
        demands=[
            pt_demand(period=(PTAN2019_FROM, PTAN2019_TO)),
            pt_demand(period=(PTAN2016_FROM, PTAN2016_TO)),
            pt_demand(period=(PTAN2018_FROM, PTAN2018_TO)),
            pt_demand("PT-107-002"),
        ],
        at=AT,
    )
    # Returned oldest period first.
    assert [(d.consumer_code, d.tax_period_from) for d in created] == [
        ("PT-107-001", ms(PTAN2016_FROM)),
        ("PT-107-001", ms(PTAN2018_FROM)),
        ("PT-107-001", ms(PTAN2019_FROM)),
        ("PT-107-002", ms(PTAN2019_FROM)),
    ]
    assert sorted(ConsumerAccount.objects.values_list("consumer_code", "revision")) == [
        ("PT-107-001", 1),
        ("PT-107-002", 1),
    ]
    assert sorted(DemandHistory.objects.values_list("demand__consumer_code", "revision", "action")) == [
        ("PT-107-001", 1, "CREATE"),
        ("PT-107-001", 1, "CREATE"),
        ("PT-107-001", 1, "CREATE"),
        ("PT-107-002", 1, "CREATE"),
    ]
    assert DemandDetailHistory.objects.count() == 4

    # The next write of that consumer is revision 2.
    demand_create(caller=employee, demands=[pt_demand(period=(PTAN2017_FROM, PTAN2017_TO))], at=LATER)
    assert revision_of("PT-107-001") == 2
    assert revision_of("PT-107-002") == 1
    assert sorted(DemandHistory.objects.filter(revision=2).values_list("demand__consumer_code", "action")) == [
        ("PT-107-001", "CREATE")
    ]


def test_collection_on_create_is_accepted_within_the_rule_and_defaults_to_zero(employee):
    [demand] = demand_create(
        caller=employee,
        demands=[
            pt_demand(
                details=(
                    line("PT_TAX", "1000", "1000"),
                    line("PT_TIME_REBATE", "-50", "-20"),  # partly consumed credit: relaxed rule
                    line("PT_OWNER_EXEMPTION", "-100", "-100"),
                    line("PT_ADHOC_PENALTY", "25"),
                )
            )
        ],
        at=AT,
    )
    assert sorted((d.tax_head_code, d.tax_amount, d.collection_amount) for d in demand.details.all()) == [
        ("PT_ADHOC_PENALTY", Decimal("25.00"), Decimal("0.00")),
        ("PT_OWNER_EXEMPTION", Decimal("-100.00"), Decimal("-100.00")),
        ("PT_TAX", Decimal("1000.00"), Decimal("1000.00")),
        ("PT_TIME_REBATE", Decimal("-50.00"), Decimal("-20.00")),
    ]
    # The reference never sets isPaymentCompleted on create.
    assert demand.is_payment_completed is False


def test_amounts_are_rounded_half_up_to_cents(employee):
    [demand] = demand_create(caller=employee, demands=[pt_demand(details=(line("PT_TAX", "100.005", "0.015"),))], at=AT)
    [detail] = demand.details.all()
    assert (detail.tax_amount, detail.collection_amount) == (Decimal("100.01"), Decimal("0.02"))


# --- validations ---------------------------------------------------------------------------------


def test_unknown_business_service(employee):
    assert refused(employee, [pt_demand(business_service="XX")]) == [
        ("EG_BS_BUSINESSSERVICE_NOTFOUND", "No Business Service masters found for give codes [XX]")
    ]


def test_unknown_tax_heads_are_listed_once_each(employee):
    data = pt_demand(
        details=(line("PT_TAX", "10"), line("PT_BOGUS", "1"), line("PT_OTHER", "2"), line("PT_BOGUS", "3"))
    )
    assert refused(employee, [data]) == [
        ("EG_BS_TAXHEADS_NOTFOUND", "No TaxHead masters found for give codes [PT_BOGUS, PT_OTHER]")
    ]


def test_tax_heads_are_not_checked_for_a_service_without_heads(employee):
    # TL has periods but no tax heads in the seed: any head is accepted, as in the reference.
    [demand] = demand_create(
        caller=employee,
        demands=[
            pt_demand(
                "TL-1",
                business_service="TL",
                period=(TLAN2018_FROM, TLAN2018_TO),
                details=(line("ANYTHING", "10"),),
            )
        ],
        at=AT,
    )
    assert [d.tax_head_code for d in demand.details.all()] == ["ANYTHING"]


def test_period_outside_every_tax_period_names_its_epoch_values(employee):
    assert refused(employee, [pt_demand(period=(1420070400000, 1420156800000))]) == [
        (
            "EG_BS_TAXPERIODS_DEMAND",
            "No Tax Periods Found for the given demand with fromDate : 1420070400000 and toDate : 1420156800000",
        )
    ]
    # One millisecond past the end of PTAN2019, and a period spanning two tax periods.
    assert refused(employee, [pt_demand(period=(PTAN2019_FROM, PTAN2019_TO + 1))]) == [
        (
            "EG_BS_TAXPERIODS_DEMAND",
            f"No Tax Periods Found for the given demand with fromDate : {PTAN2019_FROM} and toDate : {PTAN2019_TO + 1}",
        )
    ]
    assert refused(employee, [pt_demand(period=(PTAN2018_FROM, PTAN2019_TO))]) == [
        (
            "EG_BS_TAXPERIODS_DEMAND",
            f"No Tax Periods Found for the given demand with fromDate : {PTAN2018_FROM} and toDate : {PTAN2019_TO}",
        )
    ]


def test_period_error_reports_the_last_offending_demand(employee):
    # The reference's error map is keyed by code: the last offending demand's message wins.
    demands = [pt_demand(period=(1420070400000, 1420156800000)), pt_demand("PT-2", period=(1000, 2000))]
    assert refused(employee, demands) == [
        ("EG_BS_TAXPERIODS_DEMAND", "No Tax Periods Found for the given demand with fromDate : 1000 and toDate : 2000")
    ]


def test_service_without_tax_periods(employee):
    # The seed's WaterCharges has no tax periods (and no heads).
    assert refused(employee, [wc_demand(details=(line("ANY", "10"),))]) == [
        ("EG_BS_TAXPERIODS_BUINESSSERVICE", "No Tax Periods Found for the given BusinessServices value of [WC]")
    ]


def test_a_sub_period_inside_a_tax_period_is_accepted(employee):
    [demand] = demand_create(
        caller=employee, demands=[pt_demand(period=(PTAN2019_FROM + 1000, PTAN2019_TO - 1000))], at=AT
    )
    assert (demand.tax_period_from, demand.tax_period_to) == (ms(PTAN2019_FROM + 1000), ms(PTAN2019_TO - 1000))


def test_unknown_payer_uuid(employee):
    ghost = uuid.UUID("00000000-0000-4000-8000-000000000001")
    assert refused(employee, [pt_demand(payer=PayerInput(uuid=ghost))]) == [
        ("EG_BS_USER_UUID_NOTFOUND", f"No users found for following uuids  [{ghost}]")
    ]


def test_payer_of_another_state_is_unknown(employee, tenant_factory):
    other = Payer.objects.create(tenant=tenant_factory("hr"), name="Ravi", mobile_number="9000000001")
    assert refused(employee, [pt_demand(payer=PayerInput(uuid=other.uuid))]) == [
        ("EG_BS_USER_UUID_NOTFOUND", f"No users found for following uuids  [{other.uuid}]")
    ]


def test_employee_payer_is_refused(employee, payer_factory):
    staff = payer_factory("Clerk", "9000000002", type=PayerType.EMPLOYEE)
    assert refused(employee, [pt_demand(payer=PayerInput(uuid=staff.uuid))]) == [
        (
            "EG_BS_EMPLOYEE_UUID_NOTALLOWED",
            "Employees cannot own a demand in system. The following uuids belonging to employees are rejected : "
            f"[{staff.uuid}]",
        )
    ]


def test_payer_without_mobile_number_is_incomplete(employee):
    assert refused(employee, [pt_demand(payer=PayerInput(name="Asha"))]) == [
        ("EG_BS_PAYER_INCOMPLETE", "A payer without uuid needs both name and mobileNumber to be matched or registered")
    ]


def test_payer_matched_from_name_and_mobile_ignoring_case_and_blanks(employee, payer_factory):
    existing = payer_factory("Asha Devi", "9876543210")
    [demand] = demand_create(
        caller=employee, demands=[pt_demand(payer=PayerInput(name="  asha   DEVI ", mobile_number="9876543210"))], at=AT
    )
    assert demand.payer_id == existing.uuid
    assert Payer.objects.count() == 1


def test_payer_created_from_name_and_mobile_when_new(employee, payer_factory):
    payer_factory("Asha Devi", "9876543210")
    [demand] = demand_create(
        caller=employee,
        demands=[pt_demand(payer=PayerInput(name="Ravi Kumar", mobile_number="9876543210", email="ravi@example.org"))],
        at=AT,
    )
    created = Payer.objects.get(name="Ravi Kumar")
    assert demand.payer_id == created.uuid
    assert (created.tenant.code, created.mobile_number, created.email, created.type, created.user_id) == (
        "pb",
        "9876543210",
        "ravi@example.org",
        "CITIZEN",
        None,
    )
    assert Payer.objects.count() == 2


def test_a_new_payer_is_not_kept_when_the_create_fails(employee):
    demand_create(caller=employee, demands=[pt_demand()], at=AT)
    # The duplicate is found under the account lock, after validation: the payer must not survive.
    assert refused(employee, [pt_demand(payer=PayerInput(name="Ravi", mobile_number="9000000003"))]) == [
        ("EG_BS_DUPLICATE_CONSUMERCODE", DUPLICATE.format(codes="[PT-107-001]"))
    ]
    assert Payer.objects.count() == 0


def test_two_demands_with_the_same_new_payer_share_one_payer(employee):
    created = demand_create(
        caller=employee,
        demands=[
            pt_demand("PT-1", payer=PayerInput(name="Ravi", mobile_number="9000000003")),
            pt_demand("PT-2", payer=PayerInput(name="RAVI", mobile_number="9000000003")),
        ],
        at=AT,
    )
    [payer] = Payer.objects.all()
    assert [d.payer_id for d in created] == [payer.uuid, payer.uuid]


@pytest.mark.parametrize(
    ("tax", "collection", "message"),
    [
        ("100", "120", POSITIVE.format(c="120", t="100")),
        ("100", "-1", POSITIVE.format(c="-1", t="100")),
        ("-50", "-60", NEGATIVE.format(c="-60", t="-50")),
        ("-50", "10", NEGATIVE.format(c="10", t="-50")),
    ],
)
def test_amount_rule_refusals(employee, tax, collection, message):
    data = pt_demand(details=(line("PT_TAX", "500"), line("PT_TIME_REBATE", tax, collection)))
    assert refused(employee, [data]) == [
        ("EG_DEMAND_DEATIL_INVALID", f'Invalid demand details found with following Values : [ "{message}" ]')
    ]


@pytest.mark.parametrize(("tax", "collection"), [("-50", "-20"), ("-50", "0"), ("-50", "-50"), ("100", "100")])
def test_amount_rule_acceptances(employee, tax, collection):
    [demand] = demand_create(caller=employee, demands=[pt_demand(details=(line("PT_TAX", tax, collection),))], at=AT)
    [detail] = demand.details.all()
    assert (detail.tax_amount, detail.collection_amount) == (Decimal(tax), Decimal(collection))


def test_every_offending_line_of_every_demand_is_listed(employee):
    demands = [
        pt_demand("PT-1", details=(line("PT_TAX", "100", "120"), line("PT_TIME_REBATE", "-50", "-20"))),
        pt_demand("PT-2", details=(line("PT_TIME_REBATE", "-50", "10"), line("PT_TAX", "100", "-1"))),
    ]
    assert refused(employee, demands) == [
        (
            "EG_DEMAND_DEATIL_INVALID",
            "Invalid demand details found with following Values : [ "
            f'"{POSITIVE.format(c="120", t="100")}", '
            f'"{NEGATIVE.format(c="10", t="-50")}", '
            f'"{POSITIVE.format(c="-1", t="100")}" ]',
        )
    ]


def test_several_errors_are_reported_together_in_the_reference_order(employee, payer_factory):
    staff = payer_factory("Clerk", "9000000002", type=PayerType.EMPLOYEE)
    data = pt_demand(
        period=(1000, 2000),
        payer=PayerInput(uuid=staff.uuid),
        details=(line("PT_BOGUS", "10"), line("PT_TAX", "100", "120")),
    )
    assert refused(employee, [data]) == [
        ("EG_BS_TAXPERIODS_DEMAND", "No Tax Periods Found for the given demand with fromDate : 1000 and toDate : 2000"),
        ("EG_BS_TAXHEADS_NOTFOUND", "No TaxHead masters found for give codes [PT_BOGUS]"),
        (
            "EG_BS_EMPLOYEE_UUID_NOTALLOWED",
            "Employees cannot own a demand in system. The following uuids belonging to employees are rejected : "
            f"[{staff.uuid}]",
        ),
        (
            "EG_DEMAND_DEATIL_INVALID",
            f'Invalid demand details found with following Values : [ "{POSITIVE.format(c="120", t="100")}" ]',
        ),
    ]


def test_one_bad_demand_refuses_the_whole_batch(employee):
    demands = [pt_demand("PT-1"), pt_demand("PT-2", details=(line("PT_BOGUS", "1"),))]
    assert refused(employee, demands) == [
        ("EG_BS_TAXHEADS_NOTFOUND", "No TaxHead masters found for give codes [PT_BOGUS]")
    ]


def test_shape_rules(employee):
    assert refused(employee, [pt_demand(details=())]) == [
        ("EG_BS_DEMAND_DETAILS_EMPTY", "A demand must have at least one demand detail")
    ]
    # A reversed period inside one tax period passes the period check (as in the reference) ...
    assert refused(employee, [pt_demand(period=(PTAN2019_TO, PTAN2019_FROM + 1))]) == [
        ("EG_BS_DEMAND_PERIOD_INVALID", "taxPeriodFrom must not be after taxPeriodTo"),
    ]
    # ... one before every tax period fails both.
    assert refused(employee, [pt_demand(period=(2000, 1000))]) == [
        ("EG_BS_DEMAND_PERIOD_INVALID", "taxPeriodFrom must not be after taxPeriodTo"),
        ("EG_BS_TAXPERIODS_DEMAND", "No Tax Periods Found for the given demand with fromDate : 2000 and toDate : 1000"),
    ]
    assert refused(employee, []) == [("EG_BS_DEMANDS_EMPTY", "Demands must contain at least one demand")]
    assert refused(employee, [pt_demand(status="PAID")]) == [
        ("EG_BS_DEMAND_STATUS_INVALID", "Invalid demand status [PAID]; allowed: ACTIVE, CANCELLED, ADJUSTED")
    ]


# --- tenants and roles ---------------------------------------------------------------------------


def test_unknown_tenant(user_factory, seed):
    state_employee = caller_for(user_factory("emp-pb", {"pb": [Role.EMPLOYEE]}))
    assert refused(state_employee, [pt_demand(tenant="pb.nowhere")]) == [
        ("INVALID TENANTID", "No data found for this tenentID [pb.nowhere]")
    ]
    root = caller_for(user_factory("root", superuser=True))
    assert refused(root, [pt_demand(tenant="xx.nowhere")]) == [
        ("INVALID TENANTID", "No data found for this tenentID [xx.nowhere]")
    ]


def test_a_city_employee_cannot_create_in_another_city(employee):
    before = snapshot()
    with pytest.raises(PermissionDeniedError) as info:
        demand_create(caller=employee, demands=[pt_demand(tenant="pb.jalandhar")], at=AT)
    assert (info.value.code, info.value.message, info.value.http_status) == (
        "PERMISSION_DENIED",
        "You need one of the roles EMPLOYEE, BILLING_ADMIN, SYSTEM in pb.jalandhar to create demands.",
        403,
    )
    assert snapshot() == before


def test_cashiers_and_citizens_cannot_create(user_factory, seed):
    for username, role in (("cashier", Role.CASHIER), ("citizen", Role.CITIZEN)):
        caller = caller_for(user_factory(username, {"pb.amritsar": [role]}))
        assert refused(caller, [pt_demand()]) == [
            (
                "PERMISSION_DENIED",
                "You need one of the roles EMPLOYEE, BILLING_ADMIN, SYSTEM in pb.amritsar to create demands.",
            )
        ]


def test_state_employee_and_system_client_can_create(user_factory, seed):
    state_employee = caller_for(user_factory("emp-pb", {"pb": [Role.EMPLOYEE]}))
    system = caller_for(user_factory("module", {"pb.amritsar": [Role.SYSTEM]}))
    [a] = demand_create(caller=state_employee, demands=[pt_demand("PT-1")], at=AT)
    [b] = demand_create(caller=system, demands=[pt_demand("PT-2")], at=AT)
    assert (a.created_by, b.created_by) == ("emp-pb", "module")


# --- duplicates ----------------------------------------------------------------------------------


def test_duplicate_same_exact_period_is_refused(employee):
    demand_create(caller=employee, demands=[pt_demand()], at=AT)
    assert refused(employee, [pt_demand(details=(line("PT_TAX", "999"),))], at=LATER) == [
        ("EG_BS_DUPLICATE_CONSUMERCODE", DUPLICATE.format(codes="[PT-107-001]"))
    ]
    assert revision_of("PT-107-001") == 1


def test_duplicate_error_is_a_409_domain_error(employee):
    demand_create(caller=employee, demands=[pt_demand()], at=AT)
    with pytest.raises(DomainError) as info:
        demand_create(caller=employee, demands=[pt_demand()], at=AT)
    # A 409 is raised as the kernel's ConflictError (docs/decisions.md, "Errors": one way of declaring them).
    assert (type(info.value), info.value.http_status) == (ConflictError, 409)


def test_a_different_or_overlapping_period_is_accepted(employee):
    demand_create(caller=employee, demands=[pt_demand()], at=AT)
    demand_create(caller=employee, demands=[pt_demand(period=(PTAN2018_FROM, PTAN2018_TO))], at=AT)
    # Overlapping but not identical (a sub-period of PTAN2019).
    demand_create(caller=employee, demands=[pt_demand(period=(PTAN2019_FROM, PTAN2019_TO - 1000))], at=AT)
    assert Demand.objects.filter(consumer_code="PT-107-001").count() == 3
    assert revision_of("PT-107-001") == 3


def test_same_period_for_another_consumer_service_or_tenant_is_accepted(employee, user_factory):
    demand_create(caller=employee, demands=[pt_demand()], at=AT)
    demand_create(caller=employee, demands=[pt_demand("PT-107-002")], at=AT)
    state_employee = caller_for(user_factory("emp-pb", {"pb": [Role.EMPLOYEE]}))
    demand_create(caller=state_employee, demands=[pt_demand(tenant="pb.jalandhar")], at=AT)
    assert Demand.objects.count() == 3


def test_duplicates_inside_one_request(employee):
    demands = [pt_demand(), pt_demand("PT-2"), pt_demand(details=(line("PT_TAX", "1"),))]
    assert refused(employee, demands) == [("EG_BS_DUPLICATE_CONSUMERCODE", DUPLICATE.format(codes="[PT-107-001]"))]


def test_existing_duplicates_are_all_listed(employee):
    demand_create(caller=employee, demands=[pt_demand("PT-1"), pt_demand("PT-2")], at=AT)
    demands = [pt_demand("PT-2"), pt_demand("PT-3"), pt_demand("PT-1")]
    assert refused(employee, demands) == [("EG_BS_DUPLICATE_CONSUMERCODE", DUPLICATE.format(codes="[PT-2, PT-1]"))]


def test_a_cancelled_demand_does_not_block_a_new_one_for_its_period(employee):
    [old] = demand_create(caller=employee, demands=[pt_demand()], at=AT)
    demand_update(
        caller=employee,
        demands=[
            pt_demand(
                id=old.pk,
                status="CANCELLED",
                details=tuple(line(d.tax_head_code, str(d.tax_amount), id=d.pk) for d in old.details.all()),
            )
        ],
        at=AT,
    )
    [new] = demand_create(caller=employee, demands=[pt_demand(details=(line("PT_TAX", "700"),))], at=LATER)
    assert sorted(Demand.objects.values_list("pk", "status")) == sorted([(old.pk, "CANCELLED"), (new.pk, "ACTIVE")])
    assert revision_of("PT-107-001") == 3


def test_cancelled_demands_in_a_request_are_not_duplicates(employee):
    demand_create(caller=employee, demands=[pt_demand()], at=AT)
    created = demand_create(
        caller=employee, demands=[pt_demand(status="CANCELLED"), pt_demand(status="CANCELLED")], at=AT
    )
    assert [d.status for d in created] == ["CANCELLED", "CANCELLED"]
