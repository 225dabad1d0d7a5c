from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")

    def ready(self) -> None:
        from contacts import consent
        from messaging import hooks
        from messaging.sending import opted_out_policy_register

        hooks.inbound_stored.register(consent.on_inbound_stored)
        opted_out_policy_register(consent.opted_out_refuses)
