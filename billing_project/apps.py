from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class KernelConfig(AppConfig):
    """The shared kernel as an app, for the few rows it keeps itself (idempotency keys)."""

    name = "billing_project"
    label = "kernel"
    verbose_name = "Kernel"


class BackOfficeAdminConfig(AdminConfig):
    """``django.contrib.admin`` with the back-office site (``billing_project.admin_site``) as ``admin.site``."""

    default_site = "billing_project.admin_site.BillingAdminSite"
