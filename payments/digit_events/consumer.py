"""The Kafka loop: poll a message, handle it in its own transaction, then commit its offset.

The offset of a message is committed (synchronously) only after ``digit_payment_event_handle`` has committed the
database transaction that recorded it, so a crash between the two redelivers the message, whose event row then
makes the redelivery a no-op. When the database cannot be reached the message is not committed: the consumer seeks
back to it and tries again after a pause (growing to ``max_backoff``), so no message is skipped. Parked messages are
committed like applied ones — a bad message never blocks its partition.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connections

from billing_project import clock
from payments.digit_events.services import digit_payment_event_handle, subscribed_topics

logger = logging.getLogger(__name__)


def consumer_config(*, group: str | None = None) -> dict[str, Any]:
    """librdkafka settings: manual commits, start from the earliest offset of a new group, plus the configured ones."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.DIGIT_KAFKA_BOOTSTRAP_SERVERS,
        "group.id": group or settings.DIGIT_KAFKA_CONSUMER_GROUP,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
    }
    config.update(settings.DIGIT_KAFKA_CONSUMER_CONFIG or {})
    return config


@dataclass
class ConsumeReport:
    handled: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    retries: int = 0


def _drop_broken_connections() -> None:
    """Close database connections that no longer work, so the next attempt reconnects."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.is_usable():
            connection.close()


class PaymentConsumer:
    """Consumes DIGIT's payment topics into ``digit_payment_event_handle``."""

    def __init__(
        self,
        consumer: Any = None,
        *,
        topics: list[str] | None = None,
        group: str | None = None,
        handle: Callable[..., Any] = digit_payment_event_handle,
        poll_seconds: float = 1.0,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
    ) -> None:
        if consumer is None:
            from confluent_kafka import Consumer

            consumer = Consumer(consumer_config(group=group))
        self.consumer = consumer
        self.topics = topics or subscribed_topics()
        self.handle = handle
        self.poll_seconds = poll_seconds
        self.backoff = backoff
        self.max_backoff = max_backoff

    def run(
        self,
        *,
        stop: threading.Event | None = None,
        max_messages: int | None = None,
        idle_seconds: float | None = None,
    ) -> ConsumeReport:
        """Consume until ``stop`` is set, ``max_messages`` were handled, or nothing came for ``idle_seconds``."""
        from confluent_kafka import KafkaError, TopicPartition

        report = ConsumeReport()
        self.consumer.subscribe(self.topics)
        idle_since = time.monotonic()
        delay = self.backoff
        while not (stop is not None and stop.is_set()):
            if max_messages is not None and report.handled >= max_messages:
                break
            message = self.consumer.poll(self.poll_seconds)
            if message is None:
                if idle_seconds is not None and time.monotonic() - idle_since > idle_seconds:
                    break
                continue
            if message.error():
                if message.error().code() != KafkaError._PARTITION_EOF:
                    logger.warning("Kafka: %s", message.error())
                continue
            idle_since = time.monotonic()
            try:
                event = self.handle(
                    topic=message.topic(),
                    partition=message.partition(),
                    offset=message.offset(),
                    key=message.key(),
                    value=message.value(),
                    at=clock.now(),
                )
            except Exception:
                # Not recorded (the database is down, or a bug): nothing is committed; read it again after a pause.
                logger.exception(
                    "DIGIT payment message %s[%s]@%s not handled; retrying",
                    message.topic(),
                    message.partition(),
                    message.offset(),
                )
                report.retries += 1
                _drop_broken_connections()
                self.consumer.seek(TopicPartition(message.topic(), message.partition(), message.offset()))
                if stop is not None:
                    stop.wait(delay)
                else:
                    time.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
                continue
            delay = self.backoff
            self.consumer.commit(message=message, asynchronous=False)
            report.handled += 1
            status = str(getattr(event, "status", ""))
            report.by_status[status] = report.by_status.get(status, 0) + 1
        return report

    def close(self) -> None:
        self.consumer.close()
