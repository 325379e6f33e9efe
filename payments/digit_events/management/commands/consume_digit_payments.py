"""``manage.py consume_digit_payments``: apply DIGIT collection-services' payments from Kafka (runs until stopped)."""

from __future__ import annotations

import signal
import threading
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payments.digit_events.consumer import PaymentConsumer


class Command(BaseCommand):
    help = "Consume egov.collection.payment-create/-cancel (and state-prefixed topics) and write the payments back."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--group", help="Consumer group (default DIGIT_KAFKA_CONSUMER_GROUP)")
        parser.add_argument("--max-messages", type=int, help="Stop after this many messages")
        parser.add_argument("--idle-timeout", type=float, help="Stop when nothing came for this many seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DIGIT_KAFKA_BOOTSTRAP_SERVERS:
            raise CommandError("DIGIT_KAFKA_BOOTSTRAP_SERVERS is not set: Kafka is off")
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        consumer = PaymentConsumer(group=options.get("group"))
        self.stdout.write(f"Consuming {', '.join(consumer.topics)}")
        try:
            report = consumer.run(
                stop=stop, max_messages=options.get("max_messages"), idle_seconds=options.get("idle_timeout")
            )
        finally:
            consumer.close()
        counts = ", ".join(f"{status} {count}" for status, count in sorted(report.by_status.items()))
        self.stdout.write(f"Handled {report.handled} message(s){': ' + counts if counts else ''}")
