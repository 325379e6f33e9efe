"""Bill numbers (reference §7.7, fix [17]): format, overrides, tenant-level sequences, no number for no bill."""

from __future__ import annotations

from typing import Any

import pytest

from bills.models import Bill
from masters.models import IdFormat, IdSequence, TaxHeadMaster, TaxPeriod, Tenant
from tests.bills.conftest import AT, create, fetch, line, ms, pt_demand
from tests.concurrency import run_together
from tests.demands.conftest import WCAN2019_FROM, WCAN2019_TO, wc_demand


def numbers() -> list[tuple[str, str, str]]:
    return list(
        Bill.objects.order_by("tenant__code", "bill_number").values_list("tenant__code", "consumer_code", "bill_number")
    )


def sequences() -> dict[str, int]:
    return dict(IdSequence.objects.values_list("name", "last_value"))


@pytest.fixture
def water(seed: dict[str, Tenant]) -> None:
    """WaterCharges (WC) gets a charge head and its 2019-20 period."""
    TaxHeadMaster.objects.create(tenant=seed["pb"], code="WS_CHARGE", service="WC", name="Water", category="CHARGES")
    TaxPeriod.objects.create(
        tenant=seed["pb"],
        service="WC",
        code="WCAN2019",
        from_date=ms(WCAN2019_FROM),
        to_date=ms(WCAN2019_TO),
        period_cycle="ANNUAL",
        financial_year="2019-20",
    )


@pytest.mark.django_db
def test_numbers_count_up_with_the_module_code_and_one_sequence_as_the_reference(employee, water):
    create(employee, pt_demand("PT-1"), pt_demand("PT-2"), wc_demand("WS-1"), pt_demand("PT-3"))

    fetch(employee, "PT-2")
    fetch(employee, "PT-1")
    fetch(employee, "WS-1", service="WC")
    fetch(employee, "PT-3")

    assert numbers() == [
        ("pb.amritsar", "PT-2", "BILLNO-PT-000001"),
        ("pb.amritsar", "PT-1", "BILLNO-PT-000002"),
        ("pb.amritsar", "PT-3", "BILLNO-PT-000004"),
        ("pb.amritsar", "WS-1", "BILLNO-WC-000003"),
    ]
    assert sequences() == {"seq_egbs_billnumber": 4}


@pytest.mark.django_db
def test_one_fetch_of_several_consumers_draws_consecutive_numbers_in_consumer_order(employee):
    create(employee, pt_demand("PT-C"), pt_demand("PT-A"), pt_demand("PT-B"))

    bills = fetch(employee, "PT-C", "PT-A", "PT-B")

    assert [(b.consumer_code, b.bill_number) for b in bills] == [
        ("PT-A", "BILLNO-PT-000001"),
        ("PT-B", "BILLNO-PT-000002"),
        ("PT-C", "BILLNO-PT-000003"),
    ]


@pytest.mark.django_db
def test_a_module_sequence_can_be_configured_with_the_module_in_its_name(employee, water, seed):
    IdFormat.objects.create(
        tenant=seed["pb"], id_name="billnumberid", format="BILLNO-{module}-[SEQ_egbs_bill_{module}]"
    )
    create(employee, pt_demand("PT-1"), wc_demand("WS-1"), pt_demand("PT-2"))

    fetch(employee, "PT-1")
    fetch(employee, "WS-1", service="WC")
    fetch(employee, "PT-2")

    assert [n[2] for n in numbers()] == ["BILLNO-PT-000001", "BILLNO-PT-000002", "BILLNO-WC-000001"]
    assert sequences() == {"seq_egbs_bill_pt": 2, "seq_egbs_bill_wc": 1}


@pytest.mark.django_db
def test_no_number_is_drawn_for_a_consumer_without_a_bill(employee):
    create(
        employee,
        pt_demand("PT-1"),
        pt_demand("PT-NEG", details=(line("PT_TAX", "100"), line("PT_OWNER_EXEMPTION", "-300"))),
        pt_demand("PT-2"),
    )

    assert fetch(employee, "PT-NEG") == []
    assert sequences() == {}
    bills = fetch(employee, "PT-1", "PT-NEG", "PT-2")

    assert [(b.consumer_code, b.bill_number) for b in bills] == [
        ("PT-1", "BILLNO-PT-000001"),
        ("PT-2", "BILLNO-PT-000002"),
    ]
    assert sequences() == {"seq_egbs_billnumber": 2}


