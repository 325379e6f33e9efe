"""The ``kafka`` channel: publish a message on a Kafka topic (DIGIT's event topics, for instance).

``destination`` is the topic, ``payload`` the JSON value, ``headers["key"]`` the message key (default: the outbox
message id, which is also sent as the ``outbox_id`` record header so that consumers can drop a repeat). One
producer per process (librdkafka, ``acks=all``, idempotent), built from ``OUTBOX_KAFKA_CONFIG`` with
``OUTBOX_KAFKA_BOOTSTRAP_SERVERS``. An attempt waits for the broker's acknowledgement for at most
``OUTBOX_KAFKA_TIMEOUT_SECONDS``; no acknowledgement is a transient failure (the broker is down): the relay retries
with backoff, so a message survives a broker outage and is published once the broker is back (at least once).
Not ``inline``: a slow broker never holds up the request that caused the message.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from django.conf import settings

from billing_project.outbox.channels import Channel, Delivery
from billing_project.outbox.errors import PermanentDeliveryError, TransientDeliveryError

NAME = "kafka"
_lock = threading.Lock()
_producers: dict[tuple[str, str], Any] = {}


def _producer() -> Any:
    from confluent_kafka import Producer

    servers = settings.OUTBOX_KAFKA_BOOTSTRAP_SERVERS
    if not servers:
        raise PermanentDeliveryError("OUTBOX_KAFKA_BOOTSTRAP_SERVERS is not set: Kafka publishing is off")
    timeout_ms = int(float(settings.OUTBOX_KAFKA_TIMEOUT_SECONDS) * 1000)
    config: dict[str, Any] = {
        "bootstrap.servers": servers,
        "acks": "all",
        "enable.idempotence": True,
        "message.timeout.ms": timeout_ms,
        "socket.timeout.ms": max(timeout_ms, 1000),
    }
    config.update(settings.OUTBOX_KAFKA_CONFIG or {})
    key = (servers, json.dumps(config, sort_keys=True, default=str))
    with _lock:
        if key not in _producers:
            _producers[key] = Producer(config)
        return _producers[key]


def producers_close() -> None:
    """Flush briefly and drop the cached producers (tests; a process that changes brokers)."""
    with _lock:
        producers = list(_producers.values())
        _producers.clear()
    for producer in producers:
        producer.flush(1)


def deliver_kafka(delivery: Delivery) -> None:
    producer = _producer()
    outcome: dict[str, Any] = {}

    def acknowledged(error: Any, _message: Any) -> None:
        outcome["error"] = error

    value = json.dumps(delivery.payload, separators=(",", ":")).encode()
    key = str(delivery.headers.get("key") or delivery.id).encode()
    try:
        producer.produce(
            delivery.destination,
            value=value,
            key=key,
            headers=[("outbox_id", str(delivery.id).encode())],
            on_delivery=acknowledged,
        )
    except BufferError as exc:
        raise TransientDeliveryError(f"the producer queue is full: {exc}") from exc
    except Exception as exc:  # confluent_kafka.KafkaException: an unknown topic name, a value too large...
        raise PermanentDeliveryError(f"Kafka refused the message: {exc}") from exc
    producer.flush(float(settings.OUTBOX_KAFKA_TIMEOUT_SECONDS) + 1)
    if "error" not in outcome:
        raise TransientDeliveryError(f"no acknowledgement from Kafka within {settings.OUTBOX_KAFKA_TIMEOUT_SECONDS} s")
    if outcome["error"] is not None:
        raise TransientDeliveryError(f"Kafka: {outcome['error']}")


KAFKA_CHANNEL = Channel(
    name=NAME, deliver=deliver_kafka, max_attempts=50, backoff_base_seconds=10.0, backoff_cap_seconds=900.0
)
