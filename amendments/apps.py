from django.apps import AppConfig


class AmendmentsConfig(AppConfig):
    name = "amendments"

    def ready(self) -> None:
        # The one place where amendments react to new demands (see demands/services/hooks.py).
        from amendments.services import amendments_absorb
        from demands.services import demand_created_handler_register

        demand_created_handler_register(amendments_absorb)

        # Transitions mirrored to DIGIT's egov-workflow-v2 through the outbox (amendments/services/mirror.py).
        from amendments.services import WORKFLOW_CHANNEL
        from billing_project.outbox import channel_register

        channel_register(WORKFLOW_CHANNEL)
