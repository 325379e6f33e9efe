from __future__ import annotations

from django.apps import AppConfig


class GatewayConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payments.gateway"
    label = "gateway"
    verbose_name = "Online payments through a payment gateway"
