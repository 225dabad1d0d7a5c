"""Restart the tasks of campaigns whose workers went silent (e.g. a killed db_worker).

The campaign page does this for the campaign on screen; run this command from
cron (every minute or so) to recover campaigns nobody is watching.
"""

from django.core.management.base import BaseCommand

from campaigns.services import campaigns_recover


class Command(BaseCommand):
    help = "Start fresh tasks for running campaigns with no worker activity for CAMPAIGN_STALL_SECONDS."

    def handle(self, *args, **options):
        recovered = campaigns_recover()
        self.stdout.write(f"recovered {len(recovered)} campaign(s): {', '.join(map(str, recovered)) or '-'}")
