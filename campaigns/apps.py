from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        from campaigns.selectors import contacts_campaign_condition
        from contacts.hooks import campaign_condition

        campaign_condition.register(contacts_campaign_condition)
