"""MDMS loading: the pure parser, the all-or-nothing service and the ``load_mdms`` command."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from masters.domain.mdms import (
    BusinessServiceEntry,
    GLCodeEntry,
    IdFormatEntry,
    MdmsFormatError,
    TaxHeadEntry,
    TaxPeriodEntry,
    parse_document,
)
from masters.errors import MdmsInvalid
from masters.models import (
    BusinessService,
    GLCode,
    IdFormat,
    IdSequence,
    Payer,
    TaxHeadMaster,
    TaxPeriod,
    Tenant,
    UserRole,
)
from masters.services import MasterCounts, mdms_load

UTC = dt.UTC
REFERENCE_DIR = Path(__file__).parent / "data" / "mdms_pb"
SEED_DIR = Path(__file__).resolve().parents[2] / "masters" / "fixtures" / "mdms" / "pb"
REFERENCE_FILES = [
    "BillingService_BusinessService.json",
    "BillingService_GLCode.json",
    "BillingService_TaxHeadMaster.json",
    "BillingService_TaxPeriod.json",
    "common-masters_IdFormat_billing_excerpt.json",
]
ALL_TABLES = (Tenant, BusinessService, TaxHeadMaster, TaxPeriod, GLCode, IdFormat, IdSequence, Payer, UserRole)


def read(directory: Path, name: str) -> bytes:
    return (directory / name).read_bytes()


def reference_documents() -> list[tuple[str, bytes | str]]:
    return [(name, read(REFERENCE_DIR, name)) for name in REFERENCE_FILES]


def seed_documents() -> list[tuple[str, bytes | str]]:
    return [(path.name, path.read_bytes()) for path in sorted(SEED_DIR.glob("*.json"))]


def document(master: str, entries: list[Any], *, module: str = "BillingService", tenant: str = "pb") -> str:
    return json.dumps({"tenantId": tenant, "moduleName": module, master: entries})


def table_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in ALL_TABLES}


def snapshot(model: Any) -> dict[Any, tuple[Any, ...]]:
    """Every row of a master table with all its values, keyed by pk."""
    return {row[0]: row for row in model.objects.order_by("pk").values_list()}


def tax_head(code: str = "X_TAX", **overrides: Any) -> dict[str, Any]:
    return {"code": code, "service": "X", "name": "x tax", "category": "TAX", "order": "1", **overrides}


def tax_period(code: str = "XAN2020", **overrides: Any) -> dict[str, Any]:
    return {
        "code": code,
        "service": "X",
        "fromDate": 1585699200000,
        "toDate": 1617235199999,
        "periodCycle": "ANNUAL",
        "financialYear": "2020-21",
        **overrides,
    }


# --- pure parser ------------------------------------------------------------------------------


def by_code(entries: tuple[Any, ...]) -> dict[str, Any]:
    return {entry.code: entry for entry in entries}


def test_business_services_of_the_reference_file_are_coerced() -> None:
    doc = parse_document(read(REFERENCE_DIR, "BillingService_BusinessService.json"))
    assert (doc.tenant_id, doc.module_name, doc.skipped) == ("pb", "BillingService", ())
    (block,) = doc.masters
    assert block.name == "BillingService.BusinessService"
    services = by_code(block.entries)
    assert len(services) == 99
    assert services["PT"] == BusinessServiceEntry(
        code="PT",
        business_service="PropertyTax",
        collection_modes_not_allowed=("DD", "OFFLINE_NEFT", "OFFLINE_RTGS", "POSTAL_ORDER"),
        part_payment_allowed=True,
        is_advance_allowed=False,
        is_bill_amendment_enabled=True,  # "true" in the file
        min_amount_payable=Decimal("100.00"),
        demand_update_time=86400000,
        is_voucher_creation_enabled=True,
        bill_genie_url="egov-searcher/bill-genie/billswithaddranduser/_get",
    )
    assert services["WS"].is_bill_amendment_enabled is True  # a real boolean in the file
    assert services["TL"].is_bill_amendment_enabled is False  # absent
    assert (services["BIRTH_CERT"].type, services["BIRTH_CERT"].is_citizen) == ("Adhoc", True)
    assert services["PT"].model_values()["collection_modes_not_allowed"] == [
        "DD",
        "OFFLINE_NEFT",
        "OFFLINE_RTGS",
        "POSTAL_ORDER",
    ]


def test_tax_heads_of_the_reference_file_are_coerced() -> None:
    (block,) = parse_document(read(REFERENCE_DIR, "BillingService_TaxHeadMaster.json")).masters
    heads = by_code(block.entries)
    assert len(heads) == 246
    assert heads["WS_TIME_PENALTY"] == TaxHeadEntry(
        code="WS_TIME_PENALTY",
        service="WS",
        name="Penalty",
        category="PENALTY",
        order=3,  # "3" in the file
        is_actual_demand=True,
        is_bill_amend=True,  # key "IsBillamend"
    )
    assert heads["PT_TAX"].order == 0
    assert heads["BIRTH_CERT_FEE"].category == "CHARGES"
    assert heads["BIRTH_CERT_FEE"].extra == {}


def test_tax_periods_of_the_reference_file_are_coerced() -> None:
    (block,) = parse_document(read(REFERENCE_DIR, "BillingService_TaxPeriod.json")).masters
    periods = {(entry.service, entry.code): entry for entry in block.entries}
    assert len(periods) == 65
    assert periods[("FSM.TRIP_CHARGES", "FSMTRIPCHARGE10YRS")] == TaxPeriodEntry(
        service="FSM.TRIP_CHARGES",
        code="FSMTRIPCHARGE10YRS",
        from_date=dt.datetime(2020, 12, 1, 9, 44, 43, tzinfo=UTC),
        to_date=dt.datetime(2030, 12, 31, 11, 59, 59, tzinfo=UTC),
        period_cycle="FORTENYEARS",
        financial_year="2020-2030",
    )
    assert periods[("WS", "WC2018")].to_date == dt.datetime(2021, 3, 31, 23, 59, 59, 999000, tzinfo=UTC)
    assert periods[("WS", "WC2018")].period_cycle == "TWOYEARS"
    # The same code in different services is fine.
    assert {service for service, code in periods if code == "BPA10YRS2018"} == {
        "BPA.NC_APP_FEE",
        "BPA.NC_SAN_FEE",
        "BPA.LOW_RISK_PERMIT_FEE",
    }


def test_gl_codes_and_id_formats_are_parsed() -> None:
    (gl,) = parse_document(read(REFERENCE_DIR, "BillingService_GLCode.json")).masters
    assert gl.entries == (
        GLCodeEntry(code="BIRTH_CERT", gl_code=None, cb="pb.amritsar"),
        GLCodeEntry(code="DEATH_CERT", gl_code=None, cb="pb.amritsar"),
    )
    doc = parse_document(read(REFERENCE_DIR, "common-masters_IdFormat_billing_excerpt.json"))
    assert doc.module_name == "common-masters"
    assert doc.masters[0].entries == (
        IdFormatEntry(id_name="billnumberid", format="BILL-[SEQ_EGOV_COMMON_TEST_AUTOCRE]"),
        IdFormatEntry(id_name="bs.amendment.id", format="NOTETYPE-CONSUMERCODE-[SEQ_BS_MUTATION_[tenant_id]]"),
    )


def test_unknown_keys_are_kept_in_extra_and_strings_are_coerced() -> None:
    raw = document(
        "BusinessService",
        [
            {
                "code": " PT ",
                "businessService": "PropertyTax",
                "partPaymentAllowed": "FALSE",
                "isAdvanceAllowed": "true",
                "isFractionalPaymentAllowed": True,
                "minAmountPayable": 100.5,
                "demandUpdateTime": "86400000",
                "demandRefreshUrl": "https://pt.example.org/refresh",
                "callBackForApportioning": True,
                "auditDetails": {"createdBy": "x"},
            }
        ],
    )
    (entry,) = parse_document(raw).masters[0].entries
    assert isinstance(entry, BusinessServiceEntry)
    assert entry.code == "PT"
    assert (entry.part_payment_allowed, entry.is_advance_allowed, entry.fractional_payment_allowed) == (
        False,
        True,
        True,
    )
    assert entry.min_amount_payable == Decimal("100.50")
    assert entry.demand_update_time == 86400000
    assert entry.demand_refresh_url == "https://pt.example.org/refresh"
    assert entry.is_active is True  # absent: the model default
    assert entry.extra == {"callBackForApportioning": True, "auditDetails": {"createdBy": "x"}}


def test_keys_are_matched_case_insensitively() -> None:
    raw = document("TaxHeadMaster", [tax_head(IsBillAmend="true", ISDEBIT=True)])
    (entry,) = parse_document(raw).masters[0].entries
    assert isinstance(entry, TaxHeadEntry)
    assert (entry.is_bill_amend, entry.is_debit, entry.extra) == (True, True, {})


def test_masters_this_service_does_not_load_are_skipped() -> None:
    doc = parse_document(read(REFERENCE_DIR, "BillAmendment_DemandRevisionBasis.json"))
    assert doc.is_skipped
    assert doc.skipped == ("BillAmendment.DemandRevisionBasis",)
    assert parse_document(document("Unknown", [{"x": 1}])).skipped == ("BillingService.Unknown",)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(b'{"tenantId": "pb",', "not valid JSON: Expecting property name enclosed", id="bad-json"),
        pytest.param(b"\xff\xfe\x00", "not valid JSON", id="not-utf8"),
        pytest.param("[]", "the document must be a JSON object", id="not-object"),
        pytest.param('{"moduleName": "BillingService"}', "tenantId is missing", id="no-tenant"),
        pytest.param('{"tenantId": "pb"}', "moduleName is missing", id="no-module"),
        pytest.param('{"tenantId": "PB", "moduleName": "M"}', "tenantId must be a lower-case state", id="tenant"),
        pytest.param(
            '{"tenantId": "pb", "tenantId": "hr", "moduleName": "M"}', "key 'tenantId' is given more", id="dup"
        ),
        pytest.param(document("TaxPeriod", {"a": 1}), "TaxPeriod: must be a list of entries", id="not-list"),
    ],
)
def test_document_level_errors(raw: str | bytes, message: str) -> None:
    with pytest.raises(MdmsFormatError) as caught:
        parse_document(raw)
    assert str(caught.value).startswith(message)
    assert caught.value.index is None


@pytest.mark.parametrize(
    ("master", "entries", "message"),
    [
        ("BusinessService", [{"code": "PT"}], "BusinessService[0]: businessService is required"),
        (
            "BusinessService",
            [{"code": "PT", "businessService": "P", "isActive": "yes"}],
            "BusinessService[0]: isActive must be true or false, got 'yes'",
        ),
        (
            "BusinessService",
            [{"code": "PT", "businessService": "P", "minAmountPayable": -1}],
            "BusinessService[0]: minAmountPayable must be a non-negative amount below 10^12, got -1",
        ),
        (
            "BusinessService",
            [{"code": "PT", "businessService": "P", "minAmountPayable": "lots"}],
            "BusinessService[0]: minAmountPayable must be an amount, got 'lots'",
        ),
        (
            "BusinessService",
            [{"code": "PT", "businessService": "P", "collectionModesNotAllowed": "DD"}],
            "BusinessService[0]: collectionModesNotAllowed must be a list of non-empty strings, got 'DD'",
        ),
        (
            "BusinessService",
            [{"code": "PT", "businessService": "P", "demandRefreshUrl": "ftp://x"}],
            "BusinessService[0]: demandRefreshUrl must be an http(s) URL, got 'ftp://x'",
        ),
        (
            "BusinessService",
            [{"code": "PT", "businessService": "P"}, {"code": "PT", "businessService": "Q"}],
            "BusinessService[1]: duplicate of BusinessService[0] (code 'PT')",
        ),
        ("TaxHeadMaster", [tax_head(), "PT_TAX"], "TaxHeadMaster[1]: entry must be a JSON object"),
        ("TaxHeadMaster", [tax_head(category="LEVY")], "TaxHeadMaster[0]: category must be one of ADVANCE_COLLECTION"),
        ("TaxHeadMaster", [tax_head(order="first")], "TaxHeadMaster[0]: order must be an integer, got 'first'"),
        ("TaxHeadMaster", [tax_head(order=True)], "TaxHeadMaster[0]: order must be an integer, got True"),
        ("TaxHeadMaster", [tax_head(order=None)], "TaxHeadMaster[0]: order is required"),
        ("TaxHeadMaster", [tax_head(name=" ")], "TaxHeadMaster[0]: name must not be empty"),
        ("TaxHeadMaster", [tax_head(code=12)], "TaxHeadMaster[0]: code must be a string, got 12"),
        ("TaxHeadMaster", [tax_head(), tax_head()], "TaxHeadMaster[1]: duplicate of TaxHeadMaster[0] (code 'X_TAX')"),
        (
            "TaxPeriod",
            [tax_period("A"), tax_period("B"), tax_period("C"), tax_period("D", fromDate="yesterday")],
            "TaxPeriod[3]: fromDate must be epoch milliseconds, got 'yesterday'",
        ),
        ("TaxPeriod", [tax_period(toDate=1.5)], "TaxPeriod[0]: toDate must be epoch milliseconds, got 1.5"),
        ("TaxPeriod", [tax_period(toDate=10**20)], "TaxPeriod[0]: toDate must be epoch milliseconds, 10"),
        ("TaxPeriod", [tax_period(toDate=1585699199999)], "TaxPeriod[0]: fromDate must not be after toDate"),
        ("TaxPeriod", [tax_period(periodCycle="")], "TaxPeriod[0]: periodCycle must not be empty"),
        ("TaxPeriod", [tax_period(financialYear=None)], "TaxPeriod[0]: financialYear is required"),
        (
            "TaxPeriod",
            [tax_period(), tax_period(service="Y"), tax_period()],
            "TaxPeriod[2]: duplicate of TaxPeriod[0] (service 'X', code 'XAN2020')",
        ),
        (
            "GLCode",
            [{"code": "A", "cb": "pb.a"}, {"code": "A", "cb": "pb.b"}, {"code": "A", "cb": "pb.a"}],
            "GLCode[2]: duplicate of GLCode[0] (code 'A', cb 'pb.a')",
        ),
    ],
)
def test_entry_errors_name_master_and_index(master: str, entries: list[Any], message: str) -> None:
    with pytest.raises(MdmsFormatError) as caught:
        parse_document(document(master, entries))
    assert str(caught.value).startswith(message)
    assert caught.value.master == master


def test_id_format_errors_and_duplicate_keys_in_an_entry() -> None:
    with pytest.raises(MdmsFormatError, match=r"^IdFormat\[0\]: format is required$"):
        parse_document(document("IdFormat", [{"idname": "billnumberid"}], module="common-masters"))
    with pytest.raises(MdmsFormatError, match=r"^TaxHeadMaster\[0\]: key 'code' is given more than once$"):
        parse_document(
            '{"tenantId": "pb", "moduleName": "BillingService", "TaxHeadMaster": [{"code": "A", "code": "B"}]}'
        )
    with pytest.raises(MdmsFormatError, match=r"^TaxHeadMaster\[0\]: keys 'code' and 'Code' differ only in case$"):
        parse_document(document("TaxHeadMaster", [{**tax_head(), "Code": "B"}]))


def test_text_limits_are_applied_per_master_field() -> None:
    raw = document("TaxPeriod", [tax_period(financialYear="2020-21-and-beyond")])
    with pytest.raises(MdmsFormatError, match=r"^TaxPeriod\[0\]: financialYear is longer than 16 characters$"):
        parse_document(raw, limits={"TaxPeriod": {"financial_year": 16}})


# --- service ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_files_load_with_exact_counts() -> None:
    report = mdms_load(documents=seed_documents())
    assert report.totals == {
        "BillingService.BusinessService": MasterCounts(created=3),
        "BillingService.TaxHeadMaster": MasterCounts(created=7),
        "BillingService.TaxPeriod": MasterCounts(created=5),
    }
    assert report.tenants_created == ("pb",)
    assert table_counts() == {
        "Tenant": 1,
        "BusinessService": 3,
        "TaxHeadMaster": 7,
        "TaxPeriod": 5,
        "GLCode": 0,
        "IdFormat": 0,
        "IdSequence": 0,
        "Payer": 0,
        "UserRole": 0,
    }
    assert report.lines() == [
        "BusinessService.json [pb]: BusinessService 3 created, 0 updated, 0 unchanged",
        "TaxHeadMaster.json [pb]: TaxHeadMaster 7 created, 0 updated, 0 unchanged",
        "TaxPeriod.json [pb]: TaxPeriod 5 created, 0 updated, 0 unchanged",
        "Tenants created: pb",
        "Total: 15 created, 0 updated, 0 unchanged in 3 file(s); 0 file(s) skipped",
    ]


@pytest.mark.django_db
def test_reference_files_load_with_exact_counts_and_values(django_assert_max_num_queries: Any) -> None:
    skipped = "BillAmendment_DemandRevisionBasis.json"
    documents = [*reference_documents(), (skipped, read(REFERENCE_DIR, skipped))]
    # Bulk writes: the number of queries does not grow with the 414 rows.
    with django_assert_max_num_queries(25):
        report = mdms_load(documents=documents)
    assert report.totals == {
        "BillingService.BusinessService": MasterCounts(created=99),
        "BillingService.TaxHeadMaster": MasterCounts(created=246),
        "BillingService.TaxPeriod": MasterCounts(created=65),
        "BillingService.GLCode": MasterCounts(created=2),
        "common-masters.IdFormat": MasterCounts(created=2),
    }
    assert report.skipped_files == ("BillAmendment_DemandRevisionBasis.json",)
    assert report.files[-1].skipped == ("BillAmendment.DemandRevisionBasis",)
    assert (BusinessService.objects.count(), TaxHeadMaster.objects.count(), TaxPeriod.objects.count()) == (99, 246, 65)
    assert (GLCode.objects.count(), IdFormat.objects.count()) == (2, 2)

    pb = Tenant.objects.get(code="pb")
    pt = BusinessService.objects.get(tenant=pb, code="PT")
    assert (pt.business_service, pt.is_bill_amendment_enabled, pt.min_amount_payable) == (
        "PropertyTax",
        True,
        Decimal("100.00"),
    )
    assert pt.collection_modes_not_allowed == ["DD", "OFFLINE_NEFT", "OFFLINE_RTGS", "POSTAL_ORDER"]
    assert (pt.part_payment_allowed, pt.is_advance_allowed, pt.demand_update_time) == (True, False, 86400000)
    assert pt.bill_genie_url == "egov-searcher/bill-genie/billswithaddranduser/_get"
    assert pt.extra == {}
    head = TaxHeadMaster.objects.get(tenant=pb, code="WS_TIME_PENALTY")
    assert (head.service, head.category, head.order, head.is_bill_amend) == ("WS", "PENALTY", 3, True)
    period = TaxPeriod.objects.get(tenant=pb, service="FSM.TRIP_CHARGES", code="FSMTRIPCHARGE10YRS")
    assert (period.period_cycle, period.financial_year) == ("FORTENYEARS", "2020-2030")
    assert period.from_date == dt.datetime(2020, 12, 1, 9, 44, 43, tzinfo=UTC)
    assert TaxPeriod.objects.get(service="WS", code="WC2018").to_date == dt.datetime(
        2021, 3, 31, 23, 59, 59, 999000, tzinfo=UTC
    )
    assert TaxPeriod.objects.filter(code="BPA10YRS2018").count() == 3
    assert list(GLCode.objects.values_list("code", "gl_code", "cb")) == [
        ("BIRTH_CERT", None, "pb.amritsar"),
        ("DEATH_CERT", None, "pb.amritsar"),
    ]
    assert IdFormat.objects.get(id_name="billnumberid").format == "BILL-[SEQ_EGOV_COMMON_TEST_AUTOCRE]"


@pytest.mark.django_db
def test_reload_is_idempotent() -> None:
    mdms_load(documents=reference_documents())
    before = {model: snapshot(model) for model in (BusinessService, TaxHeadMaster, TaxPeriod, GLCode, IdFormat)}

    report = mdms_load(documents=reference_documents())

    assert report.totals == {
        "BillingService.BusinessService": MasterCounts(unchanged=99),
        "BillingService.TaxHeadMaster": MasterCounts(unchanged=246),
        "BillingService.TaxPeriod": MasterCounts(unchanged=65),
        "BillingService.GLCode": MasterCounts(unchanged=2),
        "common-masters.IdFormat": MasterCounts(unchanged=2),
    }
    assert report.tenants_created == ()
    # Same ids and the very same values, updated_at included: unchanged rows are not written at all.
    assert {model: snapshot(model) for model in before} == before


@pytest.mark.django_db
def test_a_changed_value_updates_that_row_only() -> None:
    mdms_load(documents=reference_documents())
    before = snapshot(BusinessService)
    heads_before = snapshot(TaxHeadMaster)
    data = json.loads(read(REFERENCE_DIR, "BillingService_BusinessService.json"))
    data["BusinessService"][0]["minAmountPayable"] = 250
    data["BusinessService"][0]["legacyFlag"] = "kept"
    changed = [("BillingService_BusinessService.json", json.dumps(data)), reference_documents()[2]]

    report = mdms_load(documents=changed)

    assert report.totals == {
        "BillingService.BusinessService": MasterCounts(updated=1, unchanged=98),
        "BillingService.TaxHeadMaster": MasterCounts(unchanged=246),
    }
    pt = BusinessService.objects.get(code="PT")
    assert (pt.min_amount_payable, pt.extra) == (Decimal("250.00"), {"legacyFlag": "kept"})
    after = snapshot(BusinessService)
    assert after.keys() == before.keys()
    assert [pk for pk in before if before[pk] != after[pk]] == [pt.pk]
    assert snapshot(TaxHeadMaster) == heads_before


@pytest.mark.django_db
def test_city_tenant_is_created_with_its_state() -> None:
    report = mdms_load(
        documents=[
            ("city.json", document("TaxHeadMaster", [tax_head()], tenant="pb.amritsar")),
            ("ids.json", document("IdFormat", [{"idname": "x", "format": "X-[SEQ_X]"}], module="common-masters")),
        ]
    )
    assert report.tenants_created == ("pb", "pb.amritsar")
    city = Tenant.objects.get(code="pb.amritsar")
    assert city.state is not None
    assert city.state.code == "pb"
    assert TaxHeadMaster.objects.get(code="X_TAX").tenant == city
    assert IdFormat.objects.get(id_name="x").tenant.code == "pb"


@pytest.mark.django_db
def test_existing_city_without_state_gets_its_state() -> None:
    Tenant.objects.create(code="pb.jalandhar")
    mdms_load(documents=[("city.json", document("TaxHeadMaster", [tax_head()], tenant="pb.jalandhar"))])
    assert Tenant.objects.get(code="pb.jalandhar").state == Tenant.objects.get(code="pb")


@pytest.mark.django_db
def test_bad_json_file_changes_nothing() -> None:
    mdms_load(documents=seed_documents())
    counts, services = table_counts(), snapshot(BusinessService)

    with pytest.raises(MdmsInvalid) as caught:
        mdms_load(documents=[*reference_documents(), ("broken.json", b'{"tenantId": "pb", "moduleName": ')])

    assert caught.value.code == "MDMS_INVALID"
    assert caught.value.message.startswith("broken.json: not valid JSON: Expecting value at line 1, column 34")
    assert caught.value.message.endswith("nothing was loaded.")
    assert list(caught.value.fields) == ["broken.json"]
    assert table_counts() == counts
    assert snapshot(BusinessService) == services


@pytest.mark.django_db
def test_a_bad_entry_alongside_a_good_file_changes_nothing() -> None:
    mdms_load(documents=seed_documents())
    counts = table_counts()
    tables = {model: snapshot(model) for model in (BusinessService, TaxHeadMaster, TaxPeriod)}
    good = ("periods.json", document("TaxPeriod", [tax_period()], tenant="hr"))
    bad = ("heads.json", document("TaxHeadMaster", [tax_head("A"), tax_head("B"), tax_head("C", category="LEVY")]))

    with pytest.raises(MdmsInvalid) as caught:
        mdms_load(documents=[good, bad])

    problem = (
        "TaxHeadMaster[2]: category must be one of ADVANCE_COLLECTION, CHARGES, EXEMPTION, FEE, "
        "FINES, PENALTY, REBATE, TAX, got 'LEVY'"
    )
    assert caught.value.message == f"heads.json: {problem}; nothing was loaded."
    assert caught.value.fields == {"heads.json": [problem]}
    assert table_counts() == counts
    assert not Tenant.objects.filter(code="hr").exists()
    assert {model: snapshot(model) for model in tables} == tables


@pytest.mark.django_db
def test_every_bad_file_is_reported() -> None:
    with pytest.raises(MdmsInvalid) as caught:
        mdms_load(documents=[("a.json", "{}"), ("b.json", seed_documents()[0][1]), ("c.json", "[1]")])
    assert caught.value.fields == {
        "a.json": ["tenantId is missing"],
        "c.json": ["the document must be a JSON object"],
    }
    assert caught.value.message == "a.json: tenantId is missing (and problems in 1 more file(s)); nothing was loaded."
    assert table_counts()["BusinessService"] == 0


@pytest.mark.django_db
def test_the_same_key_in_two_files_is_refused() -> None:
    first = ("one.json", document("TaxHeadMaster", [tax_head("A")]))
    second = ("two.json", document("TaxHeadMaster", [tax_head("B"), tax_head("A")]))
    other_tenant = ("three.json", document("TaxHeadMaster", [tax_head("A")], tenant="hr"))
    with pytest.raises(MdmsInvalid) as caught:
        mdms_load(documents=[first, second, other_tenant])
    assert caught.value.fields == {
        "two.json": ["TaxHeadMaster[1]: tenant pb key A is also in one.json at TaxHeadMaster[0]"]
    }
    assert table_counts()["TaxHeadMaster"] == 0


@pytest.mark.django_db
def test_model_column_lengths_are_enforced_before_writing() -> None:
    with pytest.raises(MdmsInvalid) as caught:
        mdms_load(documents=[("long.json", document("TaxHeadMaster", [tax_head(), tax_head("Y" * 65)]))])
    assert caught.value.fields == {"long.json": ["TaxHeadMaster[1]: code is longer than 64 characters"]}
    assert table_counts()["Tenant"] == 0


@pytest.mark.django_db
def test_no_documents_is_an_error() -> None:
    with pytest.raises(MdmsInvalid, match="No MDMS files were given"):
        mdms_load(documents=[])


@pytest.mark.django_db
def test_an_empty_master_is_reported_with_zero_counts() -> None:
    report = mdms_load(documents=[("empty.json", document("TaxPeriod", []))])
    assert report.files[0].counts == {"BillingService.TaxPeriod": MasterCounts()}
    assert report.lines()[0] == "empty.json [pb]: TaxPeriod 0 created, 0 updated, 0 unchanged"


# --- management command ----------------------------------------------------------------------


@pytest.mark.django_db
def test_command_loads_a_directory_and_reports_each_file() -> None:
    out = io.StringIO()
    call_command("load_mdms", str(REFERENCE_DIR), stdout=out)
    lines = [line.replace(f"{REFERENCE_DIR}/", "") for line in out.getvalue().splitlines()]
    assert lines == [
        "BillAmendment_DemandRevisionBasis.json [pb]: skipped BillAmendment.DemandRevisionBasis "
        "(not loaded by this service)",
        "BillingService_BusinessService.json [pb]: BusinessService 99 created, 0 updated, 0 unchanged",
        "BillingService_GLCode.json [pb]: GLCode 2 created, 0 updated, 0 unchanged",
        "BillingService_TaxHeadMaster.json [pb]: TaxHeadMaster 246 created, 0 updated, 0 unchanged",
        "BillingService_TaxPeriod.json [pb]: TaxPeriod 65 created, 0 updated, 0 unchanged",
        "common-masters_IdFormat_billing_excerpt.json [pb]: IdFormat 2 created, 0 updated, 0 unchanged",
        "Tenants created: pb",
        "Total: 414 created, 0 updated, 0 unchanged in 5 file(s); 1 file(s) skipped",
    ]
    out = io.StringIO()
    call_command("load_mdms", str(REFERENCE_DIR / "BillingService_TaxPeriod.json"), stdout=out)
    assert out.getvalue().splitlines()[-1] == (
        "Total: 0 created, 0 updated, 65 unchanged in 1 file(s); 0 file(s) skipped"
    )


@pytest.mark.django_db
def test_command_fails_on_a_bad_file_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "a_good.json").write_text(document("TaxHeadMaster", [tax_head()]))
    (tmp_path / "b_bad.json").write_text(
        document("TaxPeriod", [tax_period(), tax_period("B"), tax_period("C", toDate=0)])
    )
    with pytest.raises(CommandError) as caught:
        call_command("load_mdms", str(tmp_path))
    problem = f"{tmp_path}/b_bad.json: TaxPeriod[2]: fromDate must not be after toDate"
    assert str(caught.value).splitlines() == [f"MDMS load failed: {problem}; nothing was loaded.", f"  {problem}"]
    assert table_counts()["Tenant"] == 0
    assert table_counts()["TaxHeadMaster"] == 0


@pytest.mark.django_db
def test_command_refuses_missing_paths_and_empty_directories(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file or directory"):
        call_command("load_mdms", str(tmp_path / "missing.json"))
    with pytest.raises(CommandError, match=r"No \*\.json files found"):
        call_command("load_mdms", str(tmp_path))


def test_id_format_keeps_unknown_keys_but_does_not_store_them() -> None:
    raw = document("IdFormat", [{"idname": "billnumberid", "format": "B-[SEQ_B]", "id": 7}], module="common-masters")
    (entry,) = parse_document(raw).masters[0].entries
    assert isinstance(entry, IdFormatEntry)
    assert entry.extra == {"id": 7}
    assert entry.model_values() == {"id_name": "billnumberid", "format": "B-[SEQ_B]"}
