from __future__ import annotations

from django.apps import AppConfig


class PaymentImportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payments.imports"
    label = "payment_imports"
    verbose_name = "Batch imports: gateway/bank settlements and offline collections"
