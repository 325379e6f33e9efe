"""Payment write-back from DIGIT's collection-services over Kafka (issue 14 points 6 and 8).

Against the real tansu broker (session fixture): messages are produced as collection-services publishes them
(``PaymentRequest`` on ``egov.collection.payment-create`` / ``-cancel``, also ``pb-…`` as a central instance names
them) and consumed by the real consumer (``PaymentConsumer``: confluent-kafka, manual commits). The bill a payment
pays was fetched from this service through the DIGIT face, as collection-services fetches it.
"""

from __future__ import annotations

import copy
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import OperationalError

from bills.models import Bill
from demands.models import DemandDetail
from payments.digit_events.consumer import PaymentConsumer
from payments.digit_events.domain.messages import MessageInvalid, parse_payment_message
from payments.digit_events.models import DigitPaymentEvent, EventStatus
from payments.digit_events.services import digit_payment_event_handle, digit_payment_event_retry
from payments.models import Payment, PaymentApplication, PaymentWriteBack
from tests.digit.conftest import Digit, post, request_info
from tests.digit.kafka import committed_offset, produce

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

PTAN2019 = (1554076799000, 1585679399000)
AT_MS = 1714557600000


def pt_bill(digit: Digit, consumer: str = "PT-107-000777") -> dict[str, Any]:
    info = request_info(Digit.TOKENS["employee"], user=digit.employee)
    demand = {
        "tenantId": "pb.amritsar",
        "consumerCode": consumer,
        "consumerType": "RESIDENTIAL",
        "businessService": "PT",
        "payer": {"uuid": digit.citizen["uuid"]},
        "taxPeriodFrom": PTAN2019[0],
        "taxPeriodTo": PTAN2019[1],
        "demandDetails": [
            {"taxHeadMasterCode": "PT_TAX", "taxAmount": 1200, "collectionAmount": 0},
            {"taxHeadMasterCode": "PT_FIRE_CESS", "taxAmount": 60, "collectionAmount": 0},
        ],
    }
    assert post("/billing-service/demand/_create", {"RequestInfo": info, "Demands": [demand]}).status_code == 201
    fetched = post(
        f"/billing-service/bill/v2/_fetchbill?tenantId=pb.amritsar&consumerCode={consumer}&businessService=PT",
        {"RequestInfo": info},
    )
    [bill] = fetched.json()["Bill"]
    return bill


def payment_message(
    bill: dict[str, Any],
    *,
    payment_id: str,
    adjusted: dict[str, int],
    status: str = "NEW",
    receipt: str = "PT/107/2024-25/000001",
    cashier: dict[str, Any] | None = None,
) -> bytes:
    """A PaymentRequest as DIGIT's collection-services publishes it (PaymentService.createPayment)."""
    paid = sum(adjusted.values())
    apportioned = copy.deepcopy(bill)
    for period in apportioned["billDetails"]:
        period["amountPaid"] = sum(adjusted.get(a["taxHeadCode"], 0) for a in period["billAccountDetails"])
        for line in period["billAccountDetails"]:
            line["adjustedAmount"] = adjusted.get(line["taxHeadCode"], 0)
    audit = {
        "createdBy": (cashier or {}).get("uuid", "cashier-uuid"),
        "createdTime": AT_MS,
        "lastModifiedBy": (cashier or {}).get("uuid", "cashier-uuid"),
        "lastModifiedTime": AT_MS,
    }
    message = {
        "RequestInfo": {"apiId": "Rainmaker", "msgId": "1714557600000|en_IN", "userInfo": cashier},
        "Payment": {
            "id": payment_id,
            "tenantId": "pb.amritsar",
            "totalDue": bill["totalAmount"],
            "totalAmountPaid": paid,
            "transactionNumber": f"TXN-{payment_id[:8]}",
            "transactionDate": AT_MS,
            "paymentMode": "CASH",
            "instrumentDate": AT_MS,
            "instrumentNumber": None,
            "instrumentStatus": "APPROVED",
            "ifscCode": None,
            "auditDetails": audit,
            "additionalDetails": None,
            "paymentDetails": [
                {
                    "id": str(uuid.uuid4()),
                    "paymentId": payment_id,
                    "tenantId": "pb.amritsar",
                    "totalDue": bill["totalAmount"],
                    "totalAmountPaid": paid,
                    "receiptNumber": receipt,
                    "manualReceiptNumber": None,
                    "manualReceiptDate": None,
                    "receiptDate": AT_MS,
                    "receiptType": "BILLBASED",
                    "businessService": "PT",
                    "billId": bill["id"],
                    "bill": apportioned,
                    "additionalDetails": None,
                    "auditDetails": audit,
                }
            ],
            "paidBy": "Asha Devi",
            "mobileNumber": "9876502708",
            "payerName": "Asha Devi",
            "payerAddress": None,
            "payerEmail": None,
            "payerId": None,
            "paymentStatus": status,
            "fileStoreId": None,
        },
    }
    return json.dumps(message).encode()


