from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Alerts and outgoing webhooks")

    def ready(self) -> None:
        # The lower apps fire hooks; this app listens (imports only point downward).
        from notifications import receivers

        receivers.register()
