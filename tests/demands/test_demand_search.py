"""Demand search (reference §6.1 DemandCriteria, §7.3, §2.3): the selector and DIGIT /demand/_search."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from billing_project.errors import DomainError
from demands.models import Demand
from demands.selectors import DemandCriteria, demand_search
from demands.services import PayerInput, demand_cancel, demand_create
from masters.access import caller_for
from masters.models import Payer, Role
from tests.demands.conftest import (
    AT,
    LATER,
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
)


@dataclass
class World:
    demands: dict[str, Demand]
    asha: Payer
    ravi: Payer
    citizen: Any

    def labels(self, found: Any) -> list[str]:
        names = {d.pk: name for name, d in self.demands.items()}
        return [names[d.pk] for d in found]


@pytest.fixture
def world(seed, user_factory, payer_factory) -> World:
    """pb.amritsar: D (PT-3 2017, Ravi, cancelled), A (PT-1 2018, Asha), E (TL-1 2018, Ravi),
    B (PT-1 2019, Asha, paid), C (PT-2 2019, no payer); pb.jalandhar: F (PT-1 2019, Asha)."""
    citizen = user_factory("ravi-login", {"pb": [Role.CITIZEN]})
    asha = payer_factory("Asha Devi", "9876543210", email="asha@example.org")
    ravi = payer_factory("Ravi Kumar", "9000000001", email="Ravi@Example.org", user=citizen)
    state_employee = caller_for(user_factory("emp-pb", {"pb": [Role.EMPLOYEE]}))

    def make(**kwargs: Any) -> Demand:
        [demand] = demand_create(caller=state_employee, demands=[pt_demand(**kwargs)], at=AT)
        return demand

    demands = {
        "A": make(consumer_code="PT-1", period=(PTAN2018_FROM, PTAN2018_TO), payer=PayerInput(uuid=asha.uuid)),
        "B": make(consumer_code="PT-1", payer=PayerInput(uuid=asha.uuid)),
        "C": make(consumer_code="PT-2"),
        "D": make(consumer_code="PT-3", period=(PTAN2017_FROM, PTAN2017_TO), payer=PayerInput(uuid=ravi.uuid)),
        "E": make(
            consumer_code="TL-1",
            business_service="TL",
            period=(TLAN2018_FROM, TLAN2018_TO),
            details=(line("TL_TAX", "10"),),
            payer=PayerInput(uuid=ravi.uuid),
        ),
        "F": make(consumer_code="PT-1", tenant="pb.jalandhar", payer=PayerInput(uuid=asha.uuid)),
    }
    demand_cancel(caller=state_employee, demand_id=demands["D"].pk, at=LATER)
    Demand.objects.filter(pk=demands["B"].pk).update(is_payment_completed=True)
    return World(demands=demands, asha=asha, ravi=ravi, citizen=citizen)


def search(caller: Any, tenant_id: str | None = "pb.amritsar", **criteria: Any) -> Any:
    return demand_search(caller=caller, criteria=DemandCriteria(tenant_id=tenant_id, **criteria))


# --- the selector --------------------------------------------------------------------------------


def test_mandatory_tenant_and_at_least_one_criterion(employee, world):
    with pytest.raises(DomainError) as info:
        search(employee, None, consumer_codes=("PT-1",))
    assert (info.value.code, info.value.message) == ("NotNull.demandCriteria.tenantId", "tenantId is mandatory")
    for criteria in (
        {},
        {"payer_uuids": (world.asha.uuid,)},
        {"status": "ACTIVE"},
        {"period_from": ms(PTAN2018_FROM)},
        {"is_payment_completed": True},
    ):
        with pytest.raises(DomainError) as info:
            search(employee, **criteria)
        assert (info.value.code, info.value.message, info.value.http_status) == (
            "businessService",
            " Any one of the fields additional to tenantId is mandatory",
            400,
        )


def test_accepted_but_ignored_criteria_count_as_a_criterion(employee, world):
    assert world.labels(search(employee, ignored_present=frozenset({"demandFrom"}))) == ["D", "A", "E", "B", "C"]


def test_consumer_codes_ordered_by_period_with_payerless_and_cancelled_demands_kept(employee, world):
    assert world.labels(search(employee, consumer_codes=("PT-2", "PT-1", "PT-3"))) == ["D", "A", "B", "C"]


def test_demand_ids(employee, world):
    ids = (world.demands["C"].pk, world.demands["A"].pk, world.demands["F"].pk)
    # F is in another city: the tenant filter drops it.
    assert world.labels(search(employee, demand_ids=ids)) == ["A", "C"]


def test_business_service(employee, world):
    assert world.labels(search(employee, business_service="TL")) == ["E"]
    assert world.labels(search(employee, business_service="PT")) == ["D", "A", "B", "C"]
    assert world.labels(search(employee, business_service="WC")) == []


def test_period_bounds(employee, world):
    assert world.labels(search(employee, business_service="PT", period_from=ms(PTAN2018_FROM))) == ["A", "B", "C"]
    assert world.labels(search(employee, business_service="PT", period_to=ms(PTAN2018_TO))) == ["D", "A"]
    assert world.labels(
        search(employee, business_service="PT", period_from=ms(PTAN2018_FROM), period_to=ms(PTAN2018_TO))
    ) == ["A"]
    # Bounds are inclusive and apply to taxPeriodFrom >= x and taxPeriodTo <= x respectively.
    assert world.labels(search(employee, business_service="PT", period_from=ms(PTAN2019_FROM + 1))) == []
    assert world.labels(search(employee, business_service="PT", period_to=ms(PTAN2019_TO - 1))) == ["D", "A"]


def test_status_and_payment_completed(employee, world):
    assert world.labels(search(employee, business_service="PT", status="CANCELLED")) == ["D"]
    assert world.labels(search(employee, business_service="PT", status="ACTIVE")) == ["A", "B", "C"]
    assert world.labels(search(employee, business_service="PT", is_payment_completed=True)) == ["B"]
    assert world.labels(search(employee, business_service="PT", is_payment_completed=False)) == ["D", "A", "C"]


def test_payer_uuid_mobile_and_email(employee, world):
    assert world.labels(search(employee, business_service="PT", payer_uuids=(world.asha.uuid,))) == ["A", "B"]
    assert world.labels(search(employee, payer_uuids=(world.ravi.uuid,), business_service="TL")) == ["E"]
    assert world.labels(search(employee, mobile_number="9876543210")) == ["A", "B"]
    assert world.labels(search(employee, mobile_number="9000000001")) == ["D", "E"]
    assert world.labels(search(employee, email="ravi@example.ORG")) == ["D", "E"]
    assert world.labels(search(employee, email="asha@example.org", mobile_number="9876543210")) == ["A", "B"]
    # No registered payer with that number: nothing (not everything).
    assert world.labels(search(employee, mobile_number="9999999999")) == []
    assert world.labels(search(employee, email="asha@example.org", mobile_number="9000000001")) == []


def test_employee_state_level_tenant_rule(employee, world, user_factory):
    with pytest.raises(DomainError) as info:
        search(employee, "pb", consumer_codes=("PT-1",))
    assert (info.value.code, info.value.message) == (
        "EG_BS_INVALID_TENANTID",
        "Employees cannot search based on state level tenantid",
    )
    # An employee holding a role in the state itself may, and reaches every city.
    state_employee = caller_for(user_factory("emp-pb2", {"pb": [Role.EMPLOYEE]}))
    labels = world.labels(search(state_employee, "pb", consumer_codes=("PT-1",)))
    assert (labels[0], sorted(labels[1:])) == ("A", ["B", "F"])  # B and F share period and consumer code


def test_citizen_may_search_at_state_level_and_sees_only_own_demands(world):
    citizen = caller_for(world.citizen)
    assert world.labels(search(citizen, "pb", consumer_codes=("PT-1", "PT-2", "PT-3", "TL-1"))) == ["D", "E"]
    assert world.labels(search(citizen, "pb.amritsar", mobile_number="9876543210")) == []
    assert world.labels(search(citizen, "pb.jalandhar", consumer_codes=("PT-1",))) == []


def test_other_city_is_invisible(world, user_factory):
    jalandhar = caller_for(user_factory("emp-jal", {"pb.jalandhar": [Role.EMPLOYEE]}))
    assert world.labels(search(jalandhar, "pb.amritsar", consumer_codes=("PT-1", "PT-2"))) == []
    assert world.labels(search(jalandhar, "pb.jalandhar", consumer_codes=("PT-1", "PT-2"))) == ["F"]


# --- DIGIT /demand/_search -------------------------------------------------------------------------

URL = "/billing-service/demand/_search"
BODY = {"RequestInfo": {"apiId": "Rainmaker", "ver": ".01", "ts": 1714557600000, "msgId": "search-1"}}
OK_INFO = {
    "apiId": "Rainmaker",
    "ver": ".01",
    "ts": 1714557600000,
    "resMsgId": None,
    "msgId": "search-1",
    "status": "200 OK",
}


@pytest.fixture
def client(world, api_client_for):
    return api_client_for("emp-asr-client", {"pb.amritsar": [Role.EMPLOYEE]})


def digit(client: Any, query: str) -> tuple[int, Any]:
    response = client.post(f"{URL}?{query}", BODY, format="json")
    return response.status_code, response.json()


def found(world: World, body: Any) -> list[str]:
    names = {str(d.pk): name for name, d in world.demands.items()}
    return [names[d["id"]] for d in body["Demands"]]


def test_digit_search_whole_response(client, world):
    b = world.demands["B"]
    [detail] = b.details.all()
    status, body = digit(client, "tenantId=pb.amritsar&consumerCode=PT-1&periodFrom=1554076799000")
    assert status == 200
    assert body == {
        "ResponseInfo": OK_INFO,
        "Demands": [
            {
                "id": str(b.pk),
                "tenantId": "pb.amritsar",
                "consumerCode": "PT-1",
                "consumerType": "BUILTUP",
                "businessService": "PT",
                "payer": {
                    "id": None,
                    "uuid": str(world.asha.uuid),
                    "userName": "9876543210",
                    "type": "CITIZEN",
                    "salutation": None,
                    "name": "Asha Devi",
                    "gender": None,
                    "mobileNumber": "9876543210",
                    "emailId": "asha@example.org",
                    "altContactNumber": None,
                    "pan": None,
                    "aadhaarNumber": None,
                    "fatherOrHusbandName": None,
                    "permanentAddress": None,
                    "permanentCity": None,
                    "permanentPinCode": None,
                    "correspondenceAddress": None,
                    "correspondenceCity": None,
                    "correspondencePinCode": None,
                    "active": True,
                    "tenantId": "pb",
                },
                "taxPeriodFrom": PTAN2019_FROM,
                "taxPeriodTo": PTAN2019_TO,
                "demandDetails": [
                    {
                        "id": str(detail.pk),
                        "demandId": str(b.pk),
                        "taxHeadMasterCode": "PT_TAX",
                        "taxAmount": 500,
                        "collectionAmount": 0,
                        "additionalDetails": None,
                        "auditDetails": {
                            "createdBy": "emp-pb",
                            "lastModifiedBy": "emp-pb",
                            "createdTime": 1714557600000,
                            "lastModifiedTime": 1714557600000,
                        },
                        "tenantId": "pb.amritsar",
                    }
                ],
                "auditDetails": {
                    "createdBy": "emp-pb",
                    "lastModifiedBy": "emp-pb",
                    "createdTime": 1714557600000,
                    "lastModifiedTime": 1714557600000,
                },
                "fixedBillExpiryDate": None,
                "billExpiryTime": 0,
                "additionalDetails": None,
                "minimumAmountPayable": 0,
                "isPaymentCompleted": True,
                "status": "ACTIVE",
            }
        ],
        "CollectedReceipt": None,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tenantId=pb.amritsar&consumerCode=PT-1,PT-2,PT-3", ["D", "A", "B", "C"]),
        ("tenantId=pb.amritsar&consumerCode=PT-2&consumerCode=PT-3", ["D", "C"]),
        ("tenantId=pb.amritsar&consumerCode=PT-2,PT-3&consumerCode=PT-1", ["D", "A", "B", "C"]),
        ("TENANTID=pb.amritsar&consumercode=PT-2", ["C"]),
        ("tenantId=pb.amritsar&businessService=TL", ["E"]),
        ("tenantId=pb.amritsar&businessService=PT&status=CANCELLED", ["D"]),
        ("tenantId=pb.amritsar&businessService=PT&isPaymentCompleted=true", ["B"]),
        ("tenantId=pb.amritsar&businessService=PT&isPaymentCompleted=false", ["D", "A", "C"]),
        (f"tenantId=pb.amritsar&businessService=PT&periodFrom={PTAN2018_FROM}&periodTo={PTAN2018_TO}", ["A"]),
        ("tenantId=pb.amritsar&mobileNumber=9000000001", ["D", "E"]),
        ("tenantId=pb.amritsar&email=RAVI@example.org", ["D", "E"]),
        ("tenantId=pb.amritsar&mobileNumber=9999999999", []),
        ("tenantId=pb.amritsar&demandFrom=1", ["D", "A", "E", "B", "C"]),
        ("tenantId=pb.jalandhar&consumerCode=PT-1", []),
    ],
)
def test_digit_search_criteria(client, world, query, expected):
    status, body = digit(client, query)
    assert (status, found(world, body)) == (200, expected)


def test_digit_search_by_demand_ids_and_payer(client, world):
    a, c, e = world.demands["A"].pk, world.demands["C"].pk, world.demands["E"].pk
    status, body = digit(client, f"tenantId=pb.amritsar&demandId={c},{a}&demandId={e}")
    assert (status, found(world, body)) == (200, ["A", "E", "C"])
    status, body = digit(client, f"tenantId=pb.amritsar&businessService=PT&payer={world.asha.uuid}")
    assert (status, found(world, body)) == (200, ["A", "B"])


def error(code: str, message: str, params: Any = None) -> dict[str, Any]:
    return {"ResponseInfo": None, "Errors": [{"code": code, "message": message, "description": None, "params": params}]}


def test_digit_search_errors(client, world):
    assert digit(client, "tenantId=pb.amritsar") == (
        400,
        error("businessService", " Any one of the fields additional to tenantId is mandatory"),
    )
    assert digit(client, "tenantId=pb.amritsar&status=ACTIVE&periodFrom=1") == (
        400,
        error("businessService", " Any one of the fields additional to tenantId is mandatory"),
    )
    assert digit(client, "consumerCode=PT-1") == (
        400,
        error("NotNull.demandCriteria.tenantId", "tenantId is mandatory"),
    )
    assert digit(client, "tenantId=pb&consumerCode=PT-1") == (
        400,
        error("EG_BS_INVALID_TENANTID", "Employees cannot search based on state level tenantid"),
    )
    assert digit(client, "tenantId=pb.amritsar&demandId=nope") == (
        400,
        error("invalid.demandId", "'nope' is not a valid id", ["demandId"]),
    )
    assert digit(client, "tenantId=pb.amritsar&consumerCode=PT-1&periodFrom=soon") == (
        400,
        error("invalid.periodFrom", "'soon' is not a time in epoch milliseconds", ["periodFrom"]),
    )
    assert digit(client, "tenantId=pb.amritsar&consumerCode=PT-1&isPaymentCompleted=maybe") == (
        400,
        error("invalid.isPaymentCompleted", "'maybe' is not a boolean (true/false)", ["isPaymentCompleted"]),
    )


def test_digit_search_state_level(world, api_client_for):
    state_client = api_client_for("emp-pb-client", {"pb": [Role.EMPLOYEE]})
    status, body = digit(state_client, "tenantId=pb&consumerCode=PT-1")
    labels = found(world, body)
    assert (status, labels[0], sorted(labels[1:])) == (200, "A", ["B", "F"])


def test_digit_search_citizen_sees_only_own_demands(world):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token, _ = Token.objects.get_or_create(user=world.citizen)
    citizen_client = APIClient()
    # The token may come in RequestInfo.authToken.
    response = citizen_client.post(
        f"{URL}?tenantId=pb&consumerCode=PT-1,PT-2,PT-3,TL-1",
        {"RequestInfo": {**BODY["RequestInfo"], "authToken": token.key}},
        format="json",
    )
    assert (response.status_code, found(world, response.json())) == (200, ["D", "E"])


def test_digit_search_amounts_are_json_numbers(client, world):
    demand_create(
        caller=caller_for(client.user),
        demands=[pt_demand("PT-9", details=(line("PT_TAX", "1234.5", "0.25"), line("PT_TIME_REBATE", "-10")))],
        at=AT,
    )
    status, body = digit(client, "tenantId=pb.amritsar&consumerCode=PT-9")
    assert status == 200
    assert sorted(
        (d["taxHeadMasterCode"], d["taxAmount"], d["collectionAmount"]) for d in body["Demands"][0]["demandDetails"]
    ) == [("PT_TAX", 1234.5, 0.25), ("PT_TIME_REBATE", -10, 0)]
    raw = client.post(f"{URL}?tenantId=pb.amritsar&consumerCode=PT-9", BODY, format="json").content.decode()
    assert '"taxAmount":1234.5' in raw.replace(" ", "")
    assert Decimal("1234.50") == Decimal(str(body["Demands"][0]["demandDetails"][0]["taxAmount"]))
    assert dt.datetime.fromtimestamp(body["Demands"][0]["taxPeriodFrom"] / 1000, dt.UTC) == ms(PTAN2019_FROM)