def collections(consumer: str = "PT-107-000777") -> dict[str, Decimal]:
    return dict(
        DemandDetail.objects.filter(demand__consumer_code=consumer).values_list("tax_head_code", "collection_amount")
    )


def consume(count: int, **kwargs: Any) -> Any:
    consumer = PaymentConsumer(poll_seconds=0.5, backoff=0.01, **kwargs)
    try:
        return consumer.run(max_messages=count, idle_seconds=60)
    finally:
        consumer.close()


def test_payment_create_is_applied_once_under_redelivery_and_replay(digit: Digit, kafka: dict[str, str]) -> None:
    bill = pt_bill(digit)
    pid = str(uuid.uuid4())
    message = payment_message(
        bill, payment_id=pid, adjusted={"PT_TAX": 1200, "PT_FIRE_CESS": 60}, cashier=digit.employee
    )
    produce(kafka["bootstrap"], kafka["create"], message, message)  # the second: a replay at the next offset
    # The consumer of an earlier run handled offset 0 and died before committing it: it is redelivered.
    from billing_project import clock

    first = digit_payment_event_handle(
        topic=kafka["create"], partition=0, offset=0, key=None, value=message, at=clock.now()
    )
    assert first.status == EventStatus.APPLIED
    report = consume(2)
    assert report.handled == 2
    assert report.by_status == {"APPLIED": 1, "DUPLICATE": 1}  # the redelivered offset 0, then the replay
    assert list(DigitPaymentEvent.objects.order_by("offset").values_list("offset", "status")) == [
        (0, "APPLIED"),
        (1, "DUPLICATE"),
    ]
    assert collections() == {"PT_TAX": Decimal("1200.00"), "PT_FIRE_CESS": Decimal("60.00")}
    payment = Payment.objects.get(pk=pid)
    assert (payment.created_by, payment.total_amount_paid, payment.status) == (
        digit.employee["uuid"],
        Decimal("1260.00"),
        "NEW",
    )
    assert [d.receipt_number for d in payment.details.all()] == ["PT/107/2024-25/000001"]
    assert PaymentWriteBack.objects.filter(payment=payment).count() == 1
    assert Bill.objects.get(pk=bill["id"]).status == "PAID"
    assert committed_offset(kafka["bootstrap"], kafka["group"], kafka["create"]) == 2


def test_payment_cancel_reverses_exactly_what_was_applied(digit: Digit, kafka: dict[str, str]) -> None:
    bill = pt_bill(digit)
    pid = str(uuid.uuid4())
    created = payment_message(bill, payment_id=pid, adjusted={"PT_TAX": 700}, cashier=digit.employee)
    cancelled = payment_message(bill, payment_id=pid, adjusted={"PT_TAX": 700}, status="CANCELLED")
    produce(kafka["bootstrap"], kafka["create"], created)
    produce(kafka["bootstrap"], kafka["cancel"], cancelled, cancelled)
    assert consume(3).handled == 3
    # The two topics give no order between them: a cancel read before its create waits (parked) and is applied
    # when the create is; either way the payment is applied once and reversed once.
    assert sorted(DigitPaymentEvent.objects.values_list("kind", "status")) == [
        ("PAYMENT_CANCEL", "APPLIED"),
        ("PAYMENT_CANCEL", "DUPLICATE"),
        ("PAYMENT_CREATE", "APPLIED"),
    ]
    assert collections() == {"PT_TAX": Decimal("0.00"), "PT_FIRE_CESS": Decimal("0.00")}
    payment = Payment.objects.get(pk=pid)
    assert (payment.status, payment.instrument_status, payment.cancel_reason) == (
        "CANCELLED",
        "CANCELLED",
        "CANCELLED by DIGIT collection-services",
    )
    assert Bill.objects.get(pk=bill["id"]).status == "CANCELLED"
    # the next fetch builds a new bill for the restored dues
    again = post(
        "/billing-service/bill/v2/_fetchbill?tenantId=pb.amritsar&consumerCode=PT-107-000777&businessService=PT",
        {"RequestInfo": request_info(Digit.TOKENS["employee"])},
    ).json()["Bill"]
    assert [(b["totalAmount"], b["status"]) for b in again] == [(1260, "ACTIVE")]


