from __future__ import annotations

from django.apps import AppConfig


class DigitEventsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payments.digit_events"
    label = "digit_events"
    verbose_name = "DIGIT payment messages (Kafka)"

    def ready(self) -> None:
        from bills.services import on_bills_cancelled
        from payments.digit_events import publish
        from payments.services import on_payment_recorded, on_payment_reversed

        on_payment_recorded(publish.payment_created)
        on_payment_reversed(publish.payment_reversed)
        on_bills_cancelled(publish.bills_cancelled)
