"""Outbound events through the transactional outbox (issue 14 points 7 and 9).

- Payments this service takes (its ``/collection-services/`` face) are published on DIGIT's
  ``egov.collection.payment-create`` / ``-cancel`` in DIGIT's ``PaymentRequest`` shape, a cancelled bill on
  ``bill-cancel-topic-name``; against the real tansu broker, including a broker outage.
- The same events reach signed webhooks (HMAC-SHA256 of ``timestamp.body``), retried with backoff.
- Amendment transitions are mirrored to a local egov-workflow-v2 in order.
The relay is run by the test (outbox_relay), as the beat sweep or the kick after commit would run it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest

from billing_project import clock
from billing_project.models import WebhookSubscription
from billing_project.outbox import OutboxMessage, OutboxStatus
from billing_project.outbox.relay import outbox_relay
from payments.digit_events.models import EventStatus
from payments.digit_events.services import digit_payment_event_handle
from tests.digit.conftest import Digit, post, request_info
from tests.digit.egov_user import closed_port_url
from tests.digit.kafka import create_topics, read_all
from tests.digit.receivers import Receiver
from tests.digit.test_kafka_writeback import collections, pt_bill

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def pay(digit: Digit, bill: dict[str, Any], amount: int) -> dict[str, Any]:
    body = {
        "RequestInfo": request_info(Digit.TOKENS["employee"], user=digit.employee),
        "Payment": {
            "tenantId": "pb.amritsar",
            "totalDue": bill["totalAmount"],
            "totalAmountPaid": amount,
            "paymentMode": "CASH",
            "paidBy": "OWNER",
            "mobileNumber": "9876502708",
            "payerName": "Asha Devi",
            "paymentDetails": [
                {
                    "billId": bill["id"],
                    "businessService": "PT",
                    "totalDue": bill["totalAmount"],
                    "totalAmountPaid": amount,
                }
            ],
        },
    }
    response = post("/collection-services/payments/_create", body)
    assert response.status_code == 200, response.json()
    [payment] = response.json()["Payments"]
    return payment


@pytest.fixture
def publishing(settings: Any, kafka: dict[str, str]) -> Iterator[dict[str, str]]:
    settings.DIGIT_KAFKA_PUBLISH = True
    settings.OUTBOX_KAFKA_BOOTSTRAP_SERVERS = kafka["bootstrap"]
    settings.OUTBOX_KAFKA_TIMEOUT_SECONDS = 5.0
    settings.DIGIT_KAFKA_TOPIC_BILL_CANCEL = f"bill-cancel-topic-name.{kafka['group']}"
    create_topics(kafka["bootstrap"], [settings.DIGIT_KAFKA_TOPIC_BILL_CANCEL])
    yield {**kafka, "bill-cancel": settings.DIGIT_KAFKA_TOPIC_BILL_CANCEL}
    from billing_project.outbox.kafka_channel import producers_close

    producers_close()  # a producer left pointing at a closed port would keep reconnecting


def relay() -> Any:
    return outbox_relay(max_messages=50, time_budget_seconds=60)


def test_a_payment_taken_here_is_published_as_collection_services_publishes_it(
    digit: Digit, publishing: dict[str, str]
) -> None:
    bill = pt_bill(digit)
    payment = pay(digit, bill, 1260)
    [message] = OutboxMessage.objects.filter(channel="kafka")
    assert (message.destination, message.status, message.headers["key"]) == (
        publishing["create"],
        OutboxStatus.PENDING,
        payment["id"],
    )
    assert relay().delivered == 1
    [(key, value)] = read_all(publishing["bootstrap"], publishing["create"], expect=1)
    assert key == payment["id"].encode()
    sent = json.loads(value)
    assert sent["RequestInfo"]["userInfo"] == {"uuid": digit.employee["uuid"]}
    published = sent["Payment"]
    # what DIGIT's billing-service consumer and the module consumers read
    assert (published["id"], published["tenantId"], published["totalAmountPaid"], published["paymentStatus"]) == (
        payment["id"],
        "pb.amritsar",
        1260,
        "NEW",
    )
    [detail] = published["paymentDetails"]
    assert (detail["billId"], detail["businessService"], detail["receiptNumber"]) == (
        bill["id"],
        "PT",
        payment["paymentDetails"][0]["receiptNumber"],
    )
    lines = {a["taxHeadCode"]: a["adjustedAmount"] for a in detail["bill"]["billDetails"][0]["billAccountDetails"]}
    assert lines == {"PT_TAX": 1200, "PT_FIRE_CESS": 60}
    assert detail["bill"]["consumerCode"] == "PT-107-000777"
    assert published["auditDetails"]["createdBy"] == digit.employee["uuid"]
    # our own consumer, reading our message back, changes nothing: the payment is known
    event = digit_payment_event_handle(
        topic=publishing["create"], partition=0, offset=0, key=key, value=value, at=clock.now()
    )
    assert event.status == EventStatus.DUPLICATE
    assert collections() == {"PT_TAX": 1200, "PT_FIRE_CESS": 60}


def test_a_reversal_and_a_bill_cancellation_are_published(digit: Digit, publishing: dict[str, str]) -> None:
    bill = pt_bill(digit)
    payment = pay(digit, bill, 1260)
    workflow = {
        "RequestInfo": request_info(Digit.TOKENS["employee"]),
        "PaymentWorkflows": [
            {"paymentId": payment["id"], "action": "CANCEL", "tenantId": "pb.amritsar", "reason": "Wrong consumer"}
        ],
    }
    assert post("/collection-services/payments/PT/_workflow", workflow).status_code == 200
    fresh = post(
        "/billing-service/bill/v2/_fetchbill?tenantId=pb.amritsar&consumerCode=PT-107-000777&businessService=PT",
        {"RequestInfo": request_info(Digit.TOKENS["employee"])},
    ).json()["Bill"][0]
    cancel = {
        "RequestInfo": request_info(Digit.TOKENS["employee"]),
        "UpdateBillCriteria": {
            "tenantId": "pb.amritsar",
            "consumerCodes": ["PT-107-000777"],
            "businessService": "PT",
            "additionalDetails": {"reason": "WRONG_DEMAND", "reasonMessage": "Raised on the wrong property"},
        },
    }
    assert post("/billing-service/bill/v2/_cancelbill", cancel).status_code == 200
    assert relay().delivered == 3
    [(_, cancelled)] = read_all(publishing["bootstrap"], publishing["cancel"], expect=1)
    reversed_payment = json.loads(cancelled)["Payment"]
    assert (reversed_payment["id"], reversed_payment["paymentStatus"], reversed_payment["instrumentStatus"]) == (
        payment["id"],
        "CANCELLED",
        "CANCELLED",
    )
    [(key, bills)] = read_all(publishing["bootstrap"], publishing["bill-cancel"], expect=1)
    assert key == b"PT-107-000777"
    [sent_bill] = json.loads(bills)["Bills"]
    assert (sent_bill["id"], sent_bill["status"], sent_bill["consumerCode"]) == (
        fresh["id"],
        "CANCELLED",
        "PT-107-000777",
    )
    assert sent_bill["additionalDetails"]["reason"] == "WRONG_DEMAND"


def test_nothing_is_published_for_a_refused_payment(digit: Digit, publishing: dict[str, str]) -> None:
    bill = pt_bill(digit)
    body = {
        "RequestInfo": request_info(Digit.TOKENS["employee"]),
        "Payment": {
            "tenantId": "pb.amritsar",
            "totalDue": 1260,
            "totalAmountPaid": 99999,
            "paymentMode": "CASH",
            "paymentDetails": [
                {"billId": bill["id"], "businessService": "PT", "totalDue": 1260, "totalAmountPaid": 99999}
            ],
        },
    }
    assert post("/collection-services/payments/_create", body).status_code == 400
    assert not OutboxMessage.objects.exists()


def test_the_outbox_survives_a_broker_outage(digit: Digit, publishing: dict[str, str], settings: Any) -> None:
    settings.OUTBOX_KAFKA_BOOTSTRAP_SERVERS = closed_port_url().removeprefix("http://")
    settings.OUTBOX_KAFKA_TIMEOUT_SECONDS = 1.0
    bill = pt_bill(digit)
    payment = pay(digit, bill, 100)
    report = relay()
    assert (report.delivered, report.retrying) == (0, 1)
    message = OutboxMessage.objects.get(channel="kafka")
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert message.last_error == (
        'transient: Kafka: KafkaError{code=_MSG_TIMED_OUT,val=-192,str="Local: Message timed out"}'
    )
    # the broker is back; the message's next attempt is due
    settings.OUTBOX_KAFKA_BOOTSTRAP_SERVERS = publishing["bootstrap"]
    settings.OUTBOX_KAFKA_TIMEOUT_SECONDS = 5.0
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=clock.now() - dt.timedelta(seconds=1))
    assert relay().delivered == 1
    [(key, _)] = read_all(publishing["bootstrap"], publishing["create"], expect=1)
    assert key == payment["id"].encode()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.DELIVERED, 2)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def test_events_reach_signed_webhooks_with_retries(digit: Digit, settings: Any, receiver: Receiver) -> None:
    settings.WEBHOOKS_ENABLED = True
    WebhookSubscription.objects.create(
        name="erp", url=receiver.url + "/hooks/billing", secret="s3cret-erp", events=["payment.created"]
    )
    WebhookSubscription.objects.create(name="other-state", url=receiver.url + "/x", secret="x", tenant_codes=["hp"])
    receiver.answers = [503]
    bill = pt_bill(digit)
    payment = pay(digit, bill, 1260)
    [message] = OutboxMessage.objects.filter(channel="webhook")
    assert (message.recipient, message.destination) == ("erp", receiver.url + "/hooks/billing")
    assert relay().retrying == 1
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=clock.now() - dt.timedelta(seconds=1))
    assert relay().delivered == 1
    first, second = receiver.received
    assert first["headers"]["X-Billing-Delivery"] == second["headers"]["X-Billing-Delivery"] == str(message.pk)
    headers, raw = second["headers"], second["raw"]
    assert headers["X-Billing-Event"] == "payment.created"
    expected = hmac.new(b"s3cret-erp", headers["X-Billing-Timestamp"].encode() + b"." + raw, hashlib.sha256)
    assert headers["X-Billing-Signature"] == "sha256=" + expected.hexdigest()
    body = json.loads(raw)
    assert (body["event"], body["data"]["Payment"]["id"]) == ("payment.created", payment["id"])


WC2021 = (1617215400000, 1648771199999)


def test_amendment_transitions_are_mirrored_to_egov_workflow_in_order(
    digit: Digit, settings: Any, receiver: Receiver
) -> None:
    settings.DIGIT_WORKFLOW_URL = receiver.url
    approver = "tok-approver-0001"
    from tests.digit.egov_user import digit_user

    approver_user = digit.egov.add(
        approver,
        digit_user(
            user_name="WS-APPROVER",
            name="Approver",
            mobile="9888800009",
            user_type="EMPLOYEE",
            roles=[("WS_APPROVER", "pb.amritsar"), ("EMPLOYEE", "pb.amritsar")],
            tenant="pb.amritsar",
        ),
    )
    employee_info = request_info(Digit.TOKENS["employee"], user=digit.employee)
    connection = "WS/107/2021-22/000046"
    demand = {
        "tenantId": "pb.amritsar",
        "consumerCode": connection,
        "consumerType": "waterConnection",
        "businessService": "WS",
        "payer": {"uuid": digit.citizen["uuid"]},
        "taxPeriodFrom": WC2021[0],
        "taxPeriodTo": WC2021[1],
        "demandDetails": [{"taxHeadMasterCode": "WS_CHARGE", "taxAmount": 500, "collectionAmount": 0}],
    }
    assert (
        post("/billing-service/demand/_create", {"RequestInfo": employee_info, "Demands": [demand]}).status_code == 201
    )
    created = post(
        "/billing-service/amendment/_create",
        {
            "RequestInfo": employee_info,
            "Amendment": {
                "tenantId": "pb.amritsar",
                "consumerCode": connection,
                "businessService": "WS",
                "amendmentReason": "COURT_CASE_SETTLEMENT",
                "reasonDocumentNumber": "CC-12",
                "effectiveFrom": 1652227200000,
                "effectiveTill": 1652313600000,
                "documents": [{"documentType": "COURTORDER", "fileStoreId": "fs-1"}],
                "demandDetails": [{"taxHeadMasterCode": "WS_CHARGE", "taxAmount": -100}],
            },
        },
    )
    assert created.status_code == 201, created.json()
    amendment_id = created.json()["Amendments"][0]["amendmentId"]

    def update(token: str, action: str) -> Any:
        body = {
            "RequestInfo": request_info(token),
            "AmendmentUpdate": {
                "amendmentId": amendment_id,
                "tenantId": "pb.amritsar",
                "amendmentReason": "COURT_CASE_SETTLEMENT",
                "workflow": {
                    "businessId": amendment_id,
                    "action": action,
                    "tenantId": "pb.amritsar",
                    "businessService": "WS.AMENDMENT",
                    "moduleName": "WS",
                    "comment": action.lower(),
                },
            },
        }
        response = post("/billing-service/amendment/_update", body)
        assert response.status_code == 200, response.json()
        return response.json()["Amendments"][0]

    update(approver, "SEND_BACK")
    resubmitted = update(Digit.TOKENS["employee"], "RE-SUBMIT")
    assert resubmitted["workflow"]["action"] == "RE-SUBMIT"  # the name the request used
    # egov-workflow-v2 is down for the first attempt: nothing after OPEN may overtake it
    receiver.answers = [503]
    report = relay()
    assert len(receiver.received) == 1
    assert report.delivered == 0
    OutboxMessage.objects.update(next_attempt_at=clock.now() - dt.timedelta(seconds=1))
    for _ in range(3):  # each transition waits for the previous one to be delivered
        relay()
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING).update(
            next_attempt_at=clock.now() - dt.timedelta(seconds=1)
        )
    delivered = [json.loads(r["raw"]) for r in receiver.received[1:]]
    assert [d["ProcessInstances"][0]["action"] for d in delivered] == ["OPEN", "SEND_BACK", "RE-SUBMIT"]
    first = delivered[0]["ProcessInstances"][0]
    assert {k: first[k] for k in ("tenantId", "businessService", "businessId", "moduleName")} == {
        "tenantId": "pb.amritsar",
        "businessService": "WS.AMENDMENT",
        "businessId": amendment_id,
        "moduleName": "WS",
    }
    assert first["documents"] == [{"documentType": "COURTORDER", "fileStoreId": "fs-1", "documentUid": ""}]
    assert receiver.received[1]["path"] == "/egov-wf/process/_transition"
    sent_back_by = delivered[1]["RequestInfo"]["userInfo"]
    assert sent_back_by["uuid"] == approver_user["uuid"]
    assert {"code": "WS_APPROVER", "tenantId": "pb.amritsar"} in sent_back_by["roles"]
    assert OutboxMessage.objects.filter(status=OutboxStatus.DELIVERED).count() == 3
