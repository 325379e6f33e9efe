from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class KernelConfig(AppConfig):
    """The shared kernel as an app, for the rows it keeps itself (idempotency keys, the outbox)."""

    name = "billing_project"
    label = "kernel"
    verbose_name = "Kernel"

    def ready(self) -> None:
        from billing_project.outbox import admin as outbox_admin  # noqa: F401 - registers the outbox admin page
        from billing_project.outbox.celery_channel import CELERY_CHANNEL
        from billing_project.outbox.channels import channel_register
        from billing_project.outbox.http_channels import HTTP_CHANNEL, WEBHOOK_CHANNEL
        from billing_project.outbox.kafka_channel import KAFKA_CHANNEL

        for channel in (CELERY_CHANNEL, KAFKA_CHANNEL, WEBHOOK_CHANNEL, HTTP_CHANNEL):
            channel_register(channel)


class BackOfficeAdminConfig(AdminConfig):
    """``django.contrib.admin`` with the back-office site (``billing_project.admin_site``) as ``admin.site``."""

    default_site = "billing_project.admin_site.BillingAdminSite"
