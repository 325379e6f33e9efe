from django.apps import AppConfig


class MastersConfig(AppConfig):
    name = "masters"
    verbose_name = "Master data, tenants and access"

    def ready(self) -> None:
        from billing_project.admin import tenant_scope_register
        from masters.access import admin_tenant_scope

        # The kernel's admin pages keyed by a tenant code (the outbox) show staff the tenants they reach.
        tenant_scope_register(admin_tenant_scope)

        # A DIGIT role table that cannot be used stops the service at start, not at the first DIGIT request.
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        from masters.digit.roles import RoleMapError, role_table

        try:
            role_table(settings.DIGIT_ROLE_MAP)
        except RoleMapError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
