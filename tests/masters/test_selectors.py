"""City → state fallback of the master selectors, each read in one query."""

from __future__ import annotations

import datetime as dt

import pytest

from billing_project.errors import DomainError
from masters import selectors
from masters.access import Caller
from masters.models import BusinessService, IdFormat, Payer, TaxHeadMaster, TaxPeriod, Tenant

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def _period(tenant: Tenant, service: str, code: str, year: int, **extra: object) -> TaxPeriod:
    return TaxPeriod.objects.create(
        tenant=tenant,
        service=service,
        code=code,
        from_date=dt.datetime(year, 4, 1, tzinfo=IST),
        to_date=dt.datetime(year + 1, 3, 31, 23, 59, 59, 999000, tzinfo=IST),
        period_cycle="ANNUAL",
        financial_year=f"{year}-{(year + 1) % 100:02d}",
        **extra,
    )


@pytest.fixture
def masters(tenant_factory):
    pb, amritsar, jalandhar = tenant_factory("pb"), tenant_factory("pb.amritsar"), tenant_factory("pb.jalandhar")
    BusinessService.objects.create(tenant=pb, code="PT", business_service="PropertyTax", part_payment_allowed=True)
    BusinessService.objects.create(tenant=pb, code="WS", business_service="WaterCharges")
    BusinessService.objects.create(tenant=amritsar, code="PT", business_service="PropertyTax Amritsar")
    BusinessService.objects.create(tenant=jalandhar, code="TL", business_service="TradeLicence")
    TaxHeadMaster.objects.create(tenant=pb, code="PT_TAX", service="PT", name="Property tax", category="TAX", order=3)
    TaxHeadMaster.objects.create(
        tenant=pb, code="PT_TIME_REBATE", service="PT", name="Rebate", category="REBATE", order=0
    )
    TaxHeadMaster.objects.create(tenant=pb, code="WS_CHARGE", service="WS", name="Water", category="CHARGES")
    TaxHeadMaster.objects.create(
        tenant=amritsar, code="PT_TAX", service="PT", name="Amritsar property tax", category="TAX", order=5
    )
    TaxHeadMaster.objects.create(tenant=jalandhar, code="TL_TAX", service="TL", name="Licence", category="FEE")
    _period(pb, "PT", "PTAN2023", 2023)
    _period(pb, "PT", "PTAN2024", 2024)
    _period(pb, "WS", "PTAN2024", 2024)  # same code, other service: a different natural key
    _period(amritsar, "PT", "PTAN2024", 2024, extra={"note": "city"})
    _period(jalandhar, "TL", "TLAN2024", 2024)
    IdFormat.objects.create(tenant=pb, id_name="billnumberid", format="BILL-[SEQ_STATE]")
    IdFormat.objects.create(tenant=pb, id_name="bs.amendment.id", format="NOTE-[SEQ_NOTE]")
    IdFormat.objects.create(tenant=amritsar, id_name="billnumberid", format="BILL-ASR-[SEQ_CITY]")
    return {"pb": pb, "amritsar": amritsar, "jalandhar": jalandhar}


def _keys(rows):
    return [(row.tenant.code, row.code) for row in rows]