def test_state_prefixed_topics_are_consumed(digit: Digit, kafka: dict[str, str]) -> None:
    bill = pt_bill(digit)
    pid = str(uuid.uuid4())
    produce(kafka["bootstrap"], kafka["pb-create"], payment_message(bill, payment_id=pid, adjusted={"PT_TAX": 100}))
    assert consume(1).by_status == {"APPLIED": 1}
    assert collections()["PT_TAX"] == Decimal("100.00")
    assert DigitPaymentEvent.objects.get().topic == kafka["pb-create"]


def test_an_unappliable_message_is_parked_and_the_partition_moves_on(digit: Digit, kafka: dict[str, str]) -> None:
    bill = pt_bill(digit)
    good = payment_message(bill, payment_id=str(uuid.uuid4()), adjusted={"PT_FIRE_CESS": 60})
    unknown_bill = json.loads(payment_message(bill, payment_id=str(uuid.uuid4()), adjusted={"PT_TAX": 10}))
    unknown_bill["Payment"]["paymentDetails"][0]["billId"] = str(uuid.uuid4())
    produce(kafka["bootstrap"], kafka["create"], b"{not json", json.dumps(unknown_bill).encode(), good)
    report = consume(3)
    assert report.by_status == {"PARKED": 2, "APPLIED": 1}
    parked = list(
        DigitPaymentEvent.objects.filter(status=EventStatus.PARKED)
        .order_by("offset")
        .values_list("offset", "error_code")
    )
    assert parked == [(0, "DIGIT_MESSAGE_UNPARSEABLE"), (1, "DIGIT_BILL_NOT_FOUND")]
    assert DigitPaymentEvent.objects.get(offset=0).payload == "{not json"
    assert collections() == {"PT_TAX": Decimal("0.00"), "PT_FIRE_CESS": Decimal("60.00")}
    assert committed_offset(kafka["bootstrap"], kafka["group"], kafka["create"]) == 3


def test_offsets_are_committed_only_after_the_database_commit(digit: Digit, kafka: dict[str, str]) -> None:
    bill = pt_bill(digit)
    produce(
        kafka["bootstrap"], kafka["create"], payment_message(bill, payment_id=str(uuid.uuid4()), adjusted={"PT_TAX": 5})
    )
    calls: list[int] = []

    def database_down_once(**kwargs: Any) -> Any:
        calls.append(kwargs["offset"])
        if len(calls) == 1:
            raise OperationalError("connection to server was lost")
        return digit_payment_event_handle(**kwargs)

    report = consume(1, handle=database_down_once)
    assert (calls, report.retries, report.by_status) == ([0, 0], 1, {"APPLIED": 1})
    assert DigitPaymentEvent.objects.count() == 1
    assert collections()["PT_TAX"] == Decimal("5.00")
    assert committed_offset(kafka["bootstrap"], kafka["group"], kafka["create"]) == 1


def test_a_cancel_that_comes_before_its_create_waits_and_is_applied_after_it(digit: Digit) -> None:
    """Two topics give no order between them: the cancel is parked, then applied when the create arrives."""
    from billing_project import clock

    bill = pt_bill(digit)
    pid = str(uuid.uuid4())
    cancel = digit_payment_event_handle(
        topic="egov.collection.payment-cancel",
        partition=0,
        offset=7,
        key=None,
        value=payment_message(bill, payment_id=pid, adjusted={"PT_TAX": 300}, status="CANCELLED"),
        at=clock.now(),
    )
    assert (cancel.status, cancel.error_code) == ("PARKED", "DIGIT_PAYMENT_NOT_FOUND")
    create = digit_payment_event_handle(
        topic="egov.collection.payment-create",
        partition=0,
        offset=3,
        key=None,
        value=payment_message(bill, payment_id=pid, adjusted={"PT_TAX": 300}),
        at=clock.now(),
    )
    assert create.status == "APPLIED"
    cancel.refresh_from_db()
    assert (cancel.status, cancel.attempts) == ("APPLIED", 2)
    assert Payment.objects.get(pk=pid).status == "CANCELLED"
    assert collections()["PT_TAX"] == Decimal("0.00")


