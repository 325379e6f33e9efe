from __future__ import annotations

from django.apps import AppConfig


class PaymentMethodsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payments.methods"
    label = "payment_methods"
    verbose_name = "Payers' saved payment methods and automatic payment"
