"""Business events leaving the service: on Kafka (DIGIT's topics) and as signed webhooks, through the outbox.

``event_publish`` runs inside the business transaction of the change it reports: it enqueues one ``kafka``
message on ``topic`` when Kafka publishing is on (``DIGIT_KAFKA_PUBLISH``; with ``DIGIT_KAFKA_CENTRAL_INSTANCE``
the topic is prefixed with the tenant's state, ``pb-<topic>``, as DIGIT's central instance names them) and one
``webhook`` message per active ``WebhookSubscription`` that wants the event. Nothing is sent for a change that is
rolled back; everything committed is delivered at least once (``dedupe_key`` keeps one message per event and
receiver even when the caller publishes twice).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from billing_project.outbox import outbox_enqueue


def state_topic(topic: str, tenant_code: str) -> str:
    """DIGIT's central-instance topic name (``<state>-<topic>``) when that naming is on, else ``topic``."""
    if settings.DIGIT_KAFKA_CENTRAL_INSTANCE and tenant_code:
        return f"{tenant_code.split('.', 1)[0]}-{topic}"
    return topic


def events_wanted() -> bool:
    """Is anything listening? Kafka publishing on, or webhooks on (``WEBHOOKS_ENABLED``). No query: a deployment
    without either pays nothing per payment."""
    return bool(settings.DIGIT_KAFKA_PUBLISH or settings.WEBHOOKS_ENABLED)


def event_publish(
    *, event: str, topic: str, payload: Any, key: str, tenant_code: str, dedupe_key: str, subject: str = ""
) -> None:
    """Enqueue the event for Kafka (when on) and for each webhook subscriber; inside the caller's transaction."""
    from billing_project.models import WebhookSubscription

    if settings.DIGIT_KAFKA_PUBLISH:
        outbox_enqueue(
            channel="kafka",
            destination=state_topic(topic, tenant_code),
            payload=payload,
            headers={"key": key, "event": event},
            dedupe_key=f"{dedupe_key}:kafka",
            tenant_code=tenant_code,
            subject=subject or event,
        )
    if not settings.WEBHOOKS_ENABLED:
        return
    for subscription in WebhookSubscription.objects.filter(active=True).order_by("pk"):
        if subscription.wants(event, tenant_code):
            outbox_enqueue(
                channel="webhook",
                destination=subscription.url,
                payload={"event": event, "data": payload},
                headers={"secret_ref": subscription.pk, "event": event},
                dedupe_key=f"{dedupe_key}:webhook:{subscription.pk}",
                tenant_code=tenant_code,
                subject=subject or event,
                recipient=subscription.name,
            )
