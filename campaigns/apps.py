from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        from campaigns import throttles
        from campaigns.selectors import contacts_campaign_condition
        from contacts.hooks import campaign_condition
        from messaging.hooks import statuses_changed

        campaign_condition.register(contacts_campaign_condition)
        # Throttling a status webhook reports after the send slows down and sends again (issue 21).
        statuses_changed.register(throttles.on_statuses_changed)
