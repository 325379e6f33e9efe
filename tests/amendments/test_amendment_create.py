"""``amendment_create``: each validation and its code and text (reference §7.10.2), ids, the workflow-off mode."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from amendments.models import Amendment, AmendmentDocument, AmendmentTaxDetail, AmendmentTransition
from amendments.services import DocumentInput
from billing_project.errors import DomainError, ValidationFailed
from demands.models import Demand, DemandDetail
from demands.services import demand_create
from masters.access import Caller, caller_for
from masters.models import BusinessService, IdFormat, Role, TaxHeadMaster, Tenant
from tests.amendments.conftest import AT, LATER, amend, amendment_snapshot, decide, lines, snapshot, wc_demand

pytestmark = pytest.mark.django_db


def refused(call: Any) -> DomainError:
    before = (amendment_snapshot(), snapshot())
    with pytest.raises(DomainError) as info:
        call()
    assert (amendment_snapshot(), snapshot()) == before, "a refused create wrote something"
    return info.value


def codes(error: DomainError) -> dict[str, list[str]]:
    if isinstance(error, ValidationFailed):
        return {e.code: [e.message] for e in error.errors}
    return {error.code: [error.message]}


def test_created_in_workflow_with_lines_documents_and_history(employee: Caller, wc_masters: dict[str, Any]) -> None:
    amendment = amend(
        employee,
        reason="ARREAR_WRITE_OFF",
        reason_document_number="CO-1234",
        effective_from=dt.datetime(2024, 4, 1, tzinfo=dt.UTC),
        effective_till=dt.datetime(2024, 4, 30, tzinfo=dt.UTC),
        additional_details={"note": "x"},
        documents=(
            DocumentInput(document_type="COURTORDER", file_store_id="fs-1"),
            DocumentInput(document_type="AFFIDAVIT", file_store_id="fs-2", document_uid="U-2"),
        ),
    )
    stored = Amendment.objects.get(pk=amendment.pk)
    assert (
        stored.amendment_id,
        stored.tenant.code,
        stored.consumer_code,
        stored.business_service,
        stored.reason,
        stored.reason_document_number,
        stored.state,
        stored.status,
        stored.amended_demand_id,
        stored.created_by,
        stored.created_at,
        stored.additional_details,
    ) == (
        "DN-WS-107-001-000001",
        "pb.amritsar",
        "WS-107-001",
        "WC",
        "ARREAR_WRITE_OFF",
        "CO-1234",
        "APPROVALPENDING",
        "INWORKFLOW",
        None,
        "emp-asr",
        AT,
        {"note": "x"},
    )
    assert list(
        AmendmentTaxDetail.objects.filter(amendment=stored).values_list("position", "tax_head_code", "tax_amount")
    ) == [(0, "WS_CHARGE", Decimal("-100.00")), (1, "WS_TIME_PENALTY", Decimal("-10.00"))]
    assert sorted(
        AmendmentDocument.objects.filter(amendment=stored).values_list(
            "document_type", "file_store_id", "document_uid", "status"
        )
    ) == [("AFFIDAVIT", "fs-2", "U-2", "ACTIVE"), ("COURTORDER", "fs-1", "", "ACTIVE")]
    assert list(AmendmentTransition.objects.values_list("action", "from_state", "to_state", "actor", "at")) == [
        ("OPEN", "NEW", "APPROVALPENDING", "emp-asr", AT)
    ]
    assert not Demand.objects.exists()


def test_ids_cn_for_first_line_positive_dn_for_negative_and_per_tenant_sequence(
    employee: Caller, approver: Caller, user_factory: Any, wc_masters: dict[str, Any]
) -> None:
    first = amend(employee, "WS/107/2021-22/227166", details=lines(("WS_CHARGE", "100"), ("WS_TIME_PENALTY", "10")))
    second = amend(employee, "WS-2", details=lines(("WS_CHARGE", "0")))
    third = amend(employee, "WS-3", details=lines(("WS_CHARGE", "-0.01")))
    jal = caller_for(user_factory("emp-jal", {"pb.jalandhar": [Role.EMPLOYEE]}))
    other_city = amend(jal, "WS-3", tenant="pb.jalandhar")
    assert [first.amendment_id, second.amendment_id, third.amendment_id, other_city.amendment_id] == [
        "CN-WS/107/2021-22/227166-000001",
        "CN-WS-2-000002",
        "DN-WS-3-000003",
        "DN-WS-3-000001",
    ]


def test_id_format_from_the_tenants_master(
    employee: Caller, seed: dict[str, Tenant], wc_masters: dict[str, Any]
) -> None:
    IdFormat.objects.create(
        tenant=seed["pb"], id_name="bs.amendment.id", format="AMD/NOTETYPE/[city]/[SEQ_amd_[tenant_id]]"
    )
    assert amend(employee).amendment_id == "AMD/DN/AMRITSAR/000001"


def test_unknown_business_service(employee: Caller, wc_masters: dict[str, Any]) -> None:
    error = refused(lambda: amend(employee, service="XX"))
    assert codes(error) == {"EG_BS_AMENDMENT_BUSINESS_ERROR": ["Business service not found for the given code : XX"]}


def test_amendment_disabled_for_the_service(employee: Caller, wc_masters: dict[str, Any]) -> None:
    error = refused(lambda: amend(employee, service="TL", details=lines(("TL_TAX", "-5"))))
    assert codes(error) == {
        "EG_BS_AMENDMENT_DISABLED_ERROR": ["Amendment is disabled for the given Business-service : TL"]
    }


def test_another_amendment_in_workflow_for_the_consumer_code_any_service(
    employee: Caller, wc_masters: dict[str, Any]
) -> None:
    amend(employee, "C-1")
    error = refused(lambda: amend(employee, "C-1", service="PT", details=lines(("PT_TAX", "-5"))))
    assert codes(error) == {
        "EG_BS_AMENDMENT_DUPLICATE_ERROR": ["An Amendment is already in workflow for given consumercode : C-1"]
    }
    amend(employee, "C-2")  # another consumer is fine


def test_mixed_signs(employee: Caller, wc_masters: dict[str, Any]) -> None:
    error = refused(lambda: amend(employee, details=lines(("WS_CHARGE", "-100"), ("WS_TIME_PENALTY", "10"))))
    assert codes(error) == {
        "EG_BS_AMENDMENT_TAXAMOUNT_ERROR": ["All Tax amounts should either be positive or negative"]
    }
    # zero counts as positive
    error = refused(lambda: amend(employee, details=lines(("WS_CHARGE", "0"), ("WS_TIME_PENALTY", "-1"))))
    assert error.code == "EG_BS_AMENDMENT_TAXAMOUNT_ERROR"


def test_unknown_tax_heads(employee: Caller, wc_masters: dict[str, Any]) -> None:
    error = refused(
        lambda: amend(employee, details=lines(("WS_CHARGE", "-1"), ("PT_TAX", "-1"), ("NOPE", "-2"), ("PT_TAX", "-3")))
    )
    assert codes(error) == {
        "EG_BS_AMENDMENT_TAXHEAD_ERROR": ["Taxheads not found for the following codes : [PT_TAX, NOPE]"]
    }


def test_service_without_tax_heads(employee: Caller, seed: dict[str, Tenant]) -> None:
    BusinessService.objects.create(
        tenant=seed["pb"], code="SW", business_service="Sewerage", is_bill_amendment_enabled=True
    )
    error = refused(lambda: amend(employee, service="SW", details=lines(("SW_CHARGE", "-1"))))
    assert codes(error) == {"EG_BS_AMENDMENT_TAXHEAD_ERROR": ["No taxheads found for the given business service : SW"]}


def test_period_rules(employee: Caller, wc_masters: dict[str, Any]) -> None:
    day = dt.datetime(2024, 4, 1, tzinfo=dt.UTC)
    error = refused(lambda: amend(employee, effective_till=day))
    assert codes(error) == {"EG_BS_AMENDMENT_PERIOD_ERROR": ["End period cannot be given without from period"]}
    for till in (day, day - dt.timedelta(milliseconds=1)):
        error = refused(lambda till=till: amend(employee, effective_from=day, effective_till=till))
        assert codes(error) == {
            "EG_BS_AMENDMENT_PERIOD_ERROR": ["From period cannot be greater or equal to end period in amendment"]
        }
    assert amend(employee, effective_from=day).effective_till is None


def test_errors_are_reported_together(employee: Caller, wc_masters: dict[str, Any]) -> None:
    amend(employee)
    day = dt.datetime(2024, 4, 1, tzinfo=dt.UTC)
    error = refused(
        lambda: amend(
            employee, details=lines(("WS_CHARGE", "1"), ("NOPE", "-1")), effective_from=day, effective_till=day
        )
    )
    assert list(codes(error)) == [
        "EG_BS_AMENDMENT_DUPLICATE_ERROR",
        "EG_BS_AMENDMENT_TAXAMOUNT_ERROR",
        "EG_BS_AMENDMENT_TAXHEAD_ERROR",
        "EG_BS_AMENDMENT_PERIOD_ERROR",
    ]


def test_unknown_reason_and_no_lines(employee: Caller, wc_masters: dict[str, Any]) -> None:
    assert refused(lambda: amend(employee, reason="WHIM")).code == "EG_BS_AMENDMENT_REASON_ERROR"
    assert refused(lambda: amend(employee, details=())).code == "EG_BS_AMENDMENT_DETAILS_ERROR"


@pytest.mark.parametrize("role", [Role.AMENDMENT_APPROVER, Role.CASHIER, Role.CITIZEN])
def test_only_employees_and_billing_admins_create(user_factory: Any, wc_masters: dict[str, Any], role: str) -> None:
    caller = caller_for(user_factory("someone", {"pb.amritsar": [role]}))
    assert refused(lambda: amend(caller)).code == "PERMISSION_DENIED"


def test_billing_admin_and_superuser_create(user_factory: Any, wc_masters: dict[str, Any]) -> None:
    admin = caller_for(user_factory("admin-pb", {"pb": [Role.BILLING_ADMIN]}))
    root = caller_for(user_factory("root", {}, superuser=True))
    assert amend(admin, "A-1").created_by == "admin-pb"
    assert amend(root, "A-2").created_by == "root"


def test_without_documents(employee: Caller, wc_masters: dict[str, Any]) -> None:
    amendment = amend(employee, documents=())
    assert not AmendmentDocument.objects.filter(amendment_id=amendment.pk).exists()


class TestWorkflowOff:
    @pytest.fixture(autouse=True)
    def _off(self, settings: Any) -> None:
        settings.AMENDMENT_WORKFLOW_ENABLED = False

    def test_active_and_applied_at_creation(self, employee: Caller, wc_masters: dict[str, Any]) -> None:
        [demand] = demand_create(caller=employee, demands=[wc_demand()], at=AT)
        amendment = amend(employee, at=LATER)
        assert (amendment.state, amendment.status, amendment.amended_demand_id, amendment.consumed_at) == (
            "DIRECT",
            "CONSUMED",
            demand.pk,
            LATER,
        )
        assert list(
            DemandDetail.objects.filter(demand=demand).order_by("position").values_list("tax_head_code", "tax_amount")
        ) == [
            ("WS_CHARGE", Decimal("1000.00")),
            ("WS_CHARGE", Decimal("-100.00")),
            ("WS_TIME_PENALTY", Decimal("-10.00")),
        ]
        assert [t.action for t in amendment.transitions.all()] == ["CREATE_DIRECT", "APPLY"]

    def test_active_without_demand_then_absorbed(self, employee: Caller, wc_masters: dict[str, Any]) -> None:
        amendment = amend(employee, at=AT)
        assert (amendment.state, amendment.status) == ("DIRECT", "ACTIVE")
        # An ACTIVE amendment is not "in workflow": another one may be created.
        second = amend(employee, details=lines(("WS_CHARGE", "-5")), at=AT)
        [demand] = demand_create(caller=employee, demands=[wc_demand()], at=LATER)
        assert list(
            DemandDetail.objects.filter(demand=demand).order_by("position").values_list("tax_head_code", "tax_amount")
        ) == [
            ("WS_CHARGE", Decimal("1000.00")),
            ("WS_CHARGE", Decimal("-100.00")),
            ("WS_TIME_PENALTY", Decimal("-10.00")),
            ("WS_CHARGE", Decimal("-5.00")),
        ]
        assert set(Amendment.objects.values_list("amendment_id", "status", "amended_demand")) == {
            (amendment.amendment_id, "CONSUMED", demand.pk),
            (second.amendment_id, "CONSUMED", demand.pk),
        }

    def test_transitions_are_refused(self, employee: Caller, approver: Caller, wc_masters: dict[str, Any]) -> None:
        amendment = amend(employee)
        with pytest.raises(DomainError) as info:
            decide(approver, amendment, "APPROVE")
        assert (info.value.code, info.value.message) == (
            "EG_BS_AMENDMENT_UPDATE_WF_ERROR",
            "Amendment update is not allowed when workflow is disabled",
        )


def test_tax_head_of_the_city_counts(employee: Caller, seed: dict[str, Tenant], wc_masters: dict[str, Any]) -> None:
    TaxHeadMaster.objects.create(
        tenant=seed["amritsar"], code="WS_CITY_CESS", service="WC", name="Cess", category="TAX"
    )
    assert amend(employee, details=lines(("WS_CITY_CESS", "-3"))).details.get().tax_head_code == "WS_CITY_CESS"


@pytest.mark.postgres
def test_a_250_character_consumer_code_gets_its_whole_amendment_id(
    employee: Caller, wc_masters: dict[str, Any]
) -> None:
    # CN/DN + "-" + 250 characters + "-000001" = 260 characters: once a DataError (a 500) on PostgreSQL.
    code = "W" * 250
    amendment = amend(employee, code)

    assert Amendment.objects.get(pk=amendment.pk).amendment_id == f"DN-{code}-000001"


def test_an_amendment_id_longer_than_its_column_is_refused_and_nothing_is_written(
    employee: Caller, seed: dict[str, Tenant], wc_masters: dict[str, Any]
) -> None:
    # A tenant's own format can still render past the 512-character column: refused with a domain error.
    IdFormat.objects.create(tenant=seed["pb"], id_name="bs.amendment.id", format="CONSUMERCODE" + "[city]" * 40)
    error = refused(lambda: amend(employee, "W" * 250))

    assert (error.code, error.http_status, error.message) == (
        "AMENDMENT_ID_TOO_LONG",
        400,
        "The amendment id rendered from the id format bs.amendment.id has 570 characters; at most 512 are allowed",
    )
