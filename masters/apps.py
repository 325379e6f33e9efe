from django.apps import AppConfig


class MastersConfig(AppConfig):
    name = "masters"
    verbose_name = "Master data, tenants and access"
