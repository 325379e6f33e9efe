from django.apps import AppConfig


class KernelConfig(AppConfig):
    """The shared kernel as an app, for the few rows it keeps itself (idempotency keys)."""

    name = "billing_project"
    label = "kernel"
    verbose_name = "Kernel"
