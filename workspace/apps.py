from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "workspace"
    verbose_name = _("Workspace")

    def ready(self) -> None:
        from messaging import hooks
        from workspace import services, teams

        # A customer's message reopens a resolved or snoozed conversation (in the storing transaction).
        hooks.inbound_stored.register(services.conversations_reopen_on_inbound)
        # A new customer's conversation goes to the team serving its number (round-robin: to its next member).
        hooks.inbound_stored.register(teams.conversations_route_on_inbound)
