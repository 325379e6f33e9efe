from django.apps import AppConfig


class AmendmentsConfig(AppConfig):
    name = "amendments"

    def ready(self) -> None:
        # The one place where amendments react to new demands (see demands/services/hooks.py).
        from amendments.services import amendments_absorb
        from demands.services import demand_created_handler_register

        demand_created_handler_register(amendments_absorb)
