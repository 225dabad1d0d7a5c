"""Set up the demo: an admin user, the sandbox provider, two accounts on it, synced.

Safe to run again: nothing is duplicated and nothing stored is lost (the admin
keeps its password; accounts are found by name and their credentials refreshed).

It lives in the simulator because it composes the portal (accounts, analytics) with the
simulator: the simulator sits on top and may use the portal's services, never the reverse.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import services
from accounts.models import ProviderAccount, WhatsAppBusinessAccount
from providers.base import ProviderError, sessions_clear

ALDEAMO_NAME = "Sandbox Aldeamo"
CV_NAME = "Sandbox Contacto Virtual"
# Contacto Virtual lists no numbers: the demo line is entered as an admin would.
DEMO_CV_LINE = "573001112233"


@contextmanager
def in_process(base_url: str):
    """Route provider calls for ``base_url`` to the in-process sandbox for the duration."""
    from accounts import gateway

    mounts = settings.PROVIDER_TRANSPORT_MOUNTS
    settings.PROVIDER_TRANSPORT_MOUNTS = {f"{base_url}/": "sandbox.transport.InProcessTransport"}
    gateway._transport.cache_clear()
    sessions_clear()
    try:
        yield
    finally:
        settings.PROVIDER_TRANSPORT_MOUNTS = mounts
        gateway._transport.cache_clear()
        sessions_clear()


class Command(BaseCommand):
    help = "Create the demo admin, provision the sandbox provider and sync the portal from it."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="Where the portal will be served.")
        parser.add_argument("--history-days", type=int, default=120, help="Days of analytics history to seed.")

    def handle(self, *args, base_url: str, history_days: int, **options):
        if not settings.SANDBOX_ENABLED:
            raise CommandError("The sandbox is disabled (SANDBOX_ENABLED=false): the demo needs it.")
        base_url = base_url.rstrip("/")
        admin = self._admin_user()

        from sandbox.services import sandbox_account_update_webhook, sandbox_provision

        creds = sandbox_provision(seed_history_days=history_days)
        aldeamo = self._account(
            ALDEAMO_NAME,
            provider="aldeamo",
            base_url=f"{base_url}/sandbox/aldeamo",
            user_id=creds.aldeamo_user_id,
            api_key=creds.aldeamo_api_key,
            analytics_token=creds.aldeamo_token,
        )
        cv = self._account(
            CV_NAME,
            provider="contacto_virtual",
            base_url=f"{base_url}/sandbox/contacto-virtual/",
            login=creds.cv_login,
            token=creds.cv_token,
            line_number=getattr(creds, "cv_line_number", "") or DEMO_CV_LINE,
        )
        sandbox_account_update_webhook(
            webhook_url=f"{base_url}{aldeamo.webhook_path}",
            cv_webhook_url=f"{base_url}{cv.webhook_path}",
        )

        # Sync now, in-process: the web server is not up yet.
        with in_process(base_url):
            for account in (aldeamo, cv):
                try:
                    result = services.provider_account_sync(account=account)
                except ProviderError as exc:
                    raise CommandError(f"Sync of {account} failed: {exc.message}") from exc
                self.stdout.write(
                    f"Synced {account}: {result.clients} clients, {result.wabas} WABAs, "
                    f"{result.phone_numbers} numbers, {result.templates} templates."
                )
            self._namespaces()
            self._analytics(history_days)
            self._living_inbox(base_url, admin)
        self.stdout.write(self.style.SUCCESS(f"Demo ready: {base_url}/admin/"))

    def _analytics(self, history_days: int) -> None:
        """Pull the sandbox's analytics history (daily) so the charts open full, and schedule the daily sync."""
        from analytics.daily import analytics_sync_recent
        from analytics.tasks import schedule_daily_sync

        try:
            analytics_sync_recent(days=history_days, granularities=["DAILY"])
        except ProviderError as exc:
            self.stdout.write(self.style.WARNING(f"Analytics sync failed: {exc.message}"))
        schedule_daily_sync()
        self.stdout.write(f"Analytics: {history_days} days synced; the daily sync is scheduled.")

    def _living_inbox(self, base_url: str, admin) -> None:
        """Earlier conversations and a finished campaign, then the customers who write in once serving.

        Only with ``SANDBOX_DEMO_ACTIVITY`` (on in the demo's settings, off in the tests').
        """
        import requests

        from sandbox.demo_activity import activity_enabled, demo_activity_start
        from sandbox.demo_history import demo_history_seed
        from sandbox.transport import InProcessTransport

        if not activity_enabled():
            return
        session = requests.Session()
        session.mount(f"{base_url}/", InProcessTransport())
        try:
            report = demo_history_seed(actor=admin, session=session)
        except ProviderError as exc:
            self.stdout.write(self.style.WARNING(f"Demo history failed: {exc.message}"))
            report = None
        finally:
            session.close()
        if report is not None:
            self.stdout.write(
                f"Demo history: {report.conversations} conversations, {report.replies} replies, "
                f"a campaign ({report.campaign})."
            )
        if demo_activity_start():
            self.stdout.write("Simulated customers start writing in once the workers run.")

    def _namespaces(self) -> None:
        """Fill each WABA's template namespace, as an admin copies it from the provider's console.

        Aldeamo's API lists WABAs without their namespace; template sends need it.
        """
        from sandbox.models import SandboxWaba

        known = dict(SandboxWaba.objects.values_list("waba_id", "name"))
        namespaces = dict(SandboxWaba.objects.values_list("waba_id", "namespace"))
        for waba in WhatsAppBusinessAccount.objects.filter(waba_id__in=namespaces, namespace=""):
            waba.namespace = namespaces[waba.waba_id]
            waba.name = waba.name or known.get(waba.waba_id, "")
            waba.save(update_fields=["namespace", "name", "updated_at"])

    def _admin_user(self):
        User = get_user_model()
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin")
        existing = User.objects.filter(username=username).first()
        if existing is not None:
            self.stdout.write(f"Admin user '{username}' exists; its password is unchanged.")
            return existing
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        generated = not password
        password = password or secrets.token_urlsafe(12)
        user = User.objects.create_superuser(
            username=username, email=os.environ.get("DJANGO_SUPERUSER_EMAIL", "admin@example.com"), password=password
        )
        if generated:
            self.stdout.write(self.style.WARNING(f"Admin user: {username}  password: {password}  (shown once)"))
        else:
            self.stdout.write(f"Admin user '{username}' created with DJANGO_SUPERUSER_PASSWORD.")
        return user

    @transaction.atomic
    def _account(self, name: str, **data) -> ProviderAccount:
        account = ProviderAccount.objects.filter(name=name, provider=data["provider"]).first()
        if account is None:
            return services.provider_account_create(actor=None, name=name, **data)
        data.pop("provider")
        return services.provider_account_update(account=account, actor=None, **data)
