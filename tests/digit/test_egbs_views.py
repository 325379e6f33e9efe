"""Read-only egbs_* views with DIGIT's table names and columns (issue 14 point 10), as DIGIT's searcher reads them.

The queries are shaped after what DIGIT's bill-genie (egov-searcher) and the ws/sw calculators run against
billing's tables: joins on ``billid``/``billdetail``/``demandid`` with ``tenantid``, epoch-millisecond columns.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from tests.digit.conftest import Digit, post, request_info
from tests.digit.test_kafka_writeback import pt_bill

pytestmark = [pytest.mark.django_db, pytest.mark.redis, pytest.mark.postgres]

DIGIT_COLUMNS = {
    "egbs_demand_v1": [
        "id",
        "consumercode",
        "consumertype",
        "businessservice",
        "payer",
        "taxperiodfrom",
        "taxperiodto",
        "createdby",
        "createdtime",
        "lastmodifiedby",
        "lastmodifiedtime",
        "tenantid",
        "minimumamountpayable",
        "status",
        "additionaldetails",
        "billexpirytime",
        "ispaymentcompleted",
        "fixedbillexpirydate",
    ],
    "egbs_demanddetail_v1": [
        "id",
        "demandid",
        "taxheadcode",
        "taxamount",
        "collectionamount",
        "createdby",
        "createdtime",
        "lastmodifiedby",
        "lastmodifiedtime",
        "tenantid",
        "additionaldetails",
    ],
    "egbs_bill_v1": [
        "id",
        "tenantid",
        "payername",
        "payeraddress",
        "payeremail",
        "isactive",
        "iscancelled",
        "createdby",
        "createddate",
        "lastmodifiedby",
        "lastmodifieddate",
        "mobilenumber",
        "status",
        "additionaldetails",
        "filestoreid",
        "payerid",
        "consumercode",
    ],
    "egbs_billdetail_v1": [
        "id",
        "tenantid",
        "billid",
        "businessservice",
        "billno",
        "billdate",
        "consumercode",
        "consumertype",
        "billdescription",
        "displaymessage",
        "minimumamount",
        "totalamount",
        "callbackforapportioning",
        "partpaymentallowed",
        "collectionmodesnotallowed",
        "createdby",
        "createddate",
        "lastmodifiedby",
        "lastmodifieddate",
        "receiptdate",
        "receiptnumber",
        "fromperiod",
        "toperiod",
        "demandid",
        "isadvanceallowed",
        "expirydate",
        "additionaldetails",
    ],
    "egbs_billaccountdetail_v1": [
        "id",
        "tenantid",
        "billdetail",
        "glcode",
        "orderno",
        "accountdescription",
        "creditamount",
        "debitamount",
        "isactualdemand",
        "purpose",
        "createdby",
        "createddate",
        "lastmodifiedby",
        "lastmodifieddate",
        "cramounttobepaid",
        "taxheadcode",
        "amount",
        "adjustedamount",
        "demanddetailid",
        "additionaldetails",
    ],
}


def rows(sql: str, params: list[object]) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def test_the_views_have_digits_columns(db: object) -> None:
    for view, columns in DIGIT_COLUMNS.items():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {view} LIMIT 0")
            assert [c.name for c in cursor.description] == columns, view


def test_bill_genie_and_calculator_queries_return_our_rows(digit: Digit) -> None:
    bill = pt_bill(digit)
    [detail] = bill["billDetails"]
    # bill-genie: bills with their details and account details of a consumer, newest first
    found = rows(
        """SELECT b.id, b.status, b.mobilenumber, b.payerid, bd.billno, bd.totalamount, bd.partpaymentallowed,
                  bd.collectionmodesnotallowed, bd.fromperiod, bd.expirydate,
                  ad.taxheadcode, ad.amount, ad.demanddetailid
             FROM egbs_bill_v1 b
             JOIN egbs_billdetail_v1 bd ON bd.billid = b.id AND bd.tenantid = b.tenantid
             JOIN egbs_billaccountdetail_v1 ad ON ad.billdetail = bd.id AND ad.tenantid = bd.tenantid
            WHERE b.tenantid = %s AND bd.consumercode = %s AND bd.businessservice = %s
            ORDER BY b.createddate DESC, ad.orderno, ad.taxheadcode""",
        ["pb.amritsar", "PT-107-000777", "PT"],
    )
    by_head = {a["taxHeadCode"]: a for a in detail["billAccountDetails"]}
    assert found == [
        (
            bill["id"],
            "ACTIVE",
            "9876502708",
            digit.citizen["uuid"],
            bill["billNumber"],
            Decimal("1260.00"),
            True,
            "DD,OFFLINE_NEFT,OFFLINE_RTGS,POSTAL_ORDER",
            detail["fromPeriod"],
            detail["expiryDate"],
            head,
            Decimal(str(by_head[head]["amount"])).quantize(Decimal("0.01")),
            by_head[head]["demandDetailId"],
        )
        for head in ("PT_TAX", "PT_FIRE_CESS")
    ]
    # ws/sw calculators' bulk demand query: active demands with unpaid dues, by tenant and service
    demands = rows(
        """SELECT d.id, d.consumercode, d.payer, d.taxperiodfrom, d.taxperiodto, d.createdby, d.ispaymentcompleted,
                  SUM(dd.taxamount - dd.collectionamount)
             FROM egbs_demand_v1 d
             JOIN egbs_demanddetail_v1 dd ON dd.demandid = d.id AND dd.tenantid = d.tenantid
            WHERE d.tenantid = %s AND d.businessservice = %s AND d.status = 'ACTIVE' AND d.ispaymentcompleted = false
            GROUP BY d.id, d.consumercode, d.payer, d.taxperiodfrom, d.taxperiodto, d.createdby,
                     d.ispaymentcompleted""",
        ["pb.amritsar", "PT"],
    )
    assert demands == [
        (
            detail["demandId"],
            "PT-107-000777",
            digit.citizen["uuid"],
            1554076799000,
            1585679399000,
            digit.employee["uuid"],
            False,
            Decimal("1260.00"),
        )
    ]
    info = post(
        "/billing-service/demand/_search?tenantId=pb.amritsar&consumerCode=PT-107-000777&businessService=PT",
        {"RequestInfo": request_info(Digit.TOKENS["employee"])},
    ).json()["Demands"][0]
    [(created, modified)] = rows(
        "SELECT createdtime, lastmodifiedtime FROM egbs_demand_v1 WHERE id = %s", [detail["demandId"]]
    )
    assert (created, modified) == (info["auditDetails"]["createdTime"], info["auditDetails"]["lastModifiedTime"])


def test_the_views_refuse_writes(digit: Digit) -> None:
    pt_bill(digit)
    for statement in (
        "UPDATE egbs_demanddetail_v1 SET collectionamount = 1",
        "DELETE FROM egbs_bill_v1",
        "UPDATE egbs_demand_v1 SET status = 'CANCELLED'",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
