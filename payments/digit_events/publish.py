"""Publishing DIGIT's topics for what this service does itself, through the outbox (issue 14 point 7).

Registered in ``DigitEventsConfig.ready`` as handlers of the payment and bill hooks, so they run inside the
business transaction: a payment taken here (counter, gateway, import) is published on
``egov.collection.payment-create`` as DIGIT's collection-services publishes it (``{"RequestInfo", "Payment"}``, the
Payment as our ``/collection-services/payments`` face renders it), a reversal on ``egov.collection.payment-cancel``,
and a cancelled bill on ``bill-cancel-topic-name`` (``{"RequestInfo", "Bills"}``, as DIGIT's billing-service does).
The same events go to the signed webhooks of subscribers (``billing_project.events``). A rollback sends nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings

from billing_project.events import event_publish, events_wanted
from bills.api.digit_serializers import bill_json
from bills.selectors import bills_with_details
from payments.api.digit_serializers import payment_json
from payments.selectors import payments_with_details


def plain(value: Any) -> Any:
    """JSON values only (amounts as JSON numbers, as DIGIT's Jackson writes BigDecimal)."""

    def default(item: Any) -> Any:
        if isinstance(item, Decimal):
            return int(item) if item == item.to_integral_value() else float(item)
        if isinstance(item, uuid.UUID | dt.datetime):
            return str(item)
        raise TypeError(f"{type(item).__name__} is not JSON")

    return json.loads(json.dumps(value, default=default))


def _request_info(actor: str, at: dt.datetime) -> dict[str, Any]:
    return {"apiId": "billing-service", "ts": int(at.timestamp() * 1000), "userInfo": {"uuid": actor}}


def _payment_event(payment_id: uuid.UUID, actor: str, at: dt.datetime, *, event: str, topic: str) -> None:
    if not events_wanted():
        return
    payment = payments_with_details().get(pk=payment_id)
    event_publish(
        event=event,
        topic=topic,
        payload=plain({"RequestInfo": _request_info(actor, at), "Payment": payment_json(payment, now=at)}),
        key=str(payment.pk),
        tenant_code=payment.tenant.code,
        dedupe_key=f"payments.payment:{payment.pk}:{event}",
        subject=f"payment {payment.pk}",
    )


def payment_created(*, payment_id: uuid.UUID, actor: str, at: dt.datetime) -> None:
    _payment_event(payment_id, actor, at, event="payment.created", topic=settings.DIGIT_KAFKA_TOPIC_PAYMENT_CREATE)


def payment_reversed(*, payment_id: uuid.UUID, actor: str, at: dt.datetime) -> None:
    _payment_event(payment_id, actor, at, event="payment.cancelled", topic=settings.DIGIT_KAFKA_TOPIC_PAYMENT_CANCEL)


def bills_cancelled(*, bill_ids: Sequence[uuid.UUID], actor: str, at: dt.datetime) -> None:
    if not events_wanted():
        return
    bills = list(bills_with_details().filter(pk__in=list(bill_ids)).order_by("pk"))
    if not bills:
        return
    tenant = bills[0].tenant.code
    event_publish(
        event="bill.cancelled",
        topic=settings.DIGIT_KAFKA_TOPIC_BILL_CANCEL,
        payload=plain({"RequestInfo": _request_info(actor, at), "Bills": [bill_json(b, now=at) for b in bills]}),
        key=bills[0].consumer_code,
        tenant_code=tenant,
        dedupe_key=f"bills.bill:{','.join(str(b.pk) for b in bills)}:cancelled",
        subject=f"bill {bills[0].bill_number}",
    )
