from django.apps import AppConfig


class AmendmentsConfig(AppConfig):
    name = "amendments"
