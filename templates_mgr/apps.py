from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TemplatesMgrConfig(AppConfig):
    name = "templates_mgr"
    verbose_name = _("Templates")

    def ready(self) -> None:
        # An account's sync pulls its templates too; accounts sits below this app and never imports it.
        from accounts.services import templates_sync_register
        from templates_mgr.services import templates_sync_for_account

        templates_sync_register(templates_sync_for_account)