@pytest.mark.django_db
def test_a_current_bill_draws_no_number(employee):
    create(employee, pt_demand("PT-1"))
    fetch(employee, "PT-1")
    fetch(employee, "PT-1")

    assert sequences() == {"seq_egbs_billnumber": 1}


@pytest.mark.django_db
def test_a_tenant_id_format_overrides_the_default(employee, jalandhar_employee, seed):
    IdFormat.objects.create(
        tenant=seed["amritsar"], id_name="billnumberid", format="PB-ASR/{module}/[fy:yyyy-yy]/[SEQ_asr_bill]"
    )
    create(employee, pt_demand("PT-1"), pt_demand("PT-2"))
    create(jalandhar_employee, pt_demand("PT-9", tenant="pb.jalandhar"))

    fetch(employee, "PT-1", "PT-2")
    fetch(jalandhar_employee, "PT-9", tenant="pb.jalandhar")

    assert numbers() == [
        ("pb.amritsar", "PT-1", "PB-ASR/PT/2024-25/000001"),
        ("pb.amritsar", "PT-2", "PB-ASR/PT/2024-25/000002"),
        ("pb.jalandhar", "PT-9", "BILLNO-PT-000001"),
    ]
    assert sequences() == {"seq_asr_bill": 2, "seq_egbs_billnumber": 1}


@pytest.mark.django_db
def test_a_state_id_format_applies_to_its_cities_unless_a_city_overrides_it(employee, jalandhar_employee, seed):
    IdFormat.objects.create(tenant=seed["pb"], id_name="billnumberid", format="BILL-[city]-{module}-[SEQ_pb_bill]")
    IdFormat.objects.create(tenant=seed["amritsar"], id_name="billnumberid", format="ASR-[SEQ_asr_bill]")
    create(employee, pt_demand("PT-1"))
    create(jalandhar_employee, pt_demand("PT-9", tenant="pb.jalandhar"))

    fetch(employee, "PT-1")
    fetch(jalandhar_employee, "PT-9", tenant="pb.jalandhar")

    assert numbers() == [
        ("pb.amritsar", "PT-1", "ASR-000001"),
        ("pb.jalandhar", "PT-9", "BILL-JALANDHAR-PT-000001"),
    ]


@pytest.mark.django_db
def test_tenant_level_numbering_draws_from_the_citys_own_sequence(employee, settings):
    settings.TENANT_LEVEL_BILL_NUMBERING = True
    create(employee, pt_demand("PT-1"), pt_demand("PT-2"))

    fetch(employee, "PT-1", "PT-2")

    assert sequences() == {"seq_egbs_billnumber_amritsar": 2}
    assert numbers() == [
        ("pb.amritsar", "PT-1", "BILLNO-PT-000001"),
        ("pb.amritsar", "PT-2", "BILLNO-PT-000002"),
    ]


@pytest.mark.django_db
def test_tenant_level_numbering_keeps_a_sequence_per_city(employee, jalandhar_employee, settings):
    settings.TENANT_LEVEL_BILL_NUMBERING = True
    create(employee, pt_demand("PT-1"), pt_demand("PT-2"))
    create(jalandhar_employee, pt_demand("PT-9", tenant="pb.jalandhar"))

    fetch(employee, "PT-1", "PT-2")
    fetch(jalandhar_employee, "PT-9", tenant="pb.jalandhar")

    assert sequences() == {"seq_egbs_billnumber_amritsar": 2, "seq_egbs_billnumber_jalandhar": 1}
    assert numbers() == [
        ("pb.amritsar", "PT-1", "BILLNO-PT-000001"),
        ("pb.amritsar", "PT-2", "BILLNO-PT-000002"),
        ("pb.jalandhar", "PT-9", "BILLNO-PT-000001"),
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_fetches_for_different_consumers_draw_distinct_consecutive_numbers(employee):
    codes = [f"PT-{n}" for n in range(1, 9)]
    create(employee, *(pt_demand(code) for code in codes))

    def work(code: str) -> Any:
        [bill] = fetch(employee, code, at=AT)
        return bill.bill_number

    outcomes = run_together([lambda code=code: work(code) for code in codes])

    assert sorted(outcomes) == [f"BILLNO-PT-{n:06d}" for n in range(1, 9)]
    assert sorted(Bill.objects.values_list("bill_number", flat=True)) == sorted(outcomes)
    assert sequences() == {"seq_egbs_billnumber": 8}