@pytest.mark.django_db
def test_business_services_city_overrides_state_by_code(masters, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = list(selectors.business_services_for("pb.amritsar"))
    assert _keys(rows) == [("pb.amritsar", "PT"), ("pb", "WS")]
    assert rows[0].business_service == "PropertyTax Amritsar"


@pytest.mark.django_db
def test_state_code_gives_only_state_rows(masters):
    assert _keys(selectors.business_services_for("pb")) == [("pb", "PT"), ("pb", "WS")]
    assert _keys(selectors.tax_heads_for("pb")) == [("pb", "PT_TIME_REBATE"), ("pb", "PT_TAX"), ("pb", "WS_CHARGE")]


@pytest.mark.django_db
def test_city_without_overrides_sees_its_own_rows_and_the_state(masters):
    assert _keys(selectors.business_services_for("pb.jalandhar")) == [
        ("pb", "PT"),
        ("pb.jalandhar", "TL"),
        ("pb", "WS"),
    ]
    assert _keys(selectors.business_services_for("pb.ludhiana")) == [("pb", "PT"), ("pb", "WS")]


@pytest.mark.django_db
def test_tax_heads_fallback_and_filters_apply_to_the_effective_list(masters, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = list(selectors.tax_heads_for("pb.amritsar", service="PT"))
    assert [(r.tenant.code, r.code, r.order) for r in rows] == [
        ("pb", "PT_TIME_REBATE", 0),
        ("pb.amritsar", "PT_TAX", 5),
    ]
    # the state's PT_TAX is overridden, so a filter matching only the state row finds nothing
    assert list(selectors.tax_heads_for("pb.amritsar", name="Property tax")) == []
    assert _keys(selectors.tax_heads_for("pb.amritsar", codes=["PT_TAX", "WS_CHARGE"], category="TAX")) == [
        ("pb.amritsar", "PT_TAX")
    ]
    assert _keys(selectors.tax_heads_for("pb.amritsar", services=["WS"], is_debit=False)) == [("pb", "WS_CHARGE")]


@pytest.mark.django_db
def test_tax_periods_fallback_by_service_and_code(masters, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = list(selectors.tax_periods_for("pb.amritsar"))
    assert [(r.tenant.code, r.service, r.code) for r in rows] == [
        ("pb", "PT", "PTAN2023"),
        ("pb.amritsar", "PT", "PTAN2024"),
        ("pb", "WS", "PTAN2024"),
    ]
    assert rows[1].extra == {"note": "city"}


@pytest.mark.django_db
def test_tax_period_date_criteria(masters):
    start_2024 = dt.datetime(2024, 4, 1, tzinfo=IST)
    assert [p.code for p in selectors.tax_periods_for("pb", services=["PT"], from_date_gte=start_2024)] == ["PTAN2024"]
    assert [p.code for p in selectors.tax_periods_for("pb", services=["PT"], to_date_lte=start_2024)] == ["PTAN2023"]
    assert [
        (p.service, p.code) for p in selectors.tax_periods_for("pb", containing=dt.datetime(2024, 7, 1, tzinfo=IST))
    ] == [("PT", "PTAN2024"), ("WS", "PTAN2024")]


@pytest.mark.django_db
def test_tax_period_covering_a_demand_period(masters):
    found = selectors.tax_period_covering(
        "pb.amritsar",
        service="PT",
        from_date=dt.datetime(2024, 4, 1, tzinfo=IST),
        to_date=dt.datetime(2025, 3, 31, 23, 59, 59, tzinfo=IST),
    )
    assert found is not None
    assert (found.tenant.code, found.code) == ("pb.amritsar", "PTAN2024")
    spanning_two = selectors.tax_period_covering(
        "pb.amritsar",
        service="PT",
        from_date=dt.datetime(2023, 4, 1, tzinfo=IST),
        to_date=dt.datetime(2025, 3, 31, tzinfo=IST),
    )
    assert spanning_two is None


@pytest.mark.django_db
def test_business_service_get(masters, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = selectors.business_service_get("pb.amritsar", "WS")
    assert (found.tenant.code, found.business_service) == ("pb", "WaterCharges")
    with pytest.raises(DomainError) as excinfo:
        selectors.business_service_get("pb.amritsar", "TL")  # Jalandhar's, not Amritsar's
    assert excinfo.value.code == "EG_BS_BUSINESSSERVICE_NOTFOUND"
    assert excinfo.value.message == "No Business Service masters found for give codes ['TL']"


@pytest.mark.django_db
def test_ids_criteria_ignore_values_that_are_not_numbers(masters):
    ws = BusinessService.objects.get(tenant__code="pb", code="WS")
    assert _keys(selectors.business_services_for("pb.amritsar", ids=[str(ws.pk), "abc"])) == [("pb", "WS")]
    assert list(selectors.business_services_for("pb.amritsar", ids=["abc"])) == []


@pytest.mark.django_db
def test_id_formats_fallback(masters):
    assert [(f.tenant.code, f.id_name, f.format) for f in selectors.id_formats_for("pb.amritsar")] == [
        ("pb.amritsar", "billnumberid", "BILL-ASR-[SEQ_CITY]"),
        ("pb", "bs.amendment.id", "NOTE-[SEQ_NOTE]"),
    ]
    city = selectors.id_format_for("pb.amritsar", "billnumberid")
    state = selectors.id_format_for("pb.jalandhar", "billnumberid")
    assert city is not None
    assert city.format == "BILL-ASR-[SEQ_CITY]"
    assert state is not None
    assert state.format == "BILL-[SEQ_STATE]"
    assert selectors.id_format_for("pb", "unknown") is None


@pytest.mark.django_db
def test_visible_masters_are_the_callers_tenants_and_their_states(masters):
    city_employee = Caller(user_id=1, username="e", is_superuser=False, roles=(("pb.amritsar", "EMPLOYEE"),))
    assert sorted(_keys(selectors.business_services_visible_to(city_employee))) == [
        ("pb", "PT"),
        ("pb", "WS"),
        ("pb.amritsar", "PT"),
    ]
    state_admin = Caller(user_id=2, username="a", is_superuser=False, roles=(("pb", "BILLING_ADMIN"),))
    assert len(selectors.business_services_visible_to(state_admin)) == 4
    nobody = Caller(user_id=3, username="n", is_superuser=False, roles=())
    assert list(selectors.tax_heads_visible_to(nobody)) == []
    assert [t.code for t in selectors.tenants_visible_to(city_employee)] == ["pb", "pb.amritsar"]
    assert [t.code for t in selectors.tenants_visible_to(state_admin)] == ["pb", "pb.amritsar", "pb.jalandhar"]


@pytest.mark.django_db
def test_payers_live_in_the_state_registry(masters):
    Payer.objects.create(tenant=masters["pb"], name="Asha Devi", mobile_number="9876543210", email="Asha@Example.org")
    assert [p.name for p in selectors.payers_for("pb.amritsar", mobile_number="9876543210")] == ["Asha Devi"]
    assert [p.name for p in selectors.payers_for("pb.jalandhar", email="asha@example.org")] == ["Asha Devi"]
    found = selectors.payer_find("pb.amritsar", name="  ASHA devi ", mobile_number="9876543210")
    assert found is not None
    assert found.name == "Asha Devi"
    assert selectors.payer_find("pb", name="Asha", mobile_number="9876543210") is None
