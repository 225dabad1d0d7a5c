from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TemplatesMgrConfig(AppConfig):
    name = "templates_mgr"
    verbose_name = _("Templates")

    def ready(self) -> None:
        # An account's sync pulls its templates, and its Setup box counts templates missing their id:
        # accounts sits below this app and never imports it (accounts/hooks.py).
        from accounts import hooks
        from templates_mgr.selectors import template_setup_notes
        from templates_mgr.services import templates_sync_for_account

        hooks.templates_sync.register(templates_sync_for_account)
        hooks.setup_notes.register(template_setup_notes)