def test_a_payment_that_does_not_add_up_is_parked_and_writes_nothing(digit: Digit) -> None:
    from billing_project import clock

    bill = pt_bill(digit)
    message = json.loads(payment_message(bill, payment_id=str(uuid.uuid4()), adjusted={"PT_TAX": 900}))
    message["Payment"]["paymentDetails"][0]["totalAmountPaid"] = 1000
    event = digit_payment_event_handle(
        topic="egov.collection.payment-create",
        partition=0,
        offset=0,
        key=b"k",
        value=json.dumps(message).encode(),
        at=clock.now(),
    )
    assert (event.status, event.error_code) == ("PARKED", "DIGIT_APPORTION_INVALID")
    assert event.error_message == (
        "paymentDetails[0]: the apportioned amounts add up to 900.00, not totalAmountPaid 1000.00"
    )
    assert not Payment.objects.exists()
    assert not PaymentApplication.objects.exists()
    assert collections() == {"PT_TAX": Decimal("0.00"), "PT_FIRE_CESS": Decimal("0.00")}
    assert Bill.objects.get(pk=bill["id"]).status == "ACTIVE"
    # staff fix nothing and retry: still parked, one more attempt
    again = digit_payment_event_retry(event_id=event.pk, at=clock.now())
    assert (again.status, again.attempts) == ("PARKED", 2)


def test_a_remittance_on_the_cancel_topic_touches_no_demand(digit: Digit) -> None:
    from billing_project import clock

    bill = pt_bill(digit)
    pid = str(uuid.uuid4())
    for offset, (topic, status) in enumerate(
        [("egov.collection.payment-create", "NEW"), ("egov.collection.payment-cancel", "DEPOSITED")]
    ):
        digit_payment_event_handle(
            topic=topic,
            partition=0,
            offset=offset,
            key=None,
            at=clock.now(),
            value=payment_message(bill, payment_id=pid, adjusted={"PT_TAX": 1200}, status=status),
        )
    payment = Payment.objects.get(pk=pid)
    assert (payment.status, payment.instrument_status) == ("DEPOSITED", "REMITTED")
    assert collections()["PT_TAX"] == Decimal("1200.00")


@pytest.mark.parametrize(
    ("raw", "code", "text"),
    [
        (b"\xff\xfe", "DIGIT_MESSAGE_UNPARSEABLE", "not JSON"),
        (b"[]", "DIGIT_MESSAGE_INVALID", "the message must be a JSON object"),
        (b'{"Payment": {"id": "x"}}', "DIGIT_MESSAGE_INVALID", "Payment.paymentDetails must be a non-empty list"),
        (
            b'{"Payment": {"id": "P-1", "paymentDetails": [{}]}}',
            "DIGIT_MESSAGE_NOT_OURS",
            "Payment.id 'P-1' is not a UUID",
        ),
    ],
)
def test_the_message_parser_names_what_is_wrong(raw: bytes, code: str, text: str) -> None:
    with pytest.raises(MessageInvalid) as caught:
        parse_payment_message(raw)
    assert caught.value.code == code
    assert text in str(caught.value)


def test_staff_see_parked_messages_and_retry_them_from_the_admin(digit: Digit, user_factory: Any) -> None:
    from django.test import Client

    from billing_project import clock

    bill = pt_bill(digit)
    message = json.loads(payment_message(bill, payment_id=str(uuid.uuid4()), adjusted={"PT_TAX": 900}))
    message["Payment"]["paymentDetails"][0]["totalAmountPaid"] = 1000
    event = digit_payment_event_handle(
        topic="egov.collection.payment-create",
        partition=0,
        offset=9,
        key=None,
        value=json.dumps(message).encode(),
        at=clock.now(),
    )
    admin = user_factory("ops", superuser=True)
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/digit_events/digitpaymentevent/?status__exact=PARKED")
    assert listing.status_code == 200
    assert b"DIGIT_APPORTION_INVALID" in listing.content
    response = client.post(
        "/admin/digit_events/digitpaymentevent/",
        {"action": "retry_parked", "_selected_action": [event.pk]},
        follow=True,
    )
    assert response.status_code == 200
    texts = [str(m) for m in response.context["messages"]]
    assert texts == [
        f"{event}: still parked: DIGIT_APPORTION_INVALID: paymentDetails[0]: the apportioned amounts add up to "
        "900.00, not totalAmountPaid 1000.00"
    ]
    event.refresh_from_db()
    assert event.attempts == 2
