from __future__ import annotations

from django.apps import AppConfig


class DigitEventsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payments.digit_events"
    label = "digit_events"
    verbose_name = "DIGIT payment messages (Kafka)"
