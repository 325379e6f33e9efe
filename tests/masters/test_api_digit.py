"""DIGIT face of the masters: /taxheads/_search, /taxperiods/_search, /businessservices/_search."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from billing_project import clock
from masters.models import BusinessService, Role, TaxHeadMaster, TaxPeriod

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
PTAN2024_FROM, PTAN2024_TO = 1711909800000, 1743445799999  # 2024-04-01 00:00 IST .. 2025-03-31 23:59:59.999 IST
PTAN2023_FROM, PTAN2023_TO = 1680287400000, 1711909799999


def _period(tenant, service, code, year, cycle="ANNUAL"):
    return TaxPeriod.objects.create(
        tenant=tenant,
        service=service,
        code=code,
        from_date=dt.datetime(year, 4, 1, tzinfo=IST),
        to_date=dt.datetime(year + 1, 3, 31, 23, 59, 59, 999000, tzinfo=IST),
        period_cycle=cycle,
        financial_year=f"{year}-{(year + 1) % 100:02d}",
    )


@pytest.fixture
def masters(tenant_factory):
    pb, amritsar, jalandhar = tenant_factory("pb"), tenant_factory("pb.amritsar"), tenant_factory("pb.jalandhar")
    return {
        "pb_pt": BusinessService.objects.create(
            tenant=pb,
            code="PT",
            business_service="PropertyTax",
            collection_modes_not_allowed=["DD", "OFFLINE_NEFT", "OFFLINE_RTGS", "POSTAL_ORDER"],
            part_payment_allowed=True,
            is_bill_amendment_enabled=True,
            min_amount_payable=Decimal("100.00"),
            demand_update_time=86400000,
            is_voucher_creation_enabled=True,
            bill_genie_url="egov-searcher/bill-genie/billswithaddranduser/_get",
        ),
        "pb_ws": BusinessService.objects.create(
            tenant=pb, code="WS", business_service="WaterCharges", is_advance_allowed=True, type="Adhoc"
        ),
        "asr_ws": BusinessService.objects.create(
            tenant=amritsar, code="WS", business_service="WaterCharges Amritsar", part_payment_allowed=True
        ),
        "jal_tl": BusinessService.objects.create(tenant=jalandhar, code="TL", business_service="TradeLicense"),
        "pt_tax": TaxHeadMaster.objects.create(
            tenant=pb,
            code="PT_TAX",
            service="PT",
            name="Pt tax",
            category="TAX",
            order=3,
            is_debit=False,
            is_actual_demand=True,
        ),
        "pt_rebate": TaxHeadMaster.objects.create(
            tenant=pb, code="PT_TIME_REBATE", service="PT", name="Pt time rebate", category="REBATE", is_debit=True
        ),
        "pt_advance": TaxHeadMaster.objects.create(
            tenant=pb, code="PT_ADVANCE_CARRYFORWARD", service="PT", name="Pt advance", category="ADVANCE_COLLECTION"
        ),
        "asr_pt_tax": TaxHeadMaster.objects.create(
            tenant=amritsar,
            code="PT_TAX",
            service="PT",
            name="Pt tax (Amritsar)",
            category="TAX",
            order=4,
            is_actual_demand=True,
        ),
        "ws_charge": TaxHeadMaster.objects.create(
            tenant=pb, code="WS_CHARGE", service="WS", name="Ws charge", category="CHARGES", is_actual_demand=True
        ),
        "pt_2023": _period(pb, "PT", "PTAN2023", 2023),
        "pt_2024": _period(pb, "PT", "PTAN2024", 2024),
        "asr_pt_2024": _period(amritsar, "PT", "PTAN2024", 2024, cycle="HALFYEAR"),
        "ws_2024": _period(pb, "WS", "WSAN2024", 2024),
        "jal_tl_2024": _period(jalandhar, "TL", "TLAN2024", 2024),
    }


@pytest.fixture
def employee(api_client_for):
    return api_client_for("emp", {"pb.amritsar": [Role.EMPLOYEE]})


def _request_info(token=None, **extra):
    info = {"apiId": "Rainmaker", "ver": ".01", "ts": 1712743212345, "msgId": "20170310130900|en_IN", **extra}
    if token is not None:
        info["authToken"] = token
    return {"RequestInfo": info}


RESPONSE_INFO = {
    "apiId": "Rainmaker",
    "ver": ".01",
    "ts": 1712743212345,
    "resMsgId": None,
    "msgId": "20170310130900|en_IN",
    "status": "200 OK",
}


def _post(client, path, params="", body=None):
    return client.post(f"/billing-service/{path}{params}", body if body is not None else _request_info(), format="json")


def _tax_head(row, tenant):
    return {
        "id": str(row.pk),
        "tenantId": tenant,
        "category": row.category,
        "service": row.service,
        "name": row.name,
        "code": row.code,
        "glCodes": None,
        "isDebit": row.is_debit,
        "isActualDemand": row.is_actual_demand,
        "validFrom": None,
        "validTill": None,
        "order": row.order,
        "auditDetail": None,
    }


# --- tax heads -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_taxheads_search_whole_body_with_city_fallback(masters, employee):
    response = _post(employee, "taxheads/_search", "?tenantId=pb.amritsar&service=PT")
    assert response.status_code == 200
    assert response.json() == {
        "ResponseInfo": RESPONSE_INFO,
        "TaxHeadMasters": [
            _tax_head(masters["pt_advance"], "pb"),
            _tax_head(masters["pt_rebate"], "pb"),
            _tax_head(masters["asr_pt_tax"], "pb.amritsar"),
        ],
    }
    assert response.json()["TaxHeadMasters"][2] == {
        "id": str(masters["asr_pt_tax"].pk),
        "tenantId": "pb.amritsar",
        "category": "TAX",
        "service": "PT",
        "name": "Pt tax (Amritsar)",
        "code": "PT_TAX",
        "glCodes": None,
        "isDebit": False,
        "isActualDemand": True,
        "validFrom": None,
        "validTill": None,
        "order": 4,
        "auditDetail": None,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("?tenantId=pb&code=PT_TAX,WS_CHARGE", [("pb", "PT_TAX"), ("pb", "WS_CHARGE")]),
        ("?TENANTID=pb&Code=PT_TAX&code=WS_CHARGE", [("pb", "PT_TAX"), ("pb", "WS_CHARGE")]),
        ("?tenantId=pb.amritsar&category=TAX", [("pb.amritsar", "PT_TAX")]),
        ("?tenantId=pb.amritsar&isDebit=true", [("pb", "PT_TIME_REBATE")]),
        ("?tenantId=pb.amritsar&isActualDemand=true&service=WS", [("pb", "WS_CHARGE")]),
        ("?tenantId=pb.amritsar&name=Pt%20tax", []),  # the state's PT_TAX is overridden in Amritsar
        ("?tenantId=pb&name=Pt%20tax", [("pb", "PT_TAX")]),
        ("?tenantId=pb.amritsar&category=tax", []),  # values match exactly, as the reference's filters do
    ],
)
def test_taxheads_search_criteria(masters, employee, params, expected):
    response = _post(employee, "taxheads/_search", params)
    assert response.status_code == 200, response.json()
    assert [(row["tenantId"], row["code"]) for row in response.json()["TaxHeadMasters"]] == expected


@pytest.mark.django_db
def test_taxheads_search_by_id_set(masters, employee):
    ids = f"{masters['ws_charge'].pk},{masters['pt_tax'].pk},not-a-number"
    response = _post(employee, "taxheads/_search", f"?tenantId=pb.amritsar&id={ids}")
    # the state's PT_TAX is not in force in Amritsar (overridden), so its id finds nothing there
    assert [row["code"] for row in response.json()["TaxHeadMasters"]] == ["WS_CHARGE"]


@pytest.mark.django_db
def test_malformed_boolean_criterion(masters, employee):
    response = _post(employee, "taxheads/_search", "?tenantId=pb&isDebit=maybe")
    assert response.status_code == 400
    assert response.json() == {
        "ResponseInfo": None,
        "Errors": [
            {
                "code": "invalid.isDebit",
                "message": "'maybe' is not a boolean (true/false)",
                "description": None,
                "params": ["isDebit"],
            }
        ],
    }


# --- tax periods -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_taxperiods_search_whole_body_with_city_fallback(masters, employee):
    response = _post(employee, "taxperiods/_search", "?tenantId=pb.amritsar&service=PT")
    assert response.status_code == 200
    assert response.json() == {
        "ResponseInfo": RESPONSE_INFO,
        "TaxPeriods": [
            {
                "id": str(masters["pt_2023"].pk),
                "tenantId": "pb",
                "fromDate": PTAN2023_FROM,
                "toDate": PTAN2023_TO,
                "periodCycle": "ANNUAL",
                "service": "PT",
                "code": "PTAN2023",
                "financialYear": "2023-24",
                "auditDetail": None,
            },
            {
                "id": str(masters["asr_pt_2024"].pk),
                "tenantId": "pb.amritsar",
                "fromDate": PTAN2024_FROM,
                "toDate": PTAN2024_TO,
                "periodCycle": "HALFYEAR",
                "service": "PT",
                "code": "PTAN2024",
                "financialYear": "2024-25",
                "auditDetail": None,
            },
        ],
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("?tenantId=pb&service=PT,WS", [("PT", "PTAN2023"), ("PT", "PTAN2024"), ("WS", "WSAN2024")]),
        (
            "?tenantId=pb&service=PT&service=WS&periodCycle=ANNUAL",
            [("PT", "PTAN2023"), ("PT", "PTAN2024"), ("WS", "WSAN2024")],
        ),
        ("?tenantId=pb.amritsar&periodCycle=HALFYEAR", [("PT", "PTAN2024")]),
        (f"?tenantId=pb&fromDate={PTAN2024_FROM}", [("PT", "PTAN2024"), ("WS", "WSAN2024")]),
        (f"?tenantId=pb&fromDate={PTAN2024_FROM + 1}", []),
        (f"?tenantId=pb&toDate={PTAN2023_TO}", [("PT", "PTAN2023")]),
        (f"?tenantId=pb&service=PT&date={PTAN2024_FROM + 86_400_000}", [("PT", "PTAN2024")]),
        ("?tenantId=pb&code=WSAN2024", [("WS", "WSAN2024")]),
    ],
)
def test_taxperiods_search_criteria(masters, employee, params, expected):
    response = _post(employee, "taxperiods/_search", params)
    assert response.status_code == 200, response.json()
    assert [(row["service"], row["code"]) for row in response.json()["TaxPeriods"]] == expected


@pytest.mark.django_db
def test_taxperiods_search_by_id_and_bad_epoch(masters, employee):
    response = _post(employee, "taxperiods/_search", f"?tenantId=pb&id={masters['ws_2024'].pk}")
    assert [row["code"] for row in response.json()["TaxPeriods"]] == ["WSAN2024"]
    bad = _post(employee, "taxperiods/_search", "?tenantId=pb&fromDate=yesterday")
    assert bad.status_code == 400
    assert bad.json()["Errors"] == [
        {
            "code": "invalid.fromDate",
            # The kernel's one epoch parameter (billing_project.digit.criteria.query_epoch) says what it expected.
            "message": "'yesterday' is not a time in epoch milliseconds",
            "description": None,
            "params": ["fromDate"],
        }
    ]
    too_far = _post(employee, "taxperiods/_search", "?tenantId=pb&toDate=99999999999999999")
    assert too_far.status_code == 400
    assert too_far.json()["Errors"] == [
        {
            "code": "invalid.toDate",
            "message": "'99999999999999999' is not a time in epoch milliseconds",
            "description": None,
            "params": ["toDate"],
        }
    ]


# --- business services -----------------------------------------------------------------------


@pytest.mark.django_db
def test_businessservices_search_whole_body(masters, employee):
    response = _post(employee, "businessservices/_search", "?tenantId=pb.amritsar")
    assert response.status_code == 200
    assert response.json() == {
        "ResponseInfo": RESPONSE_INFO,
        "BusinessServiceDetails": [
            {
                "id": str(masters["pb_pt"].pk),
                "tenantId": "pb",
                "businessService": "PropertyTax",
                "code": "PT",
                "collectionModesNotAllowed": ["DD", "OFFLINE_NEFT", "OFFLINE_RTGS", "POSTAL_ORDER"],
                "partPaymentAllowed": True,
                "isAdvanceAllowed": False,
                "isBillAmendmentEnabled": True,
                "minAmountPayable": 100.0,
                "demandUpdateTime": 86400000,
                "isVoucherCreationEnabled": True,
                "billGineiURL": "egov-searcher/bill-genie/billswithaddranduser/_get",
                "type": None,
                "isActive": True,
                "isCitizen": False,
                "callBackForApportioning": False,
                "callBackApportionURL": None,
                "auditDetails": None,
            },
            {
                "id": str(masters["asr_ws"].pk),
                "tenantId": "pb.amritsar",
                "businessService": "WaterCharges Amritsar",
                "code": "WS",
                "collectionModesNotAllowed": [],
                "partPaymentAllowed": True,
                "isAdvanceAllowed": False,
                "isBillAmendmentEnabled": False,
                "minAmountPayable": None,
                "demandUpdateTime": None,
                "isVoucherCreationEnabled": False,
                "billGineiURL": None,
                "type": None,
                "isActive": True,
                "isCitizen": False,
                "callBackForApportioning": False,
                "callBackApportionURL": None,
                "auditDetails": None,
            },
        ],
    }


@pytest.mark.django_db
def test_businessservices_search_by_codes_and_ids(masters, employee):
    by_code = _post(employee, "businessservices/_search", "?tenantId=pb&businessService=WS,TL")
    assert [(r["tenantId"], r["code"], r["type"]) for r in by_code.json()["BusinessServiceDetails"]] == [
        ("pb", "WS", "Adhoc")
    ]
    by_id = _post(employee, "businessservices/_search", f"?tenantid=pb.amritsar&ID={masters['asr_ws'].pk}")
    assert [r["businessService"] for r in by_id.json()["BusinessServiceDetails"]] == ["WaterCharges Amritsar"]


# --- envelope, identity, tenants -------------------------------------------------------------


@pytest.mark.django_db
def test_missing_tenant_id_is_refused(masters, employee):
    response = _post(employee, "businessservices/_search", "?businessService=PT")
    assert response.status_code == 400
    assert response.json() == {
        "ResponseInfo": None,
        "Errors": [
            {"code": "NotNull.tenantId", "message": "must not be null", "description": None, "params": ["tenantId"]}
        ],
    }


@pytest.mark.django_db
def test_malformed_json_body_is_refused(masters, employee):
    response = employee.post(
        "/billing-service/taxheads/_search?tenantId=pb", data='{"RequestInfo": {', content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["ResponseInfo"] is None
    assert [error["code"] for error in body["Errors"]] == ["MALFORMED_REQUEST"]
    assert body["Errors"][0]["message"].startswith("The request body is not valid JSON: JSON parse error")


@pytest.mark.django_db
def test_token_in_request_info_with_odd_key_case_and_unknown_keys(masters, api_client_for):
    token = api_client_for("emp", {"pb.amritsar": [Role.EMPLOYEE]}).token
    anonymous = APIClient()
    body = {
        "requestinfo": {
            "APIID": "Rainmaker",
            "MsgId": "m-1",
            "AUTHTOKEN": token,
            "somethingNew": {"nested": True},
            "userInfo": {"uuid": "not-trusted", "type": "EMPLOYEE", "roles": [{"code": "SUPERUSER", "tenantId": "pb"}]},
        },
        "extraTopLevel": 1,
    }
    with clock.frozen(dt.datetime(2024, 4, 10, 10, 0, 12, 345000, tzinfo=dt.UTC)):
        response = anonymous.post(
            "/billing-service/businessservices/_search?tenantId=pb&businessService=PT", body, format="json"
        )
    assert response.status_code == 200
    assert response.json()["ResponseInfo"] == {
        "apiId": "Rainmaker",
        "ver": None,
        "ts": 1712743212345,
        "resMsgId": None,
        "msgId": "m-1",
        "status": "200 OK",
    }
    assert [r["code"] for r in response.json()["BusinessServiceDetails"]] == ["PT"]
    # userInfo claimed SUPERUSER, but identity comes from the token: Jalandhar stays out of reach
    refused = anonymous.post("/billing-service/businessservices/_search?tenantId=pb.jalandhar", body, format="json")
    assert refused.status_code == 403


@pytest.mark.django_db
def test_authentication_is_required(masters, api_client_for):
    anonymous = APIClient()
    missing = anonymous.post("/billing-service/taxheads/_search?tenantId=pb", _request_info(), format="json")
    assert missing.status_code == 401
    assert missing.json() == {
        "ResponseInfo": None,
        "Errors": [
            {
                "code": "AUTHENTICATION_REQUIRED",
                "message": "An auth token is required in RequestInfo.authToken or the Authorization header",
                "description": None,
                "params": None,
            }
        ],
    }
    wrong = anonymous.post("/billing-service/taxheads/_search?tenantId=pb", _request_info("f" * 40), format="json")
    assert wrong.status_code == 401
    assert [e["code"] for e in wrong.json()["Errors"]] == ["InvalidAccessTokenException"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["taxheads/_search", "taxperiods/_search", "businessservices/_search"])
def test_other_city_is_out_of_reach(masters, employee, path):
    response = _post(employee, path, "?tenantId=pb.jalandhar")
    assert response.status_code == 403
    assert response.json() == {
        "ResponseInfo": None,
        "Errors": [
            {
                "code": "ACCESS_DENIED",
                "message": "You have no role reaching tenant pb.jalandhar.",
                "description": None,
                "params": None,
            }
        ],
    }


@pytest.mark.django_db
def test_state_tenant_gives_state_masters_and_state_role_reaches_cities(masters, api_client_for):
    state_admin = api_client_for("admin", {"pb": [Role.BILLING_ADMIN]})
    state = _post(state_admin, "businessservices/_search", "?tenantId=pb")
    assert [(r["tenantId"], r["code"]) for r in state.json()["BusinessServiceDetails"]] == [("pb", "PT"), ("pb", "WS")]
    city = _post(state_admin, "businessservices/_search", "?tenantId=pb.jalandhar")
    assert [(r["tenantId"], r["code"]) for r in city.json()["BusinessServiceDetails"]] == [
        ("pb", "PT"),
        ("pb.jalandhar", "TL"),
        ("pb", "WS"),
    ]


@pytest.mark.django_db
def test_citizen_may_search_their_state(masters, api_client_for):
    citizen = api_client_for("citizen", {"pb.amritsar": [Role.CITIZEN]})
    response = _post(citizen, "taxheads/_search", "?tenantId=pb&code=WS_CHARGE")
    assert [r["code"] for r in response.json()["TaxHeadMasters"]] == ["WS_CHARGE"]


@pytest.mark.django_db
def test_only_post_is_offered(masters, employee):
    response = employee.get("/billing-service/taxheads/_search?tenantId=pb")
    assert response.status_code == 405
    assert response.json()["ResponseInfo"] is None


@pytest.mark.django_db
def test_search_runs_a_fixed_number_of_queries(masters, employee, django_assert_max_num_queries):
    employee.post("/billing-service/taxheads/_search?tenantId=pb", _request_info(), format="json")  # warm-up
    # token lookup, roles, and the one master query
    with django_assert_max_num_queries(3):
        response = _post(employee, "taxheads/_search", "?tenantId=pb.amritsar")
    assert [(r["tenantId"], r["code"]) for r in json.loads(response.content)["TaxHeadMasters"]] == [
        ("pb", "PT_ADVANCE_CARRYFORWARD"),
        ("pb", "PT_TIME_REBATE"),
        ("pb.amritsar", "PT_TAX"),
        ("pb", "WS_CHARGE"),
    ]
