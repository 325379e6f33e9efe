from django.apps import AppConfig


class KernelConfig(AppConfig):
    """The shared kernel as an app, for the rows it keeps itself (idempotency keys, the outbox)."""

    name = "billing_project"
    label = "kernel"
    verbose_name = "Kernel"

    def ready(self) -> None:
        from billing_project.outbox import admin as outbox_admin  # noqa: F401 - registers the outbox admin page
        from billing_project.outbox.celery_channel import CELERY_CHANNEL
        from billing_project.outbox.channels import channel_register

        channel_register(CELERY_CHANNEL)
